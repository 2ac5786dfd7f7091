from django.urls import path
from rest_framework.routers import SimpleRouter

from bookings import api

router = SimpleRouter(trailing_slash=True)
router.register("bookings", api.BookingViewSet, basename="booking")

urlpatterns = [
    path("connections/", api.ConnectionView.as_view(), name="api-connections"),
    path("quotes/", api.QuoteView.as_view(), name="api-quotes"),
    *router.urls,
]
