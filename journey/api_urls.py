from django.urls import path

from journey import api, imports_api

urlpatterns = [
    path("events/", api.EventsView.as_view(), name="api-events"),
    path("events/<uuid:event_id>/corrections/", api.EventCorrectionView.as_view(), name="api-event-correction"),
    path("vessel-calls/<slug:reference>/arrivals/<str:number>/release/", imports_api.HoldReleaseView.as_view(),
         name="api-arrival-release"),
    path("import-containers/", imports_api.ImportContainersView.as_view(), name="api-import-containers"),
]
