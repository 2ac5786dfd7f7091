"""Operations pages, under /operations/: station board and scan, railway, port, imports, and signed-in tracking."""

from django.urls import path

from operations import import_views as imports
from operations import views as operations
from tracking import views as tracking_views

app_name = "operations"

urlpatterns = [
    path("station/", operations.station_board, name="station-board"),
    path("station/empty-requests/<int:pk>/ready/", operations.empty_request_ready, name="empty-ready"),
    path("station/empty-requests/<int:pk>/hand-out/", operations.empty_hand_out, name="empty-hand-out"),
    path("station/departures/<slug:reference>/load-all/", operations.load_all_ready, name="load-all"),
    path("scan/", operations.scan, name="scan"),
    path("railway/", operations.railway_departures, name="railway"),
    path("railway/<slug:reference>/", operations.railway_manifest, name="manifest"),
    path("railway/<slug:reference>/departed/", operations.train_departed, name="departed"),
    path("railway/<slug:reference>/confirm-manifest/", operations.manifest_confirm, name="manifest-confirm"),
    path("railway/<slug:reference>/arrived/", operations.train_arrived, name="arrived"),
    path("railway/<slug:reference>/delay/", operations.train_delay, name="delay"),
    path("port/", operations.port_page, name="port"),
    path("port/containers/<str:number>/discharge/", operations.train_discharge, name="discharge"),
    path("port/containers/<str:number>/gate-in/", operations.terminal_gate_in, name="terminal-gate-in"),
    path("port/vessel/<slug:reference>/", operations.vessel_loading_list, name="vessel"),
    path("port/vessel/<slug:reference>/containers/<str:number>/load/", operations.vessel_load, name="vessel-load"),
    path("port/vessel/<slug:reference>/sailed/", operations.vessel_sailed, name="sailed"),
    path("port/vessel/<slug:reference>/load-selected/", operations.vessel_load_selected, name="vessel-load-selected"),
    path("port/vessel/<slug:reference>/estimate/", operations.vessel_estimate, name="vessel-estimate"),
    # Imports: the consignee's page, the station's import yard, the port's arriving vessels and outbound trains.
    path("imports/", imports.consignee_imports, name="imports"),
    path("imports/bookings/<slug:reference>/move/", imports.booking_move, name="import-booking-move"),
    path("station/imports/", imports.import_yard, name="import-yard"),
    path("station/imports/<str:number>/discharge/", imports.yard_discharge, name="import-discharge"),
    path("station/imports/<str:number>/gate-out/", imports.yard_gate_out, name="import-gate-out"),
    path("station/imports/<str:number>/empty-return/", imports.yard_empty_return, name="empty-return"),
    path("port/imports/", imports.port_imports, name="port-imports"),
    path("port/imports/vessel/<slug:reference>/", imports.call_arrivals, name="arrivals"),
    path("port/imports/vessel/<slug:reference>/announce/", imports.call_announce, name="announce"),
    path("port/imports/vessel/<slug:reference>/arrived/", imports.call_arrived, name="vessel-arrived"),
    path("port/imports/vessel/<slug:reference>/containers/<str:number>/discharge/", imports.call_discharge,
         name="vessel-discharge"),
    path("port/imports/vessel/<slug:reference>/containers/<str:number>/release/", imports.call_hold_lift,
         name="hold-lift"),
    path("port/imports/containers/<str:number>/load/", imports.outbound_load, name="import-load"),
    path("port/imports/departures/<slug:reference>/load-all/", imports.outbound_load_all, name="import-load-all"),
    path("track/", tracking_views.track, name="track"),
    path("events/<uuid:event_id>/correct/", operations.event_correct_page, name="event-correct"),
]
