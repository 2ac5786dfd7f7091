"""DCSA Booking 2.0.5, under /api/dcsa/bkg/v2/."""

from django.urls import path

from bkg import dcsa

urlpatterns = [
    path("bookings", dcsa.BookingsView.as_view(), name="dcsa-bkg-bookings"),
    path("bookings/<str:bookingReference>", dcsa.BookingView.as_view(), name="dcsa-bkg-booking"),
]
