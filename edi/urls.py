"""UN/EDIFACT D.95B for legacy systems, mounted under /api/edi/."""

from django.urls import path

from edi import api

urlpatterns = [
    path("iftsta", api.IftstaView.as_view(), name="edi-iftsta"),
    path("inbound", api.InboundView.as_view(), name="edi-inbound"),
]
