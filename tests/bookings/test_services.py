"""Booking lifecycle through the services: quotes kept, capacity reserved and moved, refusals write nothing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import F
from django.utils import timezone

from bookings import services
from bookings.models import Booking, BookingChange, BookingStatus, Container, ContainerStatus
from intermodal.access import Actor
from intermodal.errors import InvalidInput, NotAllowed, StateConflict
from intermodal.models import Event, OutboxMessage, PartyKind
from stations.models import Departure, DepartureStatus, Location, Tariff
from tests import factories
from tests.bookings.conftest import book

pytestmark = pytest.mark.django_db


def booked_teu(departure) -> int:
    return Departure.objects.get(pk=departure.pk).booked_teu


def test_a_confirmed_booking_reserves_its_teu_and_keeps_its_quote(shipper, connecting):
    booking = book(shipper.actor, connecting, lines={"42G1": 2, "22G1": 1})

    assert booking.status == BookingStatus.CONFIRMED
    assert booking.reference.startswith(f"BK-{timezone.localdate():%Y}-")
    assert len(booking.reference) == len("BK-2026-000001")
    assert booking.teu == 5
    assert booked_teu(connecting.departure) == 5
    # 40': 2200 + 380 + 150 = 2730 x 2; 20': 1350 + 380 + 150 = 1880
    assert booking.quote_total == Decimal("7340.00")
    assert booking.quote_road_haulage == Decimal("2200") * 2 * 2 + Decimal("1350") * 2
    assert booking.quote_saving == booking.quote_road_haulage - booking.quote_total
    assert booking.last_free_day == timezone.localdate() + timedelta(days=6)


def test_a_later_tariff_change_does_not_change_the_quote(shipper, connecting):
    booking = book(shipper.actor, connecting, lines={"22G1": 1})
    Tariff.objects.filter(service=connecting.departure.service).update(transport_price=F("transport_price") * 2)

    booking.refresh_from_db()

    assert booking.quote_total == Decimal("1880.00")


def test_every_change_is_an_event_with_who_and_when(shipper, connecting):
    booking = book(shipper.actor, connecting)

    events = list(Event.objects.filter(booking_reference=booking.reference).order_by("id"))
    assert [e.event_code for e in events] == ["DRFT", "CONF"]
    assert all(e.reported_by_user == shipper.user for e in events)
    assert OutboxMessage.objects.filter(event__in=events).count() == 2
    assert list(booking.changes.values_list("kind", flat=True)) == ["created", "confirmed"]


def test_capacity_short_is_refused_and_leaves_nothing(shipper, connecting):
    Departure.objects.filter(pk=connecting.departure.pk).update(booked_teu=F("capacity_teu") - 3)

    with pytest.raises(StateConflict) as error:
        book(shipper.actor, connecting, lines={"42G1": 2})

    assert "3 TEU free" in error.value.message
    assert error.value.code == "capacity_short"
    assert not Booking.objects.exists()
    assert not Event.objects.exists()
    assert booked_teu(connecting.departure) == connecting.departure.capacity_teu - 3


def test_a_closed_departure_is_refused(shipper, connecting):
    Departure.objects.filter(pk=connecting.departure.pk).update(status=DepartureStatus.CLOSED)
    connecting.departure.refresh_from_db()

    with pytest.raises(StateConflict) as error:
        book(shipper.actor, connecting)

    assert "closed" in error.value.message


def test_a_departure_past_its_station_closing_time_is_refused(shipper, connecting):
    departure = connecting.departure
    Departure.objects.filter(pk=departure.pk).update(
        closing_time=timezone.now() - timedelta(minutes=1), planned_departure=timezone.now() + timedelta(hours=1)
    )
    departure.refresh_from_db()

    with pytest.raises(StateConflict) as error:
        book(shipper.actor, connecting)

    assert "closed at the station" in error.value.message


def test_a_connection_that_misses_the_cut_off_is_refused(shipper, connecting):
    late = Departure.objects.filter(
        service=connecting.departure.service, planned_departure__gt=connecting.departure.planned_departure
    ).first()
    connecting.departure = late

    with pytest.raises(StateConflict) as error:
        book(shipper.actor, connecting)

    assert "too late for the vessel's CY cut-off" in error.value.message
    assert not Booking.objects.exists()


def test_a_draft_whose_train_is_delayed_past_the_cut_off_cannot_be_confirmed(shipper, connecting):
    booking = book(shipper.actor, connecting, confirm=False)
    Departure.objects.filter(pk=connecting.departure.pk).update(estimated_arrival=connecting.vessel_call.cy_cutoff)

    with pytest.raises(StateConflict):
        services.booking_confirm(actor=shipper.actor, booking=booking)

    booking.refresh_from_db()
    assert booking.status == BookingStatus.DRAFT
    assert booked_teu(connecting.departure) == 0


def test_dangerous_goods_of_a_class_the_service_refuses(shipper, connecting):
    service = connecting.departure.service
    service.dangerous_goods_classes = ["3"]
    service.save()
    # Dangerous goods must be at the terminal by the DG cut-off (72 hours before sailing here): an early train.
    connecting.departure = Departure.objects.filter(
        service=service, closing_time__gt=timezone.now(),
        planned_arrival__lte=connecting.vessel_call.dg_cutoff - timedelta(hours=6)).last()

    with pytest.raises(StateConflict) as error:
        book(shipper.actor, connecting, un_number="1830", imdg_class="8")
    accepted = book(shipper.actor, connecting, un_number="1263", imdg_class="3")

    assert "IMDG class 8" in error.value.message
    assert accepted.is_dangerous


def test_dangerous_goods_must_make_the_dg_cut_off(shipper, connecting):
    service = connecting.departure.service
    service.dangerous_goods_classes = ["3"]
    service.save()

    with pytest.raises(StateConflict) as error:
        book(shipper.actor, connecting, un_number="1263", imdg_class="3")
    plain = book(shipper.actor, connecting)

    assert error.value.code == "dg_cutoff_missed"
    assert plain.status == BookingStatus.CONFIRMED


def test_dangerous_goods_need_both_codes_and_reefers_a_set_point(shipper, connecting):
    with pytest.raises(InvalidInput) as dg:
        book(shipper.actor, connecting, un_number="1263")
    with pytest.raises(InvalidInput) as reefer:
        book(shipper.actor, connecting, lines={"45R1": 1})
    with pytest.raises(InvalidInput) as not_reefer:
        book(shipper.actor, connecting, lines={"42G1": 1}, reefer_setpoint_c=Decimal("-18"))
    frozen = book(
        shipper.actor, connecting, lines={"45R1": 1}, reefer_setpoint_c=Decimal("-18"), reefer_ventilation_cbm_h=0
    )

    assert "imdg_class" in dg.value.errors
    assert "reefer_setpoint_c" in reefer.value.errors
    assert "reefer_setpoint_c" in not_reefer.value.errors
    assert frozen.reefer_setpoint_c == Decimal("-18")


def test_unknown_size_types_and_destinations_are_field_errors(shipper, connecting):
    with pytest.raises(InvalidInput) as size:
        book(shipper.actor, connecting, lines={"99X9": 1})
    Location.objects.create(unlocode="USLAX", name="Los Angeles")
    with pytest.raises(InvalidInput) as port:
        services.booking_create(
            actor=shipper.actor,
            departure=connecting.departure,
            vessel_call=connecting.vessel_call,
            destination=Location.objects.get(unlocode="USLAX"),
            lines={"42G1": 1},
            commodity="x",
            cargo_weight_kg=Decimal("100"),
        )

    assert "containers" in size.value.errors
    assert "destination" in port.value.errors


def test_only_shippers_book(connecting):
    railway = Actor(organisation=connecting.network.railway)

    with pytest.raises(NotAllowed) as error:
        book(railway, connecting)

    assert error.value.status == 403


def test_amend_moves_capacity_between_departures(shipper, connecting):
    booking = book(shipper.actor, connecting, lines={"42G1": 2})
    earlier = Departure.objects.filter(
        service=connecting.departure.service,
        planned_departure__lt=connecting.departure.planned_departure,
        closing_time__gt=timezone.now(),
    ).last()

    services.booking_amend(actor=shipper.actor, booking=booking, departure=earlier, lines={"42G1": 3})

    booking.refresh_from_db()
    assert booking.departure == earlier
    assert booking.teu == 6
    assert booked_teu(connecting.departure) == 0
    assert booked_teu(earlier) == 6
    assert booking.changes.last().before["departure"] == connecting.departure.reference


def test_amend_is_refused_whole_when_the_new_departure_is_short(shipper, connecting):
    booking = book(shipper.actor, connecting, lines={"42G1": 2})
    earlier = Departure.objects.filter(
        service=connecting.departure.service,
        planned_departure__lt=connecting.departure.planned_departure,
        closing_time__gt=timezone.now(),
    ).last()
    Departure.objects.filter(pk=earlier.pk).update(booked_teu=F("capacity_teu") - 1)

    with pytest.raises(StateConflict):
        services.booking_amend(actor=shipper.actor, booking=booking, departure=earlier)

    booking.refresh_from_db()
    assert booking.departure == connecting.departure
    assert booked_teu(connecting.departure) == 4
    assert booked_teu(earlier) == earlier.capacity_teu - 1


def test_cancel_frees_the_slots_and_the_containers(shipper, connecting):
    booking = book(shipper.actor, connecting, lines={"22G1": 1})
    services.container_assign(actor=shipper.actor, booking=booking, number="CSQU3054383", size_type="22G1")

    services.booking_cancel(actor=shipper.actor, booking=booking, reason="order withdrawn")

    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    assert booked_teu(connecting.departure) == 0
    assert not Container.objects.get(number="CSQU3054383").is_active
    # The number is free for another booking now.
    again = book(shipper.actor, connecting, lines={"22G1": 1})
    services.container_assign(actor=shipper.actor, booking=again, number="CSQU3054383", size_type="22G1")


def test_cancel_is_refused_after_loading(shipper, connecting):
    booking = book(shipper.actor, connecting)
    Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.IN_TRANSIT)

    with pytest.raises(StateConflict) as error:
        services.booking_cancel(actor=shipper.actor, booking=booking)

    assert "cannot be cancelled" in error.value.message
    assert booked_teu(connecting.departure) == 4


def test_roll_keeps_the_reference_and_the_history(shipper, connecting):
    booking = book(shipper.actor, connecting)
    later_call = factories.vessel_call(
        connecting.network.beilun,
        etd=connecting.vessel_call.etd + timedelta(days=7),
        imo="9074729",
        destinations=("NLRTM",),
    )

    services.booking_roll(actor=shipper.actor, booking=booking, vessel_call=later_call, reason="vessel full")

    booking.refresh_from_db()
    assert booking.reference == booking.reference
    assert booking.vessel_call == later_call
    assert booking.original_vessel_call == connecting.vessel_call
    assert booking.roll_count == 1
    assert list(booking.changes.values_list("kind", flat=True)) == ["created", "confirmed", "rolled"]
    rolled = booking.changes.last()
    assert rolled.before["vessel_call"] == connecting.vessel_call.reference
    assert rolled.after["vessel_call"] == later_call.reference
    assert rolled.reason == "vessel full"
    assert Event.objects.filter(booking_reference=booking.reference).count() == 3


def test_another_shipper_cannot_change_a_booking(shipper, other_shipper, connecting):
    booking = book(shipper.actor, connecting)

    with pytest.raises(NotAllowed):
        services.booking_cancel(actor=other_shipper.actor, booking=booking)

    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED


def test_container_numbers_are_checked(shipper, connecting):
    booking = book(shipper.actor, connecting, lines={"42G1": 1, "22G1": 1})

    with pytest.raises(InvalidInput) as check_digit:
        services.container_assign(actor=shipper.actor, booking=booking, number="CSQU3054384", size_type="22G1")
    with pytest.raises(InvalidInput) as size:
        services.container_assign(actor=shipper.actor, booking=booking, number="TCNU7200794", size_type="45G1")
    container = services.container_assign(
        actor=shipper.actor, booking=booking, number="tcnu 720079 4", size_type="42G1"
    )

    assert "check digit" in check_digit.value.errors["number"][0]
    assert "should be 3" in check_digit.value.errors["number"][0]
    assert "45G1 is not booked" in size.value.errors["size_type"][0]
    assert container.number == "TCNU7200794"


def test_a_container_is_in_at_most_one_active_booking(shipper, other_shipper, connecting):
    first = book(shipper.actor, connecting, lines={"22G1": 1})
    second = book(other_shipper.actor, connecting, lines={"22G1": 1})
    services.container_assign(actor=shipper.actor, booking=first, number="GYOU4047990", size_type="22G1")

    with pytest.raises(StateConflict) as error:
        services.container_assign(actor=other_shipper.actor, booking=second, number="GYOU4047990", size_type="22G1")

    assert "already in an active booking" in error.value.message


def test_no_more_containers_than_booked(shipper, connecting):
    booking = book(shipper.actor, connecting, lines={"22G1": 1})
    services.container_assign(actor=shipper.actor, booking=booking, number="GYOU4047990", size_type="22G1")

    with pytest.raises(StateConflict):
        services.container_assign(actor=shipper.actor, booking=booking, number="CSQU3054383", size_type="22G1")


def test_station_staff_assign_containers_at_their_station_only(shipper, connecting):
    booking = book(shipper.actor, connecting, lines={"22G1": 2})
    staff = Actor(organisation=connecting.network.operator)
    elsewhere = Actor(organisation=factories.organisation(PartyKind.STATION_OPERATOR))

    services.container_assign(
        actor=staff, booking=booking, number="GYOU4047990", size_type="22G1", status=ContainerStatus.EMPTY_OUT
    )
    with pytest.raises(NotAllowed):
        services.container_assign(actor=elsewhere, booking=booking, number="CSQU3054383", size_type="22G1")

    assert booking.containers.get().status == ContainerStatus.EMPTY_OUT


def test_vgm_is_required_before_the_vessel(shipper, connecting):
    booking = book(shipper.actor, connecting, lines={"22G1": 1})
    container = services.container_assign(actor=shipper.actor, booking=booking, number="GYOU4047990", size_type="22G1")

    with pytest.raises(StateConflict) as error:
        services.container_check_loadable_on_vessel(container=container)
    with pytest.raises(InvalidInput):
        services.container_update(actor=shipper.actor, container=container, vgm_kg=Decimal("24000"))
    services.container_update(
        actor=shipper.actor,
        container=container,
        seal_number="SL123456",
        vgm_kg=Decimal("24000"),
        vgm_method=1,
        vgm_signatory="Wang Fang",
    )
    container.refresh_from_db()
    services.container_check_loadable_on_vessel(container=container)

    assert "VGM" in error.value.message
    assert container.has_vgm
    assert container.seal_number == "SL123456"
    assert BookingChange.objects.filter(booking=booking, kind="container").count() == 2
