"""Booking pages, under /bookings/."""

from django.urls import path

from bookings import csv_views, views

app_name = "bookings"

urlpatterns = [
    path("", views.booking_list, name="list"),
    path("new/", views.booking_new, name="new"),
    path("export/<str:kind>.<str:file_format>", csv_views.export, name="export"),
    path("import/", csv_views.import_start, name="import"),
    path("import/template.csv", csv_views.import_template, name="import-template"),
    path("import/<int:pk>/", csv_views.import_detail, name="import-detail"),
    path("import/<int:pk>/progress.json", csv_views.import_progress, name="import-progress"),
    path("<slug:reference>/", views.booking_detail, name="detail"),
    path("<slug:reference>/confirm/", views.booking_confirm, name="confirm"),
    path("<slug:reference>/cancel/", views.booking_cancel, name="cancel"),
    path("<slug:reference>/amend/", views.booking_amend, name="amend"),
    path("<slug:reference>/roll/", views.booking_roll, name="roll"),
    path("<slug:reference>/move/", views.booking_move, name="move"),
    path("<slug:reference>/empties/", views.booking_request_empties, name="empties"),
    path("<slug:reference>/containers/", views.booking_add_container, name="add-container"),
]
