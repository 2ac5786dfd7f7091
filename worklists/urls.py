"""The home page of every party (its work queue first, then the network), and the search box of every page."""

from django.urls import path

from worklists import search, views

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", search.search, name="search"),
]
