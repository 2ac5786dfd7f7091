"""Documents: the bill of lading (requested and issued from the booking page, verified by anyone through its QR
code) and train manifests (PDF and CSV)."""

from django.urls import path

from documents import views

app_name = "documents"

urlpatterns = [
    path("bookings/<slug:reference>/bill-of-lading/", views.request_view, name="bill-request"),
    path("bookings/<slug:reference>/bill-of-lading/issue/", views.issue_view, name="bill-issue"),
    path("bookings/<slug:reference>/bill-of-lading.pdf", views.pdf_view, name="bill-pdf"),
    path("bookings/<slug:reference>/confirmation.pdf", views.booking_confirmation_view, name="booking-confirmation"),
    path("bookings/<slug:reference>/containers/<str:number>/eir-<str:direction>.pdf", views.eir_view, name="eir"),
    path("bookings/<slug:reference>/containers/<str:number>/label.pdf", views.container_label_view,
         name="container-label"),
    path("bl/<str:token>/", views.verify_view, name="bill-of-lading-verify"),
    path("departures/<slug:reference>/manifest.<str:file_format>", views.manifest_view, name="manifest"),
]
