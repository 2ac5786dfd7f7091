"""Subscriptions found by index (issue 21, item 3): the relay reads only the subscriptions whose match terms
(kinds and most selective filter) overlap the batch's, so 10,000 idle subscriptions beside the few that match -
standard and DCSA, on other containers, bookings, stations and kinds - cost it what none do."""

import json
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bookings import services as bookings_services
from intermodal.access import Actor
from intermodal.models import Event, Organisation, OutboxMessage, PartyKind
from journey import services as journey
from notifications import relay
from notifications.models import Delivery, Subscription, SubscriptionFormat, match_terms
from tests import factories
from tests.bookings import test_journey
from tests.bookings.conftest import book
from tests.bookings.test_journey import NUMBERS, vgm
from tests.notifications.conftest import subscribe
from tracking.dcsa import dcsa_matching, event_query_parse

pytestmark = pytest.mark.django_db
parties = test_journey.parties


def test_match_terms_take_the_most_selective_filter():
    def terms(**fields):
        return match_terms(Subscription(**fields))

    assert terms(event_kinds=["*"]) == (["*"], ["any"])
    assert terms(event_kinds=["Equipment.GTIN", "transport.*"], station_code="yiwu-w") == (
        ["equipment.gtin", "transport.*"], ["st:YIWU-W"])
    assert terms(event_kinds=["*"], station_code="YIWU-W", booking_reference="BK-2026-000001",
                 equipment_reference="CSQU3054383") == (["*"], ["eq:CSQU3054383"])
    assert terms(format=SubscriptionFormat.DCSA, dcsa_filters={}) == (["*"], ["any"])
    assert terms(format=SubscriptionFormat.DCSA, dcsa_filters={
        "eventType": ["EQUIPMENT", "TRANSPORT"], "equipmentReference": "csqu3054383,TCNU7200794",
        "carrierBookingReference": "BK-2026-000001"}) == (
        ["equipment.*", "transport.*"], ["eq:CSQU3054383", "eq:TCNU7200794"])
    assert terms(format=SubscriptionFormat.DCSA, dcsa_filters={"bookingReference": "BK-2026-000001"}) == (
        ["*"], ["bk:BK-2026-000001"])


def test_a_subscription_without_filters_is_keyed_by_its_organisation_when_its_reach_is_its_own():
    """A shipper's or a station operator's "everything" is found by its organisation: the port's and a
    railway's by every batch (their reach is wider, and they are few)."""
    shipper, operator, port, railway = (factories.organisation(kind) for kind in (
        PartyKind.ENTERPRISE, PartyKind.STATION_OPERATOR, PartyKind.PORT, PartyKind.RAILWAY))

    def keys(organisation, **fields):
        return match_terms(Subscription(organisation=organisation, **fields))[1]

    assert keys(shipper, event_kinds=["*"]) == [f"org:{shipper.pk}"]
    assert keys(shipper, format=SubscriptionFormat.DCSA, dcsa_filters={"eventType": "EQUIPMENT"}) == [
        f"org:{shipper.pk}"]
    assert keys(shipper, event_kinds=["*"], station_code="yiwu-w") == ["st:YIWU-W"]
    assert keys(operator, event_kinds=["equipment.*"]) == [f"org:{operator.pk}"]
    assert keys(port, event_kinds=["*"]) == ["any"]
    assert keys(railway, format=SubscriptionFormat.DCSA, dcsa_filters={}) == ["any"]


def idle(organisation, count: int) -> None:
    """Subscriptions of other containers, bookings, stations and kinds, standard and DCSA: none concerns the
    batch. Made as the services make them (save() keeps their match terms), many at a time."""
    rows = []
    for n in range(count):
        kind = n % 5
        fields = {"event_kinds": ["*"]}
        if kind == 0:
            fields["equipment_reference"] = f"ZZZU{n:07d}"
        elif kind == 1:
            fields["booking_reference"] = f"BK-1999-{n:06d}"
        elif kind == 2:
            fields["station_code"] = f"NOWHERE-{n}"
        elif kind == 3:
            fields = {"event_kinds": [], "format": SubscriptionFormat.DCSA,
                      "dcsa_filters": {"equipmentReference": f"ZZZU{n:07d}"}}
        else:
            fields["event_kinds"] = ["shipment.canc"]
        subscription = Subscription(organisation=organisation, url=f"https://idle.example/{n}", secret="whsec_idle",
                                    subscription_id=uuid.uuid4(), **fields)
        subscription.match_kinds, subscription.match_keys = match_terms(subscription)
        rows.append(subscription)
    Subscription.objects.bulk_create(rows, batch_size=2000)


def idle_shippers(count: int, each: int = 5) -> None:
    """Other shippers' subscriptions to everything they may see, standard and DCSA: the common kind, and none
    concerns the batch (another shipper's container)."""
    organisations = Organisation.objects.bulk_create(
        Organisation(code=f"idle-{n}", name=f"Idle shipper {n}", kind=PartyKind.ENTERPRISE) for n in range(count))
    rows = []
    for organisation in organisations:
        for n in range(each):
            fields = ({"event_kinds": [], "format": SubscriptionFormat.DCSA, "dcsa_filters": {}} if n % 2
                      else {"event_kinds": ["*"]})
            subscription = Subscription(organisation=organisation, url=f"https://{organisation.code}.example/{n}",
                                        secret="whsec_idle", subscription_id=uuid.uuid4(), **fields)
            subscription.match_kinds, subscription.match_keys = match_terms(subscription)
            rows.append(subscription)
    Subscription.objects.bulk_create(rows, batch_size=2000)


def relay_gate_in(shipper, connecting, parties, number: str, n: int):
    """A container handed out and gated in at Yiwu West: its events waiting in the outbox, the rest relayed."""
    booking = book(shipper.actor, connecting, lines={"42G1": 1})
    request = bookings_services.empty_request_create(actor=shipper.actor, booking=booking, size_type="42G1",
                                                     quantity=1)
    journey.empty_request_ready(actor=parties["station"], request=request)
    journey.empty_hand_out(actor=parties["station"], request=request, number=number)
    relay.outbox_sweep()
    journey.laden_gate_in(confirmed=True, actor=parties["station"], number=number, **vgm(n))
    return booking


def relay_measured(monkeypatch) -> tuple[int, int, int]:
    """Relay what waits: (subscriptions read, queries, deliveries made)."""
    read = []
    original = relay.subscriptions_for

    def counting(events, places):
        found = original(events, places)
        read.append(len(found))
        return found

    monkeypatch.setattr(relay, "subscriptions_for", counting)
    before = Delivery.objects.count()
    with CaptureQueriesContext(connection) as queries:
        relay.outbox_relay()
    monkeypatch.setattr(relay, "subscriptions_for", original)
    return sum(read), len(queries), Delivery.objects.count() - before


def test_ten_thousand_idle_subscriptions_cost_the_relay_what_none_do(shipper, other_shipper, connecting, parties,
                                                                    monkeypatch):
    network = connecting.network
    everything = subscribe(shipper.org, "https://a.example/all").subscription
    station = subscribe(network.operator, "https://station.example/yiwu", station_code=network.yiwu.code,
                        kinds=["equipment.*"]).subscription
    unrelated = subscribe(other_shipper.org, "https://b.example/all").subscription  # may not see the events
    by_box = {number: (subscribe(shipper.org, f"https://a.example/{number}", equipment_reference=number).subscription,
                       subscribe(shipper.org, f"https://a.example/dcsa/{number}", format=SubscriptionFormat.DCSA,
                                 dcsa_filters={"equipmentReference": number}).subscription)
              for number in NUMBERS[:2]}
    relay_gate_in(shipper, connecting, parties, NUMBERS[0], 0)
    few = relay_measured(monkeypatch)

    idle(other_shipper.org, 5_000)
    idle_shippers(1_000)
    relay_gate_in(shipper, connecting, parties, NUMBERS[1], 1)
    many = relay_measured(monkeypatch)

    assert Subscription.objects.filter(is_active=True).count() > 10_000
    assert OutboxMessage.objects.filter(processed_at__isnull=True).count() == 0
    # Read: everything, the station's and the container's two (standard and DCSA) - the same four beside 10,000
    # idle ones (5,000 of other containers, bookings, stations and kinds; 1,000 shippers' "everything"); as many
    # queries; the same four deliveries. Another shipper's "everything" is not even read.
    assert (few[0], many[0]) == (4, 4)
    assert many[1] <= few[1]
    assert (few[2], many[2]) == (4, 4)
    for number, (standard, dcsa) in by_box.items():
        delivered_to = set(Delivery.objects.filter(event__equipment_reference=number, event__event_code="GTIN")
                           .values_list("subscription_id", flat=True))
        assert delivered_to == {everything.pk, station.pk, standard.pk, dcsa.pk}
    assert not Delivery.objects.filter(subscription=unrelated).exists()


def test_dcsa_subscriptions_get_what_their_filters_give_in_the_database(shipper, connecting, parties):
    """The DCSA subscriptions of an organisation are matched on the events it may see, read once: their kinds and
    codes in Python, the other filters by a query. Both give what GET /v2/events with the same filters gives."""
    network = connecting.network
    shapes = [{}, {"eventType": "EQUIPMENT"}, {"eventType": ["TRANSPORT", "SHIPMENT"]},
              {"equipmentEventTypeCode": "GTIN"}, {"eventType": "EQUIPMENT", "equipmentEventTypeCode": "GTOT,LOAD"},
              {"shipmentEventTypeCode": "CONF"}, {"transportEventTypeCode": "ARRI"},
              {"equipmentReference": NUMBERS[0]}, {"eventType": "EQUIPMENT", "UNLocationCode": network.yiwu.unlocode}]
    subscriptions = [subscribe(shipper.org, f"https://a.example/dcsa/{n}", format=SubscriptionFormat.DCSA,
                               dcsa_filters=filters).subscription for n, filters in enumerate(shapes)]
    relay_gate_in(shipper, connecting, parties, NUMBERS[0], 0)
    events = list(Event.objects.select_related("reported_by_organisation").order_by("id"))
    event_ids = [e.pk for e in events]

    planned = relay._dcsa_deliveries(subscriptions, events)

    actor = Actor(organisation=shipper.org)
    expected = set()
    for subscription in subscriptions:
        query, _given = event_query_parse(relay.dcsa_params(subscription.dcsa_filters))
        expected |= {(subscription.pk, pk) for pk in dcsa_matching(actor=actor, query=query)
                     .filter(pk__in=event_ids).values_list("pk", flat=True)}
    assert {(d.subscription_id, d.event_id) for d in planned} == expected
    assert len({subscription for subscription, _event in expected}) >= 6  # most shapes match some event
    assert len(planned) == len(expected)
    # Each body is the event as the feed shows it to the organisation.
    body = json.loads(next(d.body for d in planned if d.subscription_id == subscriptions[0].pk))
    assert body[0]["eventType"] in ("SHIPMENT", "EQUIPMENT", "TRANSPORT")


def test_the_places_dcsa_bodies_name_are_read_once_for_a_batch_whatever_its_organisations(
        shipper, other_shipper, connecting, parties):
    """Two shippers' containers gated in at the same station, each shipper with a DCSA subscription to everything:
    each is sent its own gate-in (what it may see, asked once per organisation for every format), and the station
    both bodies name is read once for the batch - per organisation, it was a query more for each."""
    subscriptions = {org.pk: subscribe(org, f"https://{org.code}.example/dcsa", format=SubscriptionFormat.DCSA,
                                       dcsa_filters={}).subscription for org in (shipper.org, other_shipper.org)}
    mine = relay_gate_in(shipper, connecting, parties, NUMBERS[0], 0)
    theirs = relay_gate_in(other_shipper, connecting, parties, NUMBERS[1], 1)
    events = list(Event.objects.select_related("reported_by_organisation")
                  .filter(event_code="GTIN", equipment_reference__in=NUMBERS[:2]).order_by("id"))
    assert {e.booking_reference for e in events} == {mine.reference, theirs.reference}

    with CaptureQueriesContext(connection) as queries:
        planned = relay.deliveries_plan(events)

    sent = {(d.subscription_id, json.loads(d.body)[0]["documentReferences"][0]["documentReferenceValue"])
            for d in planned}
    assert sent == {(subscriptions[shipper.org.pk].pk, mine.reference),
                    (subscriptions[other_shipper.org.pk].pk, theirs.reference)}
    stations = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('SELECT "stations_station"')]
    assert len(stations) == 1
