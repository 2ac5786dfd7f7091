"""The home page: what needs the signed-in party's action now (its work queue), then the network overview
(stations, next departures with free TEU, vessel calls with their cut-offs)."""

from django.shortcuts import render

from intermodal.access import Actor
from stations.maps import network_map
from stations.selectors import network_overview
from worklists.queues import work_queue


def home(request):
    actor = Actor.from_request(request)
    overview = network_overview(actor=actor)
    focus = {station.code for station in overview["stations"] if station.is_focus}
    drawn = network_map(focus=focus, stations=overview["stations"], near_port=True)
    return render(request, "home.html", {**overview, "work": work_queue(actor), "map": drawn})
