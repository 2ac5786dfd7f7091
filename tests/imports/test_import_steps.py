"""The import journey's rules, step by step: who may take each step, in which state, holds, customs' release before
the gate-out, the booking's status and the empty coming back (match-back)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from bookings import services as bookings_services
from bookings.models import BookingStatus, Container, ContainerStatus, Direction
from inbound import services as arrivals
from inbound.models import ArrivingContainer, ReturnedEmpty
from intermodal.errors import InvalidInput, NotAllowed, StateConflict
from intermodal.models import Event, OutboxMessage
from journey import imports
from journey import services as journey
from tests import factories
from tests.bookings.conftest import book
from tests.imports.conftest import NUMBERS, announce, book_import

pytestmark = pytest.mark.django_db


def refused(step, refusal=StateConflict, code=None):
    """The step is refused and writes nothing: no event, no outbox row, no container moved."""
    events, outbox = Event.objects.count(), OutboxMessage.objects.count()
    statuses = dict(Container.objects.values_list("number", "status"))
    with pytest.raises(refusal) as error:
        step()
    assert (Event.objects.count(), OutboxMessage.objects.count()) == (events, outbox)
    assert dict(Container.objects.values_list("number", "status")) == statuses
    if code:
        assert error.value.code == code
    return error.value


def to_station(corridor, numbers=NUMBERS):
    """Announce, book, arrive, discharge, load, run the train: the containers on the station's track."""
    a, at = corridor.actors, timezone.now() - timedelta(hours=9)
    announce(corridor, numbers)
    booking = book_import(corridor, numbers)
    imports.vessel_arrive(actor=a.port, vessel_call=corridor.call, at=at, confirmed=True)
    for n, number in enumerate(numbers):
        imports.vessel_discharge(actor=a.port, number=number, at=at + timedelta(minutes=30 + n))
    for n, number in enumerate(numbers):
        imports.import_train_load(actor=a.port, number=number, at=at + timedelta(hours=2, minutes=n))
    journey.train_depart(actor=a.railway, departure=corridor.departure, at=at + timedelta(hours=3), confirmed=True)
    journey.train_arrive(actor=a.railway, departure=corridor.departure, at=at + timedelta(hours=8), confirmed=True)
    return booking


def test_only_the_port_of_the_terminal_announces_and_a_booked_container_stays_as_booked(corridor):
    refused(lambda: arrivals.arrivals_announce(actor=corridor.actors.consignee, vessel_call=corridor.call,
                                               items=[]), NotAllowed)
    announce(corridor)
    book_import(corridor, NUMBERS[:1])
    refused(lambda: announce(corridor, NUMBERS[:2]), StateConflict, "already_booked")
    with pytest.raises(InvalidInput) as twice:
        announce(corridor, [NUMBERS[1], NUMBERS[1]])
    assert "containers" in twice.value.errors
    assert ArrivingContainer.objects.filter(vessel_call=corridor.call).count() == 3


def test_an_import_booking_takes_announced_containers_of_its_consignee_only(corridor):
    announce(corridor)
    with pytest.raises(InvalidInput) as other:
        book_import(corridor, NUMBERS[:1], actor=corridor.actors.other)
    assert "containers" in other.value.errors
    booking = book_import(corridor)
    corridor.departure.refresh_from_db()
    assert booking.direction == Direction.IMPORT
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.teu == 5  # two 40-foot, one 20-foot
    assert corridor.departure.booked_teu == 5
    assert booking.quote_saving == booking.quote_road_haulage - booking.quote_total > 0
    assert set(booking.containers.values_list("status", flat=True)) == {ContainerStatus.ARRIVING}
    assert set(ArrivingContainer.objects.values_list("booking", flat=True)) == {booking.pk}
    with pytest.raises(StateConflict) as again:
        book_import(corridor, NUMBERS[:1])
    assert again.value.code == "already_booked"


def test_capacity_refuses_an_import_that_does_not_fit_and_keeps_nothing(corridor):
    announce(corridor)
    type(corridor.departure).objects.filter(pk=corridor.departure.pk).update(booked_teu=2)
    refused(lambda: book_import(corridor), StateConflict, "capacity_short")
    assert not ArrivingContainer.objects.filter(arrivals.BOOKED).exists()
    assert not Container.objects.exists()


def test_an_import_is_booked_on_the_departure_as_it_is_now_not_as_the_caller_read_it(corridor):
    announce(corridor)
    stale = type(corridor.departure).objects.get(pk=corridor.departure.pk)  # read while it still took bookings
    journey.train_depart(actor=corridor.actors.railway, departure=corridor.departure, confirmed=True,
                         at=timezone.now())

    refused(lambda: book_import(corridor, departure=stale), StateConflict, "no_connection")
    assert not ArrivingContainer.objects.filter(arrivals.BOOKED).exists()
    assert type(corridor.departure).objects.get(pk=corridor.departure.pk).booked_teu == 0


def test_exports_and_imports_keep_to_their_own_departures(corridor, shipper):
    announce(corridor)
    export_departure = type(corridor.departure).objects.filter(service=corridor.network.yiwu_rail).first()
    with pytest.raises(InvalidInput) as wrong:
        book_import(corridor, departure=export_departure)
    assert "departure" in wrong.value.errors
    connecting = type("C", (), {"departure": corridor.departure, "vessel_call": corridor.call})
    with pytest.raises(InvalidInput) as export_on_import:
        book(shipper.actor, connecting)
    assert "departure" in export_on_import.value.errors


def test_steps_in_the_wrong_state_or_by_the_wrong_party_are_refused(corridor):
    a = corridor.actors
    announce(corridor)
    book_import(corridor)
    refused(lambda: imports.vessel_discharge(actor=a.port, number=NUMBERS[0]), StateConflict, "illegal_step")
    refused(lambda: imports.vessel_arrive(actor=a.railway, vessel_call=corridor.call), NotAllowed)
    imports.vessel_arrive(actor=a.port, vessel_call=corridor.call, confirmed=True)
    refused(lambda: imports.vessel_arrive(actor=a.port, vessel_call=corridor.call), StateConflict, "illegal_step")
    refused(lambda: imports.import_train_load(actor=a.port, number=NUMBERS[0]), StateConflict, "illegal_step")
    refused(lambda: imports.vessel_discharge(actor=a.station, number=NUMBERS[0]), NotAllowed)
    imports.vessel_discharge(actor=a.port, number=NUMBERS[0])
    refused(lambda: imports.station_discharge(actor=a.station, number=NUMBERS[0]), StateConflict, "illegal_step")
    refused(lambda: imports.import_gate_out(actor=a.station, number=NUMBERS[0]), StateConflict, "illegal_step")
    refused(lambda: imports.import_train_load(actor=a.station, number=NUMBERS[0]), NotAllowed)
    refused(lambda: journey.laden_gate_in(actor=a.station, number=NUMBERS[0], seal_number="S1", vgm_kg=24000,
                                          vgm_method=1, vgm_signatory="X"), StateConflict, "illegal_step")


def test_a_container_leaves_the_station_only_once_customs_released_it_and_no_hold_remains(corridor):
    a = corridor.actors
    booking = to_station(corridor, NUMBERS[:1])
    ArrivingContainer.objects.filter(number=NUMBERS[0]).update(freight_hold=True)
    number = NUMBERS[0]
    other_station = factories.organisation("station_operator", code="jinhua-ops")
    refused(lambda: imports.station_discharge(actor=factories_actor(other_station), number=number), NotAllowed)
    imports.station_discharge(actor=a.station, number=number)
    container = Container.objects.get(number=number, is_active=True)
    assert imports.holds_now(container) == ["customs", "freight"]
    assert not Event.objects.filter(equipment_reference=number, event_code="AVPU").exists()
    error = refused(lambda: imports.import_gate_out(actor=a.station, number=number), StateConflict, "on_hold")
    assert "Customs" in error.message and "Freight" in error.message

    factories.declaration_released(booking)
    assert imports.holds_now(container) == ["freight"]
    assert not Event.objects.filter(equipment_reference=number, event_code="AVPU").exists()
    arrival = ArrivingContainer.objects.get(number=number)
    refused(lambda: arrivals.hold_release(actor=a.consignee, arrival=arrival, kind="freight", customs_released=True),
            NotAllowed)
    arrivals.hold_release(actor=a.port, arrival=arrival, kind="freight", customs_released=True)
    assert Event.objects.filter(equipment_reference=number, event_code="AVPU", empty_indicator="LADEN").count() == 1
    assert imports.holds_now(container) == []

    imports.import_gate_out(actor=a.station, number=number)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.DELIVERED
    assert Container.objects.get(number=number, is_active=True).delivered_at is not None


def factories_actor(org):
    from intermodal.access import Actor

    return Actor(organisation=org, user=factories.user(org))


def test_released_before_arrival_the_container_is_available_as_it_is_discharged(corridor):
    a = corridor.actors
    announce(corridor, NUMBERS[:1])
    booking = book_import(corridor, NUMBERS[:1])
    factories.declaration_released(booking)  # pre-release: declared and cleared before the train arrives
    imports.vessel_arrive(actor=a.port, vessel_call=corridor.call, confirmed=True)
    imports.vessel_discharge(actor=a.port, number=NUMBERS[0])
    imports.import_train_load(actor=a.port, number=NUMBERS[0])
    journey.train_depart(actor=a.railway, departure=corridor.departure, confirmed=True)
    journey.train_arrive(actor=a.railway, departure=corridor.departure, at=timezone.now() + timedelta(hours=8),
                         confirmed=True)
    imports.station_discharge(actor=a.station, number=NUMBERS[0], at=timezone.now() + timedelta(hours=9),
                              confirmed=True)
    codes = list(Event.objects.filter(equipment_reference=NUMBERS[0]).order_by("id")
                 .values_list("event_code", flat=True))
    assert codes == ["DISC", "LOAD", "DISC", "AVPU"]


def test_the_booking_follows_its_containers_and_the_empty_returns_as_stock(corridor):
    a = corridor.actors
    booking = to_station(corridor, NUMBERS[:2])
    booking.refresh_from_db()
    assert booking.status == BookingStatus.AT_STATION
    factories.declaration_released(booking)
    for number in NUMBERS[:2]:
        imports.station_discharge(actor=a.station, number=number, confirmed=True)
        imports.import_gate_out(actor=a.station, number=number, confirmed=True)
    refused(lambda: imports.empty_return(actor=a.railway, number=NUMBERS[0]), NotAllowed)
    imports.empty_return(actor=a.station, number=NUMBERS[0], confirmed=True)
    returned = Container.objects.get(number=NUMBERS[0], booking=booking)
    assert (returned.status, returned.is_active) == (ContainerStatus.RETURNED, False)
    stock = ReturnedEmpty.objects.get(number=NUMBERS[0])
    assert (stock.station, stock.size_type, stock.owner_scac, stock.port_distance_km) == (
        corridor.network.yiwu, "42G1", "COSU", 310)
    last = Event.objects.filter(equipment_reference=NUMBERS[0]).latest("id")
    assert (last.event_code, last.empty_indicator) == ("GTIN", "EMPTY")
    refused(lambda: imports.empty_return(actor=a.station, number=NUMBERS[0]), StateConflict, "unknown_container")


def test_match_back_hands_a_returned_empty_to_an_export_of_the_same_carrier(corridor, shipper, connecting):
    a = corridor.actors
    booking = to_station(corridor, NUMBERS[:2])
    factories.declaration_released(booking)
    for number in NUMBERS[:2]:
        imports.station_discharge(actor=a.station, number=number, confirmed=True)
        imports.import_gate_out(actor=a.station, number=number, confirmed=True)
        imports.empty_return(actor=a.station, number=number, confirmed=True)
    export = book(shipper.actor, connecting, lines={"42G1": 1})
    request = bookings_services.empty_request_create(actor=shipper.actor, booking=export, size_type="42G1",
                                                     quantity=1)
    offered = list(arrivals.returned_empties_for(request).values_list("number", flat=True))
    assert offered == [NUMBERS[0]]  # same size-type: the 20-foot one is not offered
    ReturnedEmpty.objects.filter(number=NUMBERS[0]).update(owner_scac="MAEU")
    refused(lambda: journey.empty_hand_out(actor=a.station, request=request, number=NUMBERS[0]), StateConflict,
            "wrong_owner")
    ReturnedEmpty.objects.filter(number=NUMBERS[0]).update(owner_scac="COSU")
    container = journey.empty_hand_out(actor=a.station, request=request, number=NUMBERS[0])
    stock = ReturnedEmpty.objects.get(number=NUMBERS[0])
    assert stock.used_by == container and stock.used_at is not None
    assert container.booking == export and container.is_active
    assert list(arrivals.returned_empties_for(request)) == []


def _next_import_departure(corridor):
    """The corridor's import departure after the booked one."""
    return (type(corridor.departure).objects.filter(service=corridor.inbound,
                                                    planned_departure__gt=corridor.departure.planned_departure)
            .order_by("planned_departure").first())


def test_an_import_waiting_at_the_terminal_can_be_moved_or_cancelled_and_its_containers_booked_again(corridor):
    a = corridor.actors
    announce(corridor)
    booking = book_import(corridor)
    later = _next_import_departure(corridor)
    arrivals.import_booking_move(actor=a.consignee, booking=booking, departure=later)
    corridor.departure.refresh_from_db()
    later.refresh_from_db()
    assert (corridor.departure.booked_teu, later.booked_teu) == (0, 5)
    with pytest.raises(StateConflict):
        bookings_services.booking_roll(actor=a.consignee, booking=booking, vessel_call=corridor.call)
    bookings_services.booking_cancel(actor=a.consignee, booking=booking)
    later.refresh_from_db()
    assert later.booked_teu == 0
    assert not ArrivingContainer.objects.filter(arrivals.BOOKED).exists()
    again = book_import(corridor)
    assert again.containers.filter(is_active=True).count() == 3


def test_an_import_is_moved_to_the_departure_as_it_is_now(corridor):
    a = corridor.actors
    announce(corridor)
    booking = book_import(corridor)
    later = _next_import_departure(corridor)
    type(later).objects.filter(pk=later.pk).update(status="cancelled")  # since the consignee's page read it

    refused(lambda: arrivals.import_booking_move(actor=a.consignee, booking=booking, departure=later),
            StateConflict, "no_connection")
    booking.refresh_from_db()
    assert booking.departure_id == corridor.departure.pk
    assert type(later).objects.get(pk=later.pk).booked_teu == 0


def test_a_station_reports_delivery_and_empty_return_by_codeco(corridor):
    from intermodal.models import Scope
    from tests.edi.conftest import key_client, post_edifact, sample

    a = corridor.actors
    booking = to_station(corridor, NUMBERS[:2])
    factories.declaration_released(booking)
    for number in NUMBERS[:2]:
        imports.station_discharge(actor=a.station, number=number, confirmed=True)
    station = key_client(corridor.network.operator, [Scope.EVENTS_WRITE])
    gate_out_full = sample("codeco_gate_out_empty.edi", booking=booking.reference).replace("++2+4'", "++2+5'")

    [delivered] = post_edifact(station, gate_out_full).json()["messages"]
    empty_back = gate_out_full.replace("BGM+36", "BGM+34").replace("++2+5'", "++2+4'").replace("01201", "01202")
    [returned] = post_edifact(station, empty_back).json()["messages"]

    assert (delivered["result"], returned["result"]) == ("accepted", "accepted")
    assert set(Container.objects.filter(booking=booking).values_list("status", flat=True)) == {
        ContainerStatus.RETURNED}
    assert ReturnedEmpty.objects.filter(station=corridor.network.yiwu).count() == 2
