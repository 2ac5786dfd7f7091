"""Figures pages, under /figures/."""

from django.urls import path

from figures import views as figures_views

app_name = "figures"

urlpatterns = [
    path("", figures_views.dashboard, name="dashboard"),
    path("export.<str:file_format>", figures_views.figures_export, name="export"),
]
