"""DCSA Commercial Schedules 1.0.3, under /api/dcsa/cs/v1/."""

from django.urls import path

from schedules import dcsa

urlpatterns = [
    path("point-to-point-routes", dcsa.PointToPointView.as_view(), name="dcsa-cs-point-to-point"),
    path("port-schedules", dcsa.PortScheduleView.as_view(), name="dcsa-cs-port-schedules"),
    path("vessel-schedules", dcsa.VesselScheduleView.as_view(), name="dcsa-cs-vessel-schedules"),
]
