"""Bill of lading pages: requested and issued from the booking page, verified by anyone through its QR code."""

from django.urls import path

from documents import views

app_name = "documents"

urlpatterns = [
    path("bookings/<slug:reference>/bill-of-lading/", views.request_view, name="bill-request"),
    path("bookings/<slug:reference>/bill-of-lading/issue/", views.issue_view, name="bill-issue"),
    path("bookings/<slug:reference>/bill-of-lading.pdf", views.pdf_view, name="bill-pdf"),
    path("bl/<str:token>/", views.verify_view, name="bill-of-lading-verify"),
]
