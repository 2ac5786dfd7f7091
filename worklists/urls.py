"""The home page of every party: its work queue first, then the network."""

from django.urls import path

from worklists import views

urlpatterns = [
    path("", views.home, name="home"),
]
