from django.urls import path

from inbound import api

urlpatterns = [
    path("arrivals/", api.ArrivalsView.as_view(), name="api-arrivals"),
    path("vessel-calls/<slug:reference>/arrivals/", api.AnnounceView.as_view(), name="api-arrivals-announce"),
    path("bookings/import/", api.ImportBookingCreateView.as_view(), name="api-import-booking-create"),
    path("bookings/<str:reference>/move/", api.ImportBookingMoveView.as_view(), name="api-import-booking-move"),
]
