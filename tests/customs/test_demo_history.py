"""The demo history that `make run` writes for the figures: real figures, and a second run changes nothing."""

from dataclasses import replace
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from bookings.models import Booking, Container, ContainerStatus
from customs.demo_history import demo_history_create
from customs.models import Declaration, DeclarationStatus
from figures.compute import figures_compute
from figures.query import figure_query
from inbound.models import ArrivingContainer, ReturnedEmpty
from intermodal.access import Actor
from intermodal.errors import InvalidInput
from intermodal.models import Event, Organisation, PartyKind
from stations.models import Direction

pytestmark = pytest.mark.django_db


def test_a_month_of_demo_history_gives_figures_events_and_rollups(db, api_client):
    """One month of demo history, seeded once (it takes most of this test's time), read three ways: the
    dashboard's figures, the events every feed and timeline shows, and the rollups, equal to the rows."""
    from intermodal.models import Scope
    from tests import factories
    from tracking.timeline import timeline_build

    call_command("seed_demo", "--quiet", verbosity=0)
    made = demo_history_create(days=30)

    # The figures, and a second run changes nothing.
    assert made > 0
    figures = figures_compute(figure_query(actor=Actor(organisation=Organisation.objects.get(code="demo-port"))))
    assert figures["on_schedule"]["containers"] > 0 and 80 <= figures["on_schedule"]["rate"] <= 100
    # Every past booking's declaration released, and the live imports' of seed_demo.
    released = Declaration.objects.filter(status=DeclarationStatus.RELEASED)
    assert released.filter(booking__reference__contains="-H").count() == made
    assert figures["empty_wait"]["median_hours"] > 0 and figures["clearance"]["released"] == released.count()
    assert figures["throughput"]["teu"] > 0 and figures["cost"]["saving"] > 0 and figures["cargo_mix"]
    before = Event.objects.count()
    assert demo_history_create(days=30) == 0 and Event.objects.count() == before
    assert Booking.objects.filter(reference__contains="-H").count() == made

    # Both ways: about a third of the containers are imports (the default share), in the states of a past import.
    containers = Container.objects.filter(booking__reference__contains="-H")
    share = containers.filter(booking__direction=Direction.IMPORT).count() / containers.count()
    assert 0.2 <= share <= 0.45
    assert set(containers.filter(booking__direction=Direction.IMPORT).values_list("status", flat=True)) <= {
        ContainerStatus.AT_STATION, ContainerStatus.DELIVERED, ContainerStatus.RETURNED}
    assert containers.filter(booking__direction=Direction.IMPORT, status=ContainerStatus.RETURNED).exists()
    imported = containers.filter(booking__direction=Direction.IMPORT, status=ContainerStatus.RETURNED).first()
    assert list(Event.objects.filter(equipment_reference=imported.number, booking_reference=imported.booking.reference)
                .order_by("event_datetime").values_list("event_code", "facility_kind", "empty_indicator")) == [
        ("DISC", "terminal", "LADEN"), ("LOAD", "terminal", "LADEN"), ("DISC", "station", "LADEN"),
        ("AVPU", "station", "LADEN"), ("GTOT", "station", "LADEN"), ("GTIN", "station", "EMPTY")]
    assert ArrivingContainer.objects.filter(booking=imported.booking, number=imported.number,
                                            discharged_at__isnull=False).exists()
    # Their empties are the stations' stock, and later exports there were handed some (match-back).
    matched = ReturnedEmpty.objects.filter(used_by__isnull=False).select_related("used_by__booking")
    assert matched.exists()
    assert all(r.used_by.number == r.number and r.used_by.booking.direction == Direction.EXPORT
               and r.used_at > r.returned_at for r in matched)

    # Its events, so that every feed and timeline has a past.
    booking = Booking.objects.filter(reference__contains="-H", direction=Direction.EXPORT).order_by("reference").first()
    number = booking.containers.order_by("number").first().number
    journey = list(Event.objects.filter(equipment_reference=number).order_by("event_datetime")
                   .values_list("event_code", "facility_kind", "mode_of_transport"))
    assert journey == [("GTOT", "station", ""), ("GTIN", "station", ""), ("LOAD", "station", "RAIL"),
                       ("DISC", "terminal", "RAIL"), ("GTIN", "terminal", ""), ("LOAD", "terminal", "VESSEL")]
    history = Event.objects.filter(booking_reference__contains="-H")
    assert history.count() > 0
    assert all(e.created_at == e.event_datetime < timezone.now() for e in history)
    timeline = timeline_build(booking=booking)
    assert all(step.done for step in timeline.steps)
    _key, raw = factories.api_key(booking.shipper, scopes=[Scope.EVENTS_READ])
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    ours = api_client.get("/api/v1/events/?page_size=1000").json()["results"]
    dcsa = api_client.get("/api/dcsa/tnt/v2/events?limit=1000").json()
    assert {e["event_code"] for e in ours} >= {"CONF", "AVPU", "GTOT", "GTIN", "LOAD", "DISC", "DEPA", "ARRI",
                                              "SUBM", "RELS"}
    assert {e["eventType"] for e in dcsa} == {"SHIPMENT", "TRANSPORT", "EQUIPMENT"}

    # Rolled up (`seed_demo_history` refreshes them): every party's figures are the same read from the rows and
    # from the rollups, down to each month's percentiles and each station's prices.
    call_command("figures_refresh", full=True, stdout=StringIO())
    compared = 0
    for organisation in Organisation.objects.exclude(kind=PartyKind.ENTERPRISE).filter(code__startswith="demo-"):
        actor = Actor(organisation=organisation)
        try:
            query = figure_query(actor=actor)
        except InvalidInput:  # parties without figures (a forwarder, a carrier)
            continue
        assert query.rolled_through == timezone.localdate() - timedelta(days=1)
        assert figures_compute(query) == figures_compute(replace(query, rolled_through=None)), organisation.code
        compared += 1
    assert compared >= 4


def test_the_import_share_is_an_option(db):
    call_command("seed_demo", "--quiet", verbosity=0)

    call_command("seed_demo_history", "--days", "4", "--import-share", "0", stdout=StringIO())

    history = Booking.objects.filter(reference__contains="-H")
    assert history.exists() and not history.filter(direction=Direction.IMPORT).exists()
    with pytest.raises(CommandError):
        call_command("seed_demo_history", "--import-share", "1.5", stdout=StringIO())
