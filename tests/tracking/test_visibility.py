"""One rule for who may see which event and which of its fields, the same on every path.

A booking is declared, selected by a risk rule (HOLD, with the rule's reason naming the declared value) and
rejected (REJE, with the officer's message to the trader); another is released (RELS, with an officer's note).
Every party kind then reads the events (GET /api/v1/events/, DCSA /v2/events, the events export) and receives
them (a Standard Webhooks subscription and a DCSA one each, through the relay), and the shipper's people get
their notifications. What each reads and what it is sent must be the same events, and the officers' words
must reach customs and border inspection only - but for the rejection's message, which is the trader's too.
"""

import csv
import io
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Max, Min
from django.test import Client
from rest_framework.test import APIClient

from bookings import services as booking_services
from customs import services as customs_services
from customs.models import RiskRule
from intermodal.access import Actor
from intermodal.models import Event, OutboxMessage, PartyKind, Scope
from notifications.models import Delivery, Notification, SubscriptionFormat
from notifications.people import title
from notifications.relay import outbox_relay
from notifications.services import subscription_create
from tests import factories
from tests.bookings.conftest import book

pytestmark = pytest.mark.django_db

K = PartyKind
OFFICER_KINDS = {K.CUSTOMS, K.BORDER_INSPECTION, K.PLATFORM_ADMIN}
OPERATOR_KINDS = {K.STATION_OPERATOR, K.RAILWAY, K.PORT}
REJECTION = "HS code 9503008900 does not fit lithium batteries: declare them under chapter 85."
RELEASE_NOTE = "Seals compared with the manifest by officer Wang."


@pytest.fixture
def world(shipper, connecting, django_capture_on_commit_callbacks):
    network = connecting.network
    customs, ciq = factories.inspection_offices(network.yiwu)
    orgs = {
        K.ENTERPRISE: shipper.org, K.STATION_OPERATOR: network.operator, K.RAILWAY: network.railway,
        K.PORT: network.port, K.CUSTOMS: customs, K.BORDER_INSPECTION: ciq,
        K.MARITIME_SAFETY: factories.organisation(K.MARITIME_SAFETY, code="msa"),
        K.LOCAL_GOVERNMENT: factories.organisation(K.LOCAL_GOVERNMENT, code="gov"),
        K.PLATFORM_ADMIN: factories.organisation(K.PLATFORM_ADMIN, code="platform"),
    }
    subscriptions = {}
    for kind, org in orgs.items():
        if kind == K.LOCAL_GOVERNMENT:
            continue  # aggregates only: it cannot subscribe
        actor = Actor(organisation=org)
        subscriptions[kind] = (
            subscription_create(actor=actor, url=f"https://hooks.example/{kind}", event_kinds=["*"]).subscription,
            subscription_create(actor=actor, url=f"https://hooks.example/{kind}/dcsa", event_kinds=["*"],
                                format=SubscriptionFormat.DCSA).subscription,
        )
    RiskRule.objects.create(name="High value", agency="customs", kind="value_above",
                            parameters={"amount": "500000", "currency": "USD"})
    officer = Actor(organisation=customs, user=factories.user(customs))

    held = book(shipper.actor, connecting, lines={"42G1": 1})
    booking_services.container_assign(actor=shipper.actor, booking=held, number="CSQU3054383", size_type="42G1")
    declaration = customs_services.declaration_create(
        actor=shipper.actor, booking=held, trade_mode="0110", transport_mode="rail_vessel",
        containers=["CSQU3054383"], lines=[factories.goods_line(value="600000")],
        declarant_uscc=factories.VALID_USCC)
    customs_services.declaration_submit(actor=shipper.actor, declaration=declaration)
    customs_services.declaration_decide(actor=officer, declaration=declaration, kind="reject", reason=REJECTION)

    released = book(shipper.actor, connecting, lines={"42G1": 1})
    booking_services.container_assign(actor=shipper.actor, booking=released, number="TCNU7200794",
                                      size_type="42G1")
    other = customs_services.declaration_create(
        actor=shipper.actor, booking=released, trade_mode="0110", transport_mode="rail_vessel",
        containers=["TCNU7200794"], lines=[factories.goods_line()], declarant_uscc=factories.VALID_USCC)
    customs_services.declaration_submit(actor=shipper.actor, declaration=other)
    customs_services.declaration_decide(actor=officer, declaration=other, kind="clear", reason=RELEASE_NOTE)
    customs_services.declaration_decide(actor=Actor(organisation=ciq, user=factories.user(ciq)),
                                        declaration=other, kind="clear", reason=RELEASE_NOTE)

    while outbox_relay():  # what the worker does after each commit
        pass
    assert not OutboxMessage.objects.filter(processed_at__isnull=True).exists()
    hold = Event.objects.get(event_code="HOLD")
    assert "600000" in hold.reason  # the risk rule's words name the declared value
    return {"orgs": orgs, "subscriptions": subscriptions, "hold_reason": hold.reason, "declaration": declaration}


def _reads(org) -> dict:
    _key, raw = factories.api_key(org, scopes=[Scope.EVENTS_READ])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    ours = client.get("/api/v1/events/?page_size=1000")
    dcsa = client.get("/api/dcsa/tnt/v2/events?limit=1000")
    assert ours.status_code == 200 and dcsa.status_code == 200
    return {"ours": {item["event_id"]: item for item in ours.json()["results"]},
            "dcsa": {item["eventID"]: item for item in dcsa.json()}}


def _received(subscriptions) -> dict:
    standard, dcsa = subscriptions
    ours = {}
    for body in Delivery.objects.filter(subscription=standard).values_list("body", flat=True):
        data = json.loads(body)["data"]
        ours[data["event_id"]] = data
    theirs = {}
    for body in Delivery.objects.filter(subscription=dcsa).values_list("body", flat=True):
        for item in json.loads(body):
            theirs[item["eventID"]] = item
    return {"ours": ours, "dcsa": theirs}


def _export(org) -> str:
    client = Client()
    client.force_login(factories.user(org))
    response = client.get("/bookings/export/events.csv")
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode("utf-8-sig")


@pytest.mark.parametrize("kind", [k for k in K.values if k != K.LOCAL_GOVERNMENT])
def test_every_party_is_sent_exactly_what_it_may_read_and_no_officers_words_it_may_not_know(world, kind):
    org = world["orgs"][kind]
    read = _reads(org)
    received = _received(world["subscriptions"][kind])

    # The same events on the read and the push paths, for each shape.
    assert set(read["ours"]) == set(received["ours"])
    assert set(read["dcsa"]) == set(received["dcsa"])
    assert read["ours"] == received["ours"]  # field for field

    everything = json.dumps([read, received]) + _export(org)
    customs_codes = {item["event_code"] for item in read["ours"].values() if item["document_type"] == "CUS"}
    if kind in OFFICER_KINDS:
        assert {"SUBM", "HOLD", "REJE", "RELS"} <= customs_codes
        assert world["hold_reason"] in everything and REJECTION in everything and RELEASE_NOTE in everything
        return
    assert world["hold_reason"] not in everything
    assert "600000" not in everything
    assert RELEASE_NOTE not in everything
    if kind == K.ENTERPRISE:
        # The trader sees every decision, and the rejection's message, which is written for it.
        assert {"SUBM", "HOLD", "REJE", "RELS"} <= customs_codes
        assert REJECTION in json.dumps(read["ours"]) and REJECTION in json.dumps(received["ours"])
    else:
        assert REJECTION not in everything
    if kind in OPERATOR_KINDS - {K.PORT}:
        # Stations and railways see whether the containers of their bookings may move: the decisions, bare.
        assert {"HOLD", "RELS"} <= customs_codes
        assert all(item["reason"] == "" for item in read["ours"].values() if item["document_type"] == "CUS")


def test_local_government_reads_no_events_and_cannot_subscribe(world):
    read = _reads(world["orgs"][K.LOCAL_GOVERNMENT])
    assert read == {"ours": {}, "dcsa": {}}


def test_the_shippers_people_are_told_of_the_hold_without_the_rules_words(world, shipper):
    texts = [title(n) for n in Notification.objects.filter(user=shipper.user)]
    assert any("held for inspection" in text for text in texts)
    assert any(REJECTION in text for text in texts)
    assert not any(world["hold_reason"] in text or RELEASE_NOTE in text for text in texts)


def test_the_declaration_shows_the_trader_its_decisions_but_not_the_risk_rules(world, shipper, api_client):
    reference = world["declaration"].reference
    _key, raw = factories.api_key(shipper.org, scopes=[Scope.DECLARATIONS_READ])
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    answer = api_client.get(f"/api/v1/declarations/{reference}/").json()
    assert answer["risk_selected"] is True and answer["risk_reasons"] == []
    assert [d["reason"] for d in answer["decisions"]] == [REJECTION]

    page = Client()
    page.force_login(shipper.user)
    html = page.get(f"/declarations/{reference}/").content.decode()
    assert world["hold_reason"] not in html and "High value" not in html and REJECTION in html

    officer = Client()
    officer.force_login(factories.user(world["orgs"][K.CUSTOMS]))
    assert world["hold_reason"] in officer.get(f"/declarations/{reference}/").content.decode()


def test_a_party_with_no_kind_in_the_serializer_context_sees_no_officers_words(world):
    from tracking.api import EventOutSerializer

    hold = Event.objects.get(event_code="HOLD")
    assert EventOutSerializer(hold).data["reason"] == ""
    assert EventOutSerializer(hold, context={"party_kind": K.CUSTOMS}).data["reason"] == world["hold_reason"]


def test_the_export_as_csv_has_the_rows_the_party_reads(world):
    org = world["orgs"][K.ENTERPRISE]
    rows = list(csv.reader(io.StringIO(_export(org))))
    assert len(rows) - 1 == len(_reads(org)["ours"])
    assert Decimal("600000") not in {Decimal(cell) for row in rows for cell in row if cell.isdigit()}


def test_the_relays_query_built_once_for_a_kind_answers_each_organisation_as_the_rule_does(
        world, other_shipper, connecting):
    """visible_ids runs the rule's SQL built once per party kind, with the organisation's id put in: each party,
    and a second shipper after the first, is answered exactly as the rule itself answers it."""
    from tracking import visibility

    theirs = book(other_shipper.actor, connecting, lines={"42G1": 1})
    booking_services.container_assign(actor=other_shipper.actor, booking=theirs, number="MSKU9070323",
                                      size_type="42G1")
    ids = list(Event.objects.values_list("pk", flat=True))
    times = Event.objects.aggregate(first=Min("created_at"), last=Max("created_at"))
    window = (times["first"], times["last"])
    before = (times["first"] - timedelta(days=2), times["first"] - timedelta(days=1))
    organisations = [*world["orgs"].values(), other_shipper.org]
    for organisation in organisations:
        expected = set(visibility.events_visible(actor=Actor(organisation=organisation)).filter(pk__in=ids)
                       .values_list("pk", flat=True))
        assert visibility.visible_ids(organisation, ids) == expected, organisation.kind
        # As the relay asks it, with what its batch's events name.
        named = visibility.named_in(Event.objects.values_list("booking_reference", "transport_reference"))
        assert visibility.visible_ids(organisation, ids, named) == expected, organisation.kind
        # And within the batch's times, as the relay asks it: the same; the routes' parties' events are looked for
        # within them alone.
        assert visibility.visible_ids(organisation, ids, named, window) == expected, organisation.kind
        if organisation.kind in visibility._NAMED_KINDS:
            assert expected
            assert visibility.visible_ids(organisation, ids, named, before) == set(), organisation.kind

    # Each kind that sees anything has its query kept, but those decided for the bookings and transports the events
    # name (the routes' parties); the two shippers see their own bookings' events, apart.
    assert {kind for kind, query in visibility._VISIBLE_IDS.items() if query.compiled("default")} == set(
        K.values) - {K.LOCAL_GOVERNMENT, K.STATION_OPERATOR, K.RAILWAY, K.PORT}
    assert not visibility._NAMED_KINDS & set(visibility._VISIBLE_IDS)
    # Theirs, for what a batch names within its times, is kept too: its bookings, departures and vessel calls are
    # arrays, so their numbers do not change its SQL.
    assert all(visibility._NAMED_IDS[kind].compiled("default") for kind in visibility._NAMED_KINDS)
    port = world["orgs"][K.PORT]
    nothing = visibility.Named([], [], [])
    assert visibility.visible_ids(port, ids, nothing, window) == set(
        visibility.events_visible(actor=Actor(organisation=port), bookings_named=[], transports_named=[])
        .filter(pk__in=ids).values_list("pk", flat=True))
    mine, yours = (visibility.visible_ids(org, ids) for org in (world["orgs"][K.ENTERPRISE], other_shipper.org))
    references = dict(Event.objects.values_list("pk", "booking_reference"))
    assert {references[pk] for pk in yours} - {""} == {theirs.reference}
    assert theirs.reference not in {references[pk] for pk in mine} and mine
