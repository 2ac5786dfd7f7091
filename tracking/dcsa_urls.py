"""DCSA Track & Trace 2.2.0 events, under /api/dcsa/tnt/v2/."""

from django.urls import path

from tracking import dcsa

urlpatterns = [
    path("events", dcsa.DcsaEventListView.as_view(), name="dcsa-events"),
    path("events/<str:eventID>", dcsa.DcsaEventDetailView.as_view(), name="dcsa-event"),
]
