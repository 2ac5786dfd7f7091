from django.urls import path

from tracking import api

urlpatterns = [
    path("track/<str:key>/", api.TrackView.as_view(), name="api-track"),
]
