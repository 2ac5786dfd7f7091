from django.urls import path

from journey import api

urlpatterns = [
    path("events/", api.EventsView.as_view(), name="api-events"),
]
