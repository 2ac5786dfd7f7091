"""The container journey from an inland station to the vessel, step by step, with the actors who may take each."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bookings import services as bookings_services
from bookings.models import BookingStatus, Container, ContainerStatus, EmptyRequestStatus
from intermodal.access import Actor
from intermodal.errors import NotAllowed, StateConflict
from intermodal.models import Event, OutboxMessage, PartyKind
from journey import services as journey
from stations.models import Departure, DepartureStatus, VesselCall
from tests import factories
from tests.bookings.conftest import book

pytestmark = pytest.mark.django_db

NUMBERS = ["CSQU3054383", "TCNU7200794", "TOLU4734787"]


@pytest.fixture
def parties(connecting):
    network = connecting.network
    return {
        "station": Actor(organisation=network.operator, user=factories.user(network.operator)),
        "railway": Actor(organisation=network.railway, user=factories.user(network.railway)),
        "port": Actor(organisation=network.port, user=factories.user(network.port)),
    }


def vgm(n: int = 0) -> dict:
    return {"seal_number": f"SEAL{n:05d}", "vgm_kg": Decimal("24500"), "vgm_method": 1, "vgm_signatory": "Chen Jie"}


def to_station(shipper, connecting, parties, count: int = 3):
    """Book, ask for empties, have them handed out and gated in laden: the part of the journey at the station."""
    booking = book(shipper.actor, connecting, lines={"42G1": count})
    request = bookings_services.empty_request_create(actor=shipper.actor, booking=booking, size_type="42G1",
                                                     quantity=count)
    journey.empty_request_ready(actor=parties["station"], request=request)
    for n, number in enumerate(NUMBERS[:count]):
        journey.empty_hand_out(actor=parties["station"], request=request, number=number)
        journey.laden_gate_in(confirmed=True, actor=parties["station"], number=number, **vgm(n))
    return booking, request


def test_the_whole_journey_of_a_three_container_booking(shipper, connecting, parties):
    booking, request = to_station(shipper, connecting, parties)
    departure, call = connecting.departure, connecting.vessel_call
    leaves = departure.planned_departure

    loaded = journey.train_load_all_ready(confirmed=True, actor=parties["station"], departure=departure)
    journey.train_depart(confirmed=True, actor=parties["railway"], departure=departure, at=leaves)
    journey.train_arrive(confirmed=True, actor=parties["railway"], departure=departure, at=leaves + timedelta(hours=8))
    for number in NUMBERS:
        journey.train_discharge(confirmed=True, actor=parties["port"], number=number)
        journey.terminal_gate_in(confirmed=True,
            actor=parties["port"], number=number, at=call.cy_cutoff - timedelta(hours=2))
    booking.refresh_from_db()
    at_port = booking.status
    factories.declaration_released(booking)  # pre-release: cleared inland, loaded without a second check
    for number in NUMBERS:
        journey.vessel_load(confirmed=True, actor=parties["port"], number=number)
    booking.refresh_from_db()
    loaded_status = booking.status
    journey.vessel_depart(confirmed=True, actor=parties["port"], vessel_call=call)

    booking.refresh_from_db()
    request.refresh_from_db()
    assert [c.number for c in loaded] == sorted(NUMBERS)
    assert at_port == BookingStatus.AT_PORT
    assert loaded_status == BookingStatus.LOADED
    assert booking.status == BookingStatus.SAILED
    assert set(Container.objects.filter(booking=booking).values_list("status", flat=True)) == {ContainerStatus.SAILED}
    assert not Container.objects.filter(booking=booking, is_active=True).exists()
    assert request.status == EmptyRequestStatus.PICKED_UP
    assert request.wait is not None
    assert Departure.objects.get(pk=departure.pk).status == DepartureStatus.ARRIVED
    assert VesselCall.objects.get(pk=call.pk).actual_departure is not None
    codes = list(Event.objects.filter(equipment_reference=NUMBERS[0]).order_by("id").values_list("event_code",
                                                                                                  flat=True))
    assert codes == ["GTOT", "GTIN", "LOAD", "DISC", "GTIN", "LOAD"]
    transport = list(Event.objects.filter(event_type="TRANSPORT").order_by("id").values_list("event_code",
                                                                                            "transport_reference"))
    assert transport == [("DEPA", departure.reference), ("ARRI", departure.reference), ("DEPA", call.reference)]
    assert OutboxMessage.objects.count() == Event.objects.count()


def assert_refused_and_nothing_written(step, code: str | None = None, refusal=StateConflict):
    events, outbox = Event.objects.count(), OutboxMessage.objects.count()
    statuses = dict(Container.objects.values_list("number", "status"))
    with pytest.raises(refusal) as error:
        step()
    assert Event.objects.count() == events
    assert OutboxMessage.objects.count() == outbox
    assert dict(Container.objects.values_list("number", "status")) == statuses
    if code:
        assert error.value.code == code
    return error.value


def test_load_on_the_vessel_before_terminal_gate_in_is_refused(shipper, connecting, parties):
    to_station(shipper, connecting, parties, count=1)
    journey.train_load(confirmed=True, actor=parties["station"], number=NUMBERS[0])

    error = assert_refused_and_nothing_written(
        lambda: journey.vessel_load(confirmed=True, actor=parties["port"], number=NUMBERS[0]), "illegal_step")

    assert "loaded on the train" in error.message


def test_gate_in_of_an_unknown_container_is_refused(shipper, connecting, parties):
    to_station(shipper, connecting, parties, count=1)

    error = assert_refused_and_nothing_written(
        lambda: journey.laden_gate_in(confirmed=True,
            actor=parties["station"], number="GYOU4047990", **vgm()), "unknown_container")

    assert "GYOU4047990" in error.message


def test_staff_of_another_station_cannot_act(shipper, connecting, parties):
    booking = book(shipper.actor, connecting, lines={"42G1": 1})
    request = bookings_services.empty_request_create(actor=shipper.actor, booking=booking, size_type="42G1", quantity=1)
    elsewhere = Actor(organisation=factories.organisation(PartyKind.STATION_OPERATOR, code="jinhua-ops"))

    error = assert_refused_and_nothing_written(
        lambda: journey.empty_hand_out(actor=elsewhere, request=request, number=NUMBERS[0]), "not_your_place",
        NotAllowed)

    assert error.status == 403
    assert not Container.objects.exists()


def test_a_railway_only_reports_its_own_departures(shipper, connecting, parties):
    to_station(shipper, connecting, parties, count=1)
    other_railway = Actor(organisation=factories.organisation(PartyKind.RAILWAY))

    assert_refused_and_nothing_written(
        lambda: journey.train_depart(confirmed=True,
            actor=other_railway, departure=connecting.departure), "not_your_place",
        NotAllowed)
    assert_refused_and_nothing_written(
        lambda: journey.train_depart(confirmed=True,
            actor=parties["port"], departure=connecting.departure), "not_your_place",
        NotAllowed)


def test_the_port_only_acts_at_its_terminals(shipper, connecting, parties):
    to_station(shipper, connecting, parties, count=1)
    journey.train_load(confirmed=True, actor=parties["station"], number=NUMBERS[0])
    journey.train_depart(confirmed=True, actor=parties["railway"], departure=connecting.departure)
    journey.train_arrive(confirmed=True, actor=parties["railway"], departure=connecting.departure,
                         at=timezone.now() + timedelta(hours=8))
    other_port = Actor(organisation=factories.organisation(PartyKind.PORT))

    assert_refused_and_nothing_written(
        lambda: journey.train_discharge(confirmed=True,
            actor=other_port, number=NUMBERS[0]), "not_your_place", NotAllowed)


def test_steps_out_of_order_are_refused(shipper, connecting, parties):
    to_station(shipper, connecting, parties, count=1)

    assert_refused_and_nothing_written(
        lambda: journey.train_arrive(confirmed=True,
            actor=parties["railway"], departure=connecting.departure), "illegal_step")
    assert_refused_and_nothing_written(
        lambda: journey.laden_gate_in(confirmed=True,
            actor=parties["station"], number=NUMBERS[0], **vgm()), "illegal_step")
    assert_refused_and_nothing_written(
        lambda: journey.train_discharge(confirmed=True, actor=parties["port"], number=NUMBERS[0]), "illegal_step")


def test_a_container_that_missed_the_cut_off_is_not_loaded(shipper, connecting, parties):
    to_station(shipper, connecting, parties, count=1)
    journey.train_load(confirmed=True, actor=parties["station"], number=NUMBERS[0])
    journey.train_depart(confirmed=True, actor=parties["railway"], departure=connecting.departure)
    journey.train_arrive(confirmed=True, actor=parties["railway"], departure=connecting.departure,
                         at=timezone.now() + timedelta(hours=8))
    journey.train_discharge(confirmed=True, actor=parties["port"], number=NUMBERS[0])
    journey.terminal_gate_in(confirmed=True, actor=parties["port"], number=NUMBERS[0],
                             at=connecting.vessel_call.cy_cutoff + timedelta(minutes=5))

    error = assert_refused_and_nothing_written(
        lambda: journey.vessel_load(confirmed=True, actor=parties["port"], number=NUMBERS[0]), "missed_cutoff")

    assert "roll" in error.message


def test_vessel_loading_checks_of_other_apps_are_honoured(shipper, connecting, parties, monkeypatch):
    to_station(shipper, connecting, parties, count=1)
    journey.train_load(confirmed=True, actor=parties["station"], number=NUMBERS[0])
    journey.train_depart(confirmed=True, actor=parties["railway"], departure=connecting.departure)
    journey.train_arrive(confirmed=True, actor=parties["railway"], departure=connecting.departure,
                         at=timezone.now() + timedelta(hours=8))
    journey.train_discharge(confirmed=True, actor=parties["port"], number=NUMBERS[0])
    journey.terminal_gate_in(confirmed=True, actor=parties["port"], number=NUMBERS[0])

    def customs_hold(container, **_decided):
        raise StateConflict("Not released by customs.", code="not_released")

    monkeypatch.setattr(journey, "vessel_loading_customs_check", customs_hold)

    assert_refused_and_nothing_written(
        lambda: journey.vessel_load(confirmed=True, actor=parties["port"], number=NUMBERS[0]), "not_released")


def test_containers_not_loaded_stay_behind_when_the_train_leaves(shipper, connecting, parties):
    booking, _request = to_station(shipper, connecting, parties, count=2)
    journey.train_load(confirmed=True, actor=parties["station"], number=NUMBERS[0])

    journey.train_depart(confirmed=True, actor=parties["railway"], departure=connecting.departure)

    statuses = dict(Container.objects.values_list("number", "status"))
    booking.refresh_from_db()
    assert statuses == {NUMBERS[0]: ContainerStatus.DEPARTED, NUMBERS[1]: ContainerStatus.GATED_IN}
    assert booking.status == BookingStatus.IN_TRANSIT


def test_a_delay_puts_the_booking_at_risk(shipper, connecting, parties):
    booking = book(shipper.actor, connecting)
    assert not booking.is_at_risk

    journey.departure_estimate(actor=parties["railway"], departure=connecting.departure,
                               estimated_departure=connecting.departure.planned_departure + timedelta(hours=30),
                               reason="Line works near Jinhua")

    booking.refresh_from_db()
    booking.departure.refresh_from_db()
    event = Event.objects.filter(classifier="EST").order_by("id").first()
    assert booking.is_at_risk
    assert booking.eta_at_terminal > connecting.vessel_call.cy_cutoff
    assert event.reason == "Line works near Jinhua"
    assert event.event_code == "DEPA"


def test_empty_requests_cannot_exceed_the_booking(shipper, connecting, parties):
    from intermodal.errors import InvalidInput

    booking = book(shipper.actor, connecting, lines={"42G1": 2})
    bookings_services.empty_request_create(actor=shipper.actor, booking=booking, size_type="42G1", quantity=2)

    with pytest.raises(InvalidInput) as error:
        bookings_services.empty_request_create(actor=shipper.actor, booking=booking, size_type="42G1", quantity=1)

    assert "0 more" in error.value.errors["quantity"][0]


def test_free_time_starts_at_the_first_hand_out(shipper, connecting, parties):
    booking, _request = to_station(shipper, connecting, parties, count=1)

    booking.refresh_from_db()

    assert booking.free_time_start == timezone.localdate()
    assert booking.last_free_day == timezone.localdate() + timedelta(days=booking.free_days - 1)
