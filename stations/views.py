"""The home page: the network, next departures with free TEU, vessel calls with their cut-offs."""

from django.shortcuts import render

from intermodal.access import Actor
from stations.selectors import network_overview


def home(request):
    actor = Actor.from_request(request)
    return render(request, "home.html", network_overview(actor=actor))
