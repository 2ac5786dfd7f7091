from django.urls import path

from documents import views

urlpatterns = [
    path("bookings/<slug:reference>/bill-of-lading/", views.BillOfLadingView.as_view(), name="api-bill-of-lading"),
    path("bookings/<slug:reference>/bill-of-lading/issue/", views.BillOfLadingIssueView.as_view(),
         name="api-bill-of-lading-issue"),
    path("bookings/<slug:reference>/bill-of-lading/pdf/", views.BillOfLadingPdfView.as_view(),
         name="api-bill-of-lading-pdf"),
]
