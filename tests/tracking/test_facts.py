"""The tracking read model (tracking/facts.py): the facts the database keeps as events are written tell every
timeline what its events tell it, over the demo network's traffic and history (exports and imports, corrections,
imports booked after their discharge); a bulk load left out is made again; the check finds a wrong row."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Q

from bookings.models import Booking, Container
from customs.demo_history import demo_history_create
from intermodal.access import Actor
from intermodal.models import Event
from journey import imports
from journey.corrections import event_correct
from tests.imports.conftest import NUMBERS, announce, book_import, corridor  # noqa: F401 - a fixture
from tracking import timeline as tracking
from tracking.facts import Fact, facts_from_events, facts_read, facts_rebuild

pytestmark = pytest.mark.django_db


def _events_told(booking: Booking, containers: list[Container], one: bool) -> list[Event]:
    """The events a timeline read before the read model (tracking/timeline.py until 2026-12-06): the booking's
    own (of its one container), an import's boxes' discharge from its vessel, its train's and vessel's; none a
    correction replaced."""
    rail, vessel = booking.departure.reference, booking.vessel_call.reference
    own = Q(booking_reference=booking.reference)
    if one:
        own &= Q(equipment_reference=containers[0].number)
    if booking.is_import:
        own |= Q(equipment_reference__in=[c.number for c in containers], event_type="EQUIPMENT", event_code="DISC",
                 transport_reference=vessel)
    events = list(Event.objects.filter(own | Q(transport_reference__in=[rail, vessel], event_type="TRANSPORT")))
    replaced = {event.supersedes_id for event in events if event.supersedes_id}
    return [event for event in events if event.pk not in replaced]


def _each_event_a_fact(events: list[Event]) -> list[Fact]:
    """Every event on its own, as the timeline read them before: no first reports kept, nothing merged."""
    return sorted((Fact(e.event_code, e.classifier, e.facility_kind, e.transport_reference, e.event_datetime, e.pk,
                        e.supersedes_id is not None, e.event_datetime)
                   for e in events), key=lambda fact: (fact.event_datetime, fact.pk))


def _steps(timeline: tracking.Timeline) -> list[tuple]:
    return [(s.key, s.place, s.planned, s.estimated, s.actual, s.deadline, s.corrected, s.event.pk if s.event else None)
            for s in timeline.steps]


def _timelines_as_their_events_tell(monkeypatch) -> int:
    """Every booking's and container's timeline from the kept facts equals the one its events tell, read as
    before; how many were compared."""
    compared = 0
    bookings = Booking.objects.select_related("departure__service__station", "departure__service__terminal",
                                              "vessel_call__terminal").prefetch_related("containers")
    for booking in bookings:
        containers = sorted(booking.containers.all(), key=lambda c: c.number)
        for one in [None, *containers]:
            told = _events_told(booking, [one] if one else containers, one is not None)
            kept = tracking._facts_for(booking, [one] if one else containers, one is not None)
            assert kept == facts_read(facts_from_events(told)), (booking.reference, one and one.number)
            expected = tracking.timeline_build(booking=booking, container=one, containers=containers)
            with monkeypatch.context() as patch:
                patch.setattr(tracking, "_facts_for", lambda *args, told=told, **kwargs: _each_event_a_fact(told))
                as_before = tracking.timeline_build(booking=booking, container=one, containers=containers)
            assert _steps(expected) == _steps(as_before), (booking.reference, one and one.number)
            compared += 1
    return compared


def test_every_timeline_of_the_demo_traffic_and_its_history_is_what_its_events_tell(monkeypatch):
    call_command("seed_demo", "--quiet", stdout=io.StringIO())
    demo_history_create(days=30)
    imports = Booking.objects.filter(direction="import")
    assert imports.exists() and Booking.objects.filter(direction="export").exists()
    assert _timelines_as_their_events_tell(monkeypatch) > 100
    assert facts_rebuild(keep=False) == {"containers": 0, "bookings": 0, "departures": 0, "vessel calls": 0}


def _corrected_gate_in(booking: Booking) -> tuple[Event, Event]:
    gate_in = Event.objects.filter(booking_reference=booking.reference, event_code="GTIN",
                                   facility_kind="terminal", classifier="ACT", superseded_by__isnull=True).first()
    port = Actor(organisation=gate_in.reported_by_organisation)
    correction = event_correct(actor=port, event=gate_in, at=gate_in.event_datetime - timedelta(minutes=20),
                               confirmed=True)
    return gate_in, correction


def test_a_correction_replaces_the_first_report_in_the_facts_and_is_marked(monkeypatch):
    call_command("seed_demo", "--quiet", stdout=io.StringIO())
    demo_history_create(days=5)
    booking = Booking.objects.filter(
        direction="export", reference__in=Event.objects.filter(
            event_code="GTIN", facility_kind="terminal", classifier="ACT").values("booking_reference")).first()
    original, correction = _corrected_gate_in(booking)
    container = booking.containers.get(number=original.equipment_reference)
    container.refresh_from_db()
    fact = container.facts[f"GTIN|ACT|terminal|{original.transport_reference}"]
    assert fact[1] == correction.pk and len(fact) == 4  # [first, id, last, 1]: a correction
    timeline = tracking.reports_read(tracking.timeline_build(booking=booking, container=container))
    step = next(s for s in timeline.steps if s.key == "terminal_gate_in")
    assert step.actual == correction.event_datetime and step.corrected
    assert (step.event.event_id, step.event.reported_by_organisation_id) == (
        correction.event_id, correction.reported_by_organisation_id)
    assert _timelines_as_their_events_tell(monkeypatch) > 0


def test_a_bulk_load_left_out_is_found_by_the_check_and_made_again():
    call_command("seed_demo", "--quiet", stdout=io.StringIO())
    container = Container.objects.filter(booking__direction="export", facts__isnull=False).first()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL tracking.facts = 'off'")
        event = Event.objects.create(
            event_type="EQUIPMENT", event_code="GTOT", classifier="ACT", booking_reference=container.booking.reference,
            equipment_reference=container.number, event_datetime=container.assigned_at - timedelta(days=400))
        cursor.execute("SET LOCAL tracking.facts = 'on'")
    container.refresh_from_db()
    assert "GTOT|ACT||" not in container.facts or container.facts["GTOT|ACT||"][1] != event.pk
    with pytest.raises(CommandError, match="1 containers"):
        call_command("tracking_facts", "--check", stdout=io.StringIO())
    call_command("tracking_facts", "--rebuild", stdout=io.StringIO())
    container.refresh_from_db()
    assert container.facts["GTOT|ACT||"][1] == event.pk
    out = io.StringIO()
    call_command("tracking_facts", "--check", stdout=out)
    assert "what its events say" in out.getvalue()



def test_an_import_booked_after_its_discharge_starts_with_it_and_a_booking_sees_only_its_own(corridor,  # noqa: F811
                                                                                             monkeypatch):
    a = corridor.actors
    announce(corridor, NUMBERS[:2])
    imports.vessel_arrive(actor=a.port, vessel_call=corridor.call, confirmed=True)
    imports.vessel_discharge(actor=a.port, number=NUMBERS[0])  # not booked yet: the event names no booking
    discharge = Event.objects.get(event_code="DISC", equipment_reference=NUMBERS[0])
    assert discharge.booking_reference == ""
    booking = book_import(corridor, NUMBERS[:2])
    first, second = booking.containers.order_by("number")
    assert first.number == NUMBERS[0]
    assert first.facts[f"DISC|ACT|terminal|{corridor.call.reference}"][1] == discharge.pk
    imports.vessel_discharge(actor=a.port, number=NUMBERS[1])  # booked: merged as it is written
    second.refresh_from_db()
    assert f"DISC|ACT|terminal|{corridor.call.reference}" in second.facts
    step = next(s for s in tracking.track_lookup(actor=a.consignee, key=NUMBERS[0]).steps
                if s.key == "vessel_discharge")
    assert step.actual == discharge.event_datetime
    assert _timelines_as_their_events_tell(monkeypatch) == 3


def test_the_database_keeps_the_facts_of_the_codes_a_timeline_reads():
    import importlib

    from tracking.facts import TOLD_BY

    migration = importlib.import_module("tracking.migrations.0001_facts")
    read = {code for code, _transport, _place in tracking._STEP_SOURCES.values()} | {"REQS", "GTOT", "MISS", "DEPA"}
    assert set(migration.CODES) == TOLD_BY and read <= TOLD_BY


def test_a_corrected_vessel_arrival_moves_the_arrival_not_the_sailing(corridor, monkeypatch):  # noqa: F811
    a, call = corridor.actors, corridor.call
    announce(corridor, NUMBERS[:1])
    book_import(corridor, NUMBERS[:1])
    imports.vessel_arrive(actor=a.port, vessel_call=call, confirmed=True)
    arrival = Event.objects.get(event_code="ARRI", transport_reference=call.reference)
    correction = event_correct(actor=a.port, event=arrival, at=arrival.event_datetime - timedelta(minutes=40),
                               confirmed=True)
    call.refresh_from_db()
    assert call.actual_arrival == correction.event_datetime and call.actual_departure is None
    step = next(s for s in tracking.track_lookup(actor=a.consignee, key=NUMBERS[0]).steps if s.key == "vessel_arrives")
    assert step.actual == correction.event_datetime and step.corrected
    assert _timelines_as_their_events_tell(monkeypatch) == 2
