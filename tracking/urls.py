"""Public tracking (anyone with a container number and its booking reference); the bookings list's events export."""

from django.urls import path

from tracking import views

urlpatterns = [
    path("track/", views.tracking_public, name="track-public"),
    path("bookings/export/events.<str:file_format>", views.events_export, name="events-export"),
]
