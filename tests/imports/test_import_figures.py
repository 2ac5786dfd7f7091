"""The times the figures judge imports and match-back by are written by the steps themselves: available for
pick-up (as discharged without holds, or when the last hold lifts), and an export's empty handed out - a returned
import empty among them - so a journey walked through the services shows in the figures."""

from datetime import timedelta

import pytest
from django.utils import timezone

from bookings import services as bookings_services
from bookings.models import Container
from figures.compute import figures_compute
from figures.query import figure_query
from inbound import services as arrivals
from inbound.models import ArrivingContainer
from intermodal.access import Actor
from journey import imports
from journey import services as journey
from tests import factories
from tests.bookings.conftest import book
from tests.imports.conftest import NUMBERS
from tests.imports.test_import_steps import to_station

pytestmark = pytest.mark.django_db


def figures(direction: str):
    """The network's figures (as customs sees them) of the last weeks and the days ahead, read from the rows."""
    today = timezone.localdate()
    customs = factories.organisation("customs")
    return figures_compute(figure_query(actor=Actor(organisation=customs), date_from=today - timedelta(days=40),
                                        date_to=today + timedelta(days=5), direction=direction))


def test_available_as_discharged_without_holds_or_when_the_last_hold_lifts(corridor):
    a = corridor.actors
    booking = to_station(corridor, NUMBERS[:2])
    ArrivingContainer.objects.filter(number=NUMBERS[1]).update(terminal_hold=True)
    factories.declaration_released(booking)
    discharged = timezone.now() - timedelta(minutes=30)
    for number in NUMBERS[:2]:
        imports.station_discharge(actor=a.station, number=number, at=discharged, confirmed=True)
    free, held = (Container.objects.get(number=number, is_active=True) for number in NUMBERS[:2])
    assert (free.available_at, held.available_at) == (discharged, None)

    arrivals.hold_release(actor=a.port, arrival=ArrivingContainer.objects.get(number=NUMBERS[1]), kind="terminal",
                          customs_released=True)

    held.refresh_from_db()
    assert held.available_at is not None and held.available_at > discharged
    # Both available on the day the train was due: on schedule (departure's planned arrival + the terminal's 6 h).
    on_schedule = figures("import")["on_schedule"]
    assert (on_schedule["containers"], on_schedule["on_schedule"]) == (2, 2)


def test_customs_release_makes_waiting_containers_available(corridor):
    a = corridor.actors
    booking = to_station(corridor, NUMBERS[:1])
    imports.station_discharge(actor=a.station, number=NUMBERS[0], confirmed=True)
    assert Container.objects.get(number=NUMBERS[0], is_active=True).available_at is None

    factories.declaration_released(booking)

    assert Container.objects.get(number=NUMBERS[0], is_active=True).available_at is not None


def test_a_journey_through_the_services_shows_in_dwell_and_match_back(corridor, shipper, connecting):
    a = corridor.actors
    booking = to_station(corridor, NUMBERS[:2])
    factories.declaration_released(booking)
    now = timezone.now()
    for number in NUMBERS[:2]:
        imports.station_discharge(actor=a.station, number=number, at=now - timedelta(hours=3), confirmed=True)
        imports.import_gate_out(actor=a.station, number=number, at=now - timedelta(hours=1), confirmed=True)
    imports.empty_return(actor=a.station, number=NUMBERS[0], at=now, confirmed=True)
    export = book(shipper.actor, connecting, lines={"42G1": 2})
    request = bookings_services.empty_request_create(actor=shipper.actor, booking=export, size_type="42G1",
                                                     quantity=2)
    journey.empty_hand_out(actor=a.station, request=request, number=NUMBERS[0])  # the import's empty, matched
    journey.empty_hand_out(actor=a.station, request=request, number="GYOU4047990")  # one from the depot

    assert Container.objects.get(number="GYOU4047990", is_active=True).empty_out_at is not None
    both = figures("")
    assert (both["dwell"]["containers"], both["dwell"]["median_hours"]) == (2, 2.0)
    assert both["detention"]["containers"] == 1
    assert (both["match_back"]["empties"], both["match_back"]["matched"], both["match_back"]["share"],
            both["match_back"]["km_saved"]) == (2, 1, 50.0, 310)
    assert figures("import")["match_back"]["empties"] == 0
