"""Containers left behind are told as left behind, on every path, never as sailed.

A three-container booking: one box is not loaded when its train leaves, one waits at the terminal when the
vessel sails, one makes it. Each container's own timeline (the tracking API, the public page, the booking
page) says what happened to it; the shipper and the station are told once; subscribers get the MISS events.
"""

import json
from datetime import timedelta

import pytest
from django.test import Client
from rest_framework.test import APIClient

from intermodal.models import Event, Scope
from journey import services as journey
from notifications.models import Delivery, Notification, NotificationKind
from notifications.people import title
from notifications.relay import outbox_relay
from tests import factories
from tests.bookings.test_journey import NUMBERS, parties, to_station  # noqa: F401 - parties is a fixture
from tests.notifications.conftest import subscribe

pytestmark = pytest.mark.django_db
SAILED, AT_TERMINAL, AT_STATION = NUMBERS


@pytest.fixture
def journey_done(shipper, connecting, parties):  # noqa: F811
    subscription = subscribe(shipper.org, "https://erp.example/hook", kinds=["equipment.*"]).subscription
    station_person = factories.user(connecting.network.operator, username="gate-clerk")
    booking, _request = to_station(shipper, connecting, parties)
    factories.declaration_released(booking)
    departure, call = connecting.departure, connecting.vessel_call
    leaves = departure.planned_departure
    for number in (SAILED, AT_TERMINAL):
        journey.train_load(confirmed=True, actor=parties["station"], number=number)
    journey.train_depart(confirmed=True, actor=parties["railway"], departure=departure, at=leaves)
    journey.train_arrive(confirmed=True, actor=parties["railway"], departure=departure, at=leaves + timedelta(hours=8))
    for number in (SAILED, AT_TERMINAL):
        journey.train_discharge(confirmed=True, actor=parties["port"], number=number)
        journey.terminal_gate_in(confirmed=True,
            actor=parties["port"], number=number, at=call.cy_cutoff - timedelta(hours=2))
    journey.vessel_load(confirmed=True, actor=parties["port"], number=SAILED)
    journey.vessel_depart(confirmed=True, actor=parties["port"], vessel_call=call, at=call.etd)
    while outbox_relay():
        pass
    return {"booking": booking, "subscription": subscription, "station_person": station_person}


def _track(shipper, key: str) -> dict:
    _key, raw = factories.api_key(shipper.org, scopes=[Scope.EVENTS_READ])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = client.get(f"/api/v1/track/{key}/")
    assert response.status_code == 200
    answer = response.json()
    answer["done"] = {step["key"]: step["done"] for step in answer["steps"]}
    return answer


def test_each_container_timeline_tells_its_own_journey(journey_done, shipper):
    sailed, at_terminal, at_station = (_track(shipper, number) for number in NUMBERS)

    assert sailed["now"] == "Vessel sails" and sailed["done"]["vessel_departs"]
    assert not sailed["left_behind"] and "missed_vessel" not in sailed["done"]

    assert at_terminal["now"] == "Left behind: the vessel sailed without it"
    assert at_terminal["done"]["terminal_gate_in"] and not at_terminal["done"]["vessel_departs"]
    assert at_terminal["left_behind"] and at_terminal["at_risk"]

    assert at_station["now"] == "Left behind: the train left without it"
    assert not at_station["done"]["train_departs"] and not at_station["done"]["train_arrives"]
    assert not at_station["done"]["vessel_departs"]
    assert at_station["left_behind"] and at_station["at_risk"]

    booking = _track(shipper, journey_done["booking"].reference)
    assert booking["done"]["vessel_departs"] and booking["done"]["missed_train"] and booking["done"]["missed_vessel"]
    assert booking["left_behind"] and booking["at_risk"]


def test_the_pages_show_them_left_behind(journey_done, shipper):
    booking = journey_done["booking"]
    public = Client().get("/track/", {"container": AT_TERMINAL, "booking": booking.reference}).content.decode()
    assert "Left behind: the vessel sailed without it" in public and 'data-step="missed_vessel"' in public

    page = Client()
    page.force_login(shipper.user)
    html = page.get(f"/bookings/{booking.reference}/").content.decode()
    assert "A train or vessel left without a container of this booking" in html
    assert 'data-step="missed_train"' in html and 'data-step="missed_vessel"' in html


def test_one_left_behind_event_each_and_subscribers_get_them(journey_done):
    missed = Event.objects.filter(event_code="MISS").order_by("equipment_reference")
    assert [(e.equipment_reference, e.facility_kind, e.details["missed"]) for e in missed] == sorted([
        (AT_STATION, "station", "train"), (AT_TERMINAL, "terminal", "vessel")])
    sent = [json.loads(body)["data"] for body in Delivery.objects.filter(
        subscription=journey_done["subscription"], topic="equipment.miss").values_list("body", flat=True)]
    assert sorted(item["equipment_reference"] for item in sent) == [AT_TERMINAL, AT_STATION]


def test_the_shipper_and_the_station_are_told_once(journey_done, shipper, connecting):
    for person in (shipper.user, journey_done["station_person"]):
        told = Notification.objects.filter(user=person, kind=NotificationKind.CONTAINER_LEFT_BEHIND)
        texts = sorted(title(n) for n in told)
        assert len(texts) == 2
        assert any(AT_STATION in text and "the train left without it" in text for text in texts)
        assert any(AT_TERMINAL in text and "the vessel sailed without it" in text for text in texts)
    while outbox_relay():  # relaying again tells no one twice
        pass
    people = shipper.org.users.count() + connecting.network.operator.users.count()
    assert Notification.objects.filter(kind=NotificationKind.CONTAINER_LEFT_BEHIND).count() == 2 * people


def test_dcsa_consumers_are_not_sent_a_code_outside_its_enums(journey_done, shipper):
    _key, raw = factories.api_key(shipper.org, scopes=[Scope.EVENTS_READ])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    codes = {e.get("equipmentEventTypeCode") for e in client.get("/api/dcsa/tnt/v2/events?limit=1000").json()}
    assert "MISS" not in codes and "LOAD" in codes


def test_a_container_the_shipper_brought_itself_has_no_empty_step(shipper, connecting, parties):  # noqa: F811
    from bookings import services as bookings_services
    from tests.bookings.conftest import book
    from tests.bookings.test_journey import vgm

    booking = book(shipper.actor, connecting, lines={"42G1": 1})
    bookings_services.container_assign(actor=shipper.actor, booking=booking, number=SAILED, size_type="42G1")
    journey.laden_gate_in(confirmed=True, actor=parties["station"], number=SAILED, **vgm())

    steps = [step["key"] for step in _track(shipper, SAILED)["steps"]]
    assert steps[0] == "station_gate_in" and "empty_out" not in steps
