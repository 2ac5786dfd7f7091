from django.urls import path

from journey import api

urlpatterns = [
    path("events/", api.EventsView.as_view(), name="api-events"),
    path("events/<uuid:event_id>/corrections/", api.EventCorrectionView.as_view(), name="api-event-correction"),
]
