"""The home page: what needs the signed-in party's action now (its work queue), then the network overview
(stations, next departures with free TEU, vessel calls with their cut-offs)."""

from django.shortcuts import render

from intermodal.access import Actor
from stations.selectors import network_overview
from worklists.queues import work_queue


def home(request):
    actor = Actor.from_request(request)
    return render(request, "home.html", {**network_overview(actor=actor), "work": work_queue(actor)})
