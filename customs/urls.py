"""Declaration pages, under /declarations/."""

from django.urls import path

from customs import views

app_name = "customs"

urlpatterns = [
    path("", views.declaration_list, name="list"),
    path("new/<slug:booking_reference>/", views.declaration_new, name="new"),
    path("clear-selected/", views.declarations_clear, name="clear-selected"),
    path("<slug:reference>/", views.declaration_detail, name="detail"),
    path("<slug:reference>/edit/", views.declaration_edit, name="edit"),
    path("<slug:reference>/submit/", views.declaration_submit, name="submit"),
    path("<slug:reference>/amend/", views.declaration_amend, name="amend"),
    path("<slug:reference>/decide/", views.declaration_decide, name="decide"),
    path("<slug:reference>/inspection/schedule/", views.declaration_schedule, name="schedule"),
    path("<slug:reference>/inspection/result/", views.declaration_record, name="record"),
]
