"""Every import step reaches the consignee's webhook, by event kind as for exports, through a real Celery worker and
a local HTTP receiver; another consignee on the same vessel receives none of it, and sees none of it in the feeds,
not even the discharge of a container announced for someone else before it was booked."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from intermodal.access import Actor
from journey import imports
from journey import services as journey
from notifications.models import Delivery, DeliveryStatus
from tests import factories
from tests.imports.conftest import NUMBERS, announce, book_import
from tests.notifications.conftest import (  # noqa: F401 - fixtures
    private_redis,
    receiver,
    subscribe,
    wait_for,
    worker_factory,
)
from tracking.visibility import events_visible


@pytest.mark.django_db(transaction=True)
def test_the_consignee_is_sent_every_step_of_its_import_signed(corridor, receiver, private_redis,  # noqa: F811
                                                               worker_factory):  # noqa: F811
    a = corridor.actors
    mine = subscribe(corridor.consignee, receiver.url, kinds=["equipment.*", "transport.arri"])
    theirs = subscribe(corridor.other, receiver.url + "other/", kinds=["*"])
    worker_factory(private_redis.url)
    number, at = NUMBERS[0], timezone.now() - timedelta(hours=9)

    announce(corridor, [number])
    booking = book_import(corridor, [number])
    factories.declaration_released(booking)
    imports.vessel_arrive(actor=a.port, vessel_call=corridor.call, at=at, confirmed=True)
    imports.vessel_discharge(actor=a.port, number=number, at=at + timedelta(minutes=30))
    imports.import_train_load(actor=a.port, number=number, at=at + timedelta(hours=2))
    journey.train_depart(actor=a.railway, departure=corridor.departure, at=at + timedelta(hours=3), confirmed=True)
    journey.train_arrive(actor=a.railway, departure=corridor.departure, at=at + timedelta(hours=8), confirmed=True)
    imports.station_discharge(actor=a.station, number=number, at=at + timedelta(hours=8, minutes=30))
    imports.import_gate_out(actor=a.station, number=number, at=at + timedelta(hours=9))
    imports.empty_return(actor=a.station, number=number, confirmed=True, at=timezone.now())

    expected = ["transport.arri", "equipment.disc", "equipment.load", "transport.arri", "equipment.disc",
                "equipment.avpu", "equipment.gtot", "equipment.gtin"]
    wait_for(lambda: Delivery.objects.filter(subscription=mine.subscription,
                                             status=DeliveryStatus.DELIVERED).count() >= len(expected),
             what="the import's deliveries")
    hook = Webhook(mine.secret)
    received = [hook.verify(r.body, r.headers) for r in sorted(receiver.requests, key=lambda r: r.at)
                if not r.path.endswith("/other/")]
    kinds = [payload["type"] for payload in received]
    assert sorted(kinds) == sorted(expected)
    equipment = [payload["data"] for payload in received if payload["type"].startswith("equipment.")]
    assert {data["equipment_reference"] for data in equipment} == {number}
    assert [data["empty_indicator"] for data in equipment if data["event_code"] == "GTIN"] == ["EMPTY"]
    assert not Delivery.objects.filter(subscription=theirs.subscription).exists()
    assert all(json.loads(r.body)["type"] != "equipment.disc" for r in receiver.requests if r.path.endswith("/other/"))


@pytest.mark.django_db
def test_a_discharge_before_booking_is_its_consignees_and_the_ports_only(corridor):
    a = corridor.actors
    announce(corridor, NUMBERS[:1])
    announce(corridor, NUMBERS[1:2], consignee=corridor.other)
    book_import(corridor, NUMBERS[1:2], actor=a.other)  # the other consignee has a booking on the same vessel
    imports.vessel_arrive(actor=a.port, vessel_call=corridor.call, confirmed=True)
    imports.vessel_discharge(actor=a.port, number=NUMBERS[0])  # not booked yet: no booking on the event

    def discharges(actor: Actor) -> set[str]:
        return set(events_visible(actor=actor).filter(event_code="DISC").values_list("equipment_reference",
                                                                                       flat=True))

    assert discharges(a.consignee) == {NUMBERS[0]}
    assert discharges(a.other) == set()
    assert discharges(a.port) == {NUMBERS[0]}
    imports.vessel_discharge(actor=a.port, number=NUMBERS[1])
    assert discharges(a.other) == {NUMBERS[1]}
    assert discharges(a.consignee) == {NUMBERS[0]}
