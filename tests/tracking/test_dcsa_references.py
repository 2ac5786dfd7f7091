"""DCSA Track & Trace 2.2.0 as DCSA's Conformance-Gateway plays it: a rail or barge call's carrierServiceCode (the
service's short code), the B/L as TRD reference on its booking's events once issued, a container's reference on
the transports it was loaded on and on its booking's shipment events, and a 400 for a filter that does not apply
to the eventType asked for (the Gateway's QueryParameterSpecificRule)."""

from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from bookings import services as bookings_services
from documents import bill_of_lading as bl
from intermodal.access import Actor
from intermodal.models import Scope
from journey import services as journey
from tests import factories
from tests.bookings.conftest import book
from tests.bookings.test_dcsa import URL, assert_dcsa_error, assert_dcsa_event, bearer
from tests.bookings.test_journey import vgm
from tests.conftest import connecting_of, party, rolled_back
from tests.statements import statements_run

pytestmark = pytest.mark.django_db

MINE = ["CSQU3054383", "TCNU7200794"]
THEIRS = "TOLU4734787"
BILL = {"shipper_name": "Yiwu Crafts Co., Ltd.", "shipper_address": "88 Chouzhou Road, Yiwu",
        "consignee_name": "Rotterdam Gifts B.V.", "consignee_address": "Waalhaven 12, Rotterdam",
        "notify_name": "Maas Customs Brokers", "notify_address": "Kade 5, Rotterdam",
        "goods_description": "Christmas decorations"}


def _to_station(actor, station, booking, numbers):
    request = bookings_services.empty_request_create(actor=actor, booking=booking, size_type="42G1",
                                                     quantity=len(numbers))
    journey.empty_request_ready(actor=station, request=request)
    for n, number in enumerate(numbers):
        journey.empty_hand_out(actor=station, request=request, number=number)
        journey.laden_gate_in(actor=station, number=number, **vgm(n))


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Two shippers' containers on one train; the first shipper's B/L issued before loading; the train gone. Built
    once for the module's tests inside a transaction rolled back at its end (each test's own transaction is a
    savepoint in it): built for each of its 29 tests, it cost about 1.3 s a test."""
    with rolled_back(django_db_blocker):
        yield world_built(party("shipper-a", "alice"), party("shipper-b", "bob"),
                          connecting_of(factories.small_network()))


# The module's parties and train are the world's.
@pytest.fixture
def shipper(world):
    return world.shipper


@pytest.fixture
def other_shipper(world):
    return world.other_shipper


@pytest.fixture
def connecting(world):
    return world.connecting


def world_built(shipper, other_shipper, connecting) -> SimpleNamespace:
    network = connecting.network
    network.yiwu.issues_bills_of_lading = True
    network.yiwu.save(update_fields=["issues_bills_of_lading"])
    station = Actor(organisation=network.operator, user=factories.user(network.operator))
    railway = Actor(organisation=network.railway, user=factories.user(network.railway))
    departure = connecting.departure

    booking = book(shipper.actor, connecting, lines={"42G1": 2})
    theirs = book(other_shipper.actor, connecting, lines={"42G1": 1})
    _to_station(shipper.actor, station, booking, MINE)
    _to_station(other_shipper.actor, station, theirs, [THEIRS])
    bl.bill_of_lading_request(actor=shipper.actor, booking=booking, **BILL)
    factories.declaration_released(booking)
    bill = bl.bill_of_lading_issue(actor=station, booking=booking, verify_url=lambda token: f"https://x/{token}")
    for number in [*MINE, THEIRS]:
        journey.train_load(actor=station, number=number)
    journey.train_depart(actor=railway, departure=departure, at=departure.planned_departure)
    journey.train_arrive(actor=railway, departure=departure, at=departure.planned_arrival)

    _key, raw = factories.api_key(shipper.org, scopes=[Scope.EVENTS_READ])
    _key, other_raw = factories.api_key(other_shipper.org, scopes=[Scope.EVENTS_READ])
    return SimpleNamespace(booking=booking, theirs=theirs, bill=bill, departure=departure, raw=raw,
                           other_raw=other_raw, short_code=departure.service.short_code, call=connecting.vessel_call,
                           shipper=shipper, other_shipper=other_shipper, connecting=connecting)


def fetch(client, raw: str, **params):
    response = client.get(URL, {"limit": 1000, **params}, **bearer(raw))
    assert response.status_code == 200, response.content
    events = response.json()
    for event in events:
        assert_dcsa_event(event)
    return events


def _codes(event: dict) -> str:
    return event.get("equipmentEventTypeCode") or event.get("transportEventTypeCode") or event["shipmentEventTypeCode"]


def _document_references(event: dict, kind: str) -> list[str]:
    return [d["documentReferenceValue"] for d in event.get("documentReferences", [])
            if d["documentReferenceType"] == kind]


def _containers(event: dict) -> list[str]:
    named = [r["referenceValue"] for r in event.get("references", []) if r["referenceType"] == "EQ"]
    return [event["equipmentReference"], *named] if "equipmentReference" in event else named


# --- carrierServiceCode ----------------------------------------------------------------------------------


def test_rail_calls_carry_the_service_short_code_and_the_filter_finds_exactly_them(api_client, world):
    events = fetch(api_client, world.raw)
    on_train = [e for e in events if (e.get("transportCall") or {}).get("modeOfTransport") == "RAIL"]

    found = fetch(api_client, world.raw, carrierServiceCode=world.short_code)
    other = fetch(api_client, world.raw, carrierServiceCode="JIN01")
    transport_only = fetch(api_client, world.raw, carrierServiceCode=world.short_code, eventType="TRANSPORT")

    assert world.short_code == "YIW01"
    assert {_codes(e) for e in on_train} == {"LOAD", "DEPA", "ARRI"}
    assert all(e["transportCall"]["carrierServiceCode"] == "YIW01" for e in on_train)
    assert found == on_train
    assert other == []
    assert [_codes(e) for e in transport_only] == ["DEPA", "ARRI"]


# --- transportDocumentReference --------------------------------------------------------------------------


def test_once_issued_the_bookings_events_carry_the_bl_and_the_filter_finds_them(api_client, world):
    number = world.bill.number
    events = fetch(api_client, world.raw)
    equipment = [e for e in events if e["eventType"] == "EQUIPMENT"]
    transports = [e for e in events if e["eventType"] == "TRANSPORT"]
    issued = [e for e in events if e["eventType"] == "SHIPMENT" and e["documentTypeCode"] == "TRD"]

    found = fetch(api_client, world.raw, transportDocumentReference=number)
    by_type = {kind: fetch(api_client, world.raw, transportDocumentReference=number, eventType=kind)
               for kind in ("SHIPMENT", "TRANSPORT", "EQUIPMENT")}
    theirs = fetch(api_client, world.other_raw)

    assert len(number) <= 20
    assert equipment and all(_document_references(e, "TRD") == [number] for e in equipment)
    assert transports and all(_document_references(e, "TRD") == [number] for e in transports)
    assert [(e["shipmentEventTypeCode"], e["documentID"]) for e in issued] == [("ISSU", number)]
    assert {e["eventID"] for e in found} == {e["eventID"] for e in equipment + transports + issued}
    assert all(number in [*_document_references(e, "TRD"), e.get("documentID")] for e in found)
    assert {k: {e["eventType"] for e in v} for k, v in by_type.items()} == {
        "SHIPMENT": {"SHIPMENT"}, "TRANSPORT": {"TRANSPORT"}, "EQUIPMENT": {"EQUIPMENT"}}
    # The other shipper shares the train: its view shows its own booking, never this one's B/L.
    assert theirs and not any(number in _document_references(e, "TRD") for e in theirs)
    assert fetch(api_client, world.other_raw, transportDocumentReference=number) == []
    assert fetch(api_client, world.raw, transportDocumentReference="BLNOSUCH0000001") == []


def test_before_the_bl_is_issued_no_event_names_it(api_client, world):
    events = fetch(api_client, world.other_raw)

    assert events and not any(_document_references(e, "TRD") for e in events)
    assert not any(e.get("documentTypeCode") == "TRD" for e in events)


# --- equipmentReference ----------------------------------------------------------------------------------


def test_a_container_finds_its_own_events_its_trains_and_its_bookings_shipment_events(api_client, world):
    number = MINE[0]
    events = fetch(api_client, world.raw)

    found = fetch(api_client, world.raw, equipmentReference=number)
    transports = fetch(api_client, world.raw, equipmentReference=number, eventType="TRANSPORT")
    shipments = fetch(api_client, world.raw, equipmentReference=number, eventType="SHIPMENT")

    assert found == [e for e in events if number in _containers(e)]
    assert {e["eventType"] for e in found} == {"EQUIPMENT", "TRANSPORT", "SHIPMENT"}
    assert [_codes(e) for e in transports] == ["DEPA", "ARRI"]
    assert all(e["transportCall"]["transportCallID"] == world.departure.reference for e in transports)
    # The train carried the other shipper's container too: the caller learns only of its own.
    assert all(_containers(e) == MINE for e in transports)
    assert {e["documentID"] for e in shipments} >= {world.booking.reference, world.bill.number}
    assert all(sorted(_containers(e)) == sorted(MINE) for e in shipments)
    assert not any(THEIRS in _containers(e) for e in events)
    assert fetch(api_client, world.raw, equipmentReference=THEIRS) == []


# --- The Gateway's QueryParameterSpecificRule ------------------------------------------------------------


@pytest.mark.parametrize(("params", "parameter"), [
    ({"eventType": "SHIPMENT", "transportEventTypeCode": "ARRI"}, "transportEventTypeCode"),
    ({"eventType": "SHIPMENT", "equipmentEventTypeCode": "LOAD"}, "equipmentEventTypeCode"),
    ({"eventType": "SHIPMENT", "UNLocationCode": "CNYIU"}, "UNLocationCode"),
    ({"eventType": "SHIPMENT", "carrierServiceCode": "YIW01"}, "carrierServiceCode"),
    ({"eventType": "SHIPMENT", "vesselIMONumber": "9811000"}, "vesselIMONumber"),
    ({"eventType": "SHIPMENT", "transportCallID": "x"}, "transportCallID"),
    ({"eventType": "TRANSPORT", "shipmentEventTypeCode": "DRFT"}, "shipmentEventTypeCode"),
    ({"eventType": "TRANSPORT", "equipmentEventTypeCode": "LOAD"}, "equipmentEventTypeCode"),
    ({"eventType": "TRANSPORT", "documentTypeCode": "TRD"}, "documentTypeCode"),
    ({"eventType": "EQUIPMENT", "shipmentEventTypeCode": "DRFT"}, "shipmentEventTypeCode"),
    ({"eventType": "EQUIPMENT", "transportEventTypeCode": "DEPA"}, "transportEventTypeCode"),
    ({"eventType": "EQUIPMENT", "transportDocumentID": "123e4567-e89b-12d3-a456-426614174000"}, "transportDocumentID"),
    ({"eventType": "TRANSPORT,EQUIPMENT", "shipmentEventTypeCode": "DRFT"}, "shipmentEventTypeCode"),
])
def test_a_filter_that_does_not_apply_to_the_event_type_is_a_400_naming_it(api_client, world, params, parameter):
    body = assert_dcsa_error(api_client.get(URL, params, **bearer(world.raw)), 400)

    assert [e["reason"] for e in body["errors"]] == ["invalidQuery"]
    assert body["errors"][0]["message"].startswith(f"{parameter}: This filter does not apply to eventType ")


@pytest.mark.parametrize("params", [
    {"eventType": "SHIPMENT,TRANSPORT", "transportEventTypeCode": "DEPA"},
    {"eventType": "SHIPMENT", "carrierBookingReference": "BK", "equipmentReference": "CSQU3054383",
     "transportDocumentReference": "BL", "eventCreatedDateTime:gte": "2020-01-01T00:00:00Z", "limit": "5",
     "sort": "eventCreatedDateTime:DESC"},
    {"eventType": "EQUIPMENT", "carrierServiceCode": "YIW01", "UNLocationCode": "CNYIU",
     "equipmentEventTypeCode": "LOAD"},
    # Without an eventType, contradicting filters answer an empty list, as the spec's description says.
    {"shipmentEventTypeCode": "DRFT", "equipmentEventTypeCode": "GTIN"},
])
def test_filters_that_apply_to_an_event_type_asked_for_answer_200(api_client, world, params):
    response = api_client.get(URL, params, **bearer(world.raw))

    assert response.status_code == 200
    assert isinstance(response.json(), list)


def test_a_page_takes_the_same_queries_whatever_its_size(api_client, world):
    fetch(api_client, world.raw)  # the key's last use is written once a minute

    with CaptureQueriesContext(connection) as small:
        one = api_client.get(URL, {"limit": 1}, **bearer(world.raw))
    with CaptureQueriesContext(connection) as large:
        every = api_client.get(URL, {"limit": 1000}, **bearer(world.raw))

    assert len(one.json()) == 1 and len(every.json()) > 10
    # key, events, stations, terminals, vessel calls, departures' services, bookings and B/Ls, containers
    assert len(large) <= 8 and len(small) <= 8


# --- Visibility decided for what a filter names ----------------------------------------------------------


def _among(world) -> list:
    from django.db.models import Q

    from intermodal.codes import EventType
    return [Q(equipment_reference=MINE[0]), Q(equipment_reference=THEIRS), Q(equipment_reference__in=[*MINE, THEIRS]),
            Q(transport_reference=world.departure.reference), Q(booking_reference=world.booking.reference),
            Q(event_type=EventType.TRANSPORT), Q(event_type=EventType.EQUIPMENT, event_code="LOAD")]


def test_visibility_decided_for_the_named_events_alone_is_the_partys_own(world, shipper, other_shipper, connecting):
    """visible_among reads what a few events name and decides their visibility for those bookings and trains
    alone: for every party and filter it answers what the party's whole visibility answers."""
    from tracking.visibility import events_visible, visible_among

    network = connecting.network
    parties = [shipper.org, other_shipper.org, network.operator, network.railway, network.port,
               factories.organisation("platform_admin", code="admin")]
    for organisation in parties:
        actor = Actor(organisation=organisation)
        for among in _among(world):
            expected = set(events_visible(actor=actor).filter(among).values_list("pk", flat=True))
            assert set(visible_among(actor=actor, among=among).values_list("pk", flat=True)) == expected, (
                organisation.kind, among)
    # Not vacuous: the shipper sees its container's events, not the other shipper's.
    mine = visible_among(actor=shipper.actor, among=_among(world)[2])
    assert {e.equipment_reference for e in mine} == set(MINE)


def test_a_containers_poll_reads_none_of_the_shippers_other_bookings(api_client, world, shipper):
    """A container's poll decides visibility for the bookings and trains its events name: no query reads every
    booking of the shipper (at a year of traffic, thousands, once per monthly partition: P8's multi-second
    tails)."""
    fetch(api_client, world.raw)  # the key's last use is written once a minute

    with statements_run() as ran:
        found = fetch(api_client, world.raw, equipmentReference=MINE[0])
        by_booking = fetch(api_client, world.raw, carrierBookingReference=world.booking.reference)

    assert found and by_booking
    unrestricted = f'WHERE U0."shipper_id" = {shipper.org.pk})'
    reads = [sql for sql in ran if "intermodal_event" in sql]
    assert reads and not [sql for sql in reads if unrestricted in sql]


def test_a_bookings_poll_reads_the_loads_of_its_own_bookings_only(api_client, world, shipper):
    """The containers each train or vessel event names are read from the loads of the caller's bookings on it, by
    the events' booking index: another shipper's loads on the same train are neither read nor shown (at a year of
    traffic a vessel carries a thousand and more: P8's booking poll read them all)."""
    fetch(api_client, world.raw)

    with statements_run() as ran:
        events = fetch(api_client, world.raw, carrierBookingReference=world.booking.reference)

    def containers(event) -> set[str]:
        return {r["referenceValue"] for r in event.get("references", []) if r["referenceType"] == "EQ"}

    departures = [e for e in events if e["eventType"] == "TRANSPORT"]
    assert departures and all(containers(d) <= set(MINE) for d in departures)
    assert any(containers(d) == set(MINE) for d in departures)
    # The other shipper's booking on the same train is never so much as named in a query.
    reads = [sql for sql in ran if "intermodal_event" in sql]
    assert reads and not [sql for sql in reads if world.theirs.reference in sql]


def test_a_polls_reads_of_the_events_are_planned_once_per_session_for_every_party(api_client, world):
    """Each read of the events a poll makes is a statement prepared for its shape (databases/prepared.py
    shaped_rows) the first time the session meets the shape: a container's next poll, and another shipper's poll of
    its own container, run them again by EXECUTE (P8: at a year of events a poll spent more planning than running),
    and answer what the ORM answers."""
    fetch(api_client, world.raw)
    first = fetch(api_client, world.raw, equipmentReference=MINE[0])

    polls = {(world.raw, MINE[1]): None, (world.other_raw, THEIRS): None}
    for raw, number in polls:
        with CaptureQueriesContext(connection) as captured:
            polls[raw, number] = fetch(api_client, raw, equipmentReference=number)
        sent = [query["sql"] for query in captured.captured_queries]
        event_reads = [sql for sql in sent if "intermodal_event" in sql or sql.startswith("EXECUTE shape_")]
        assert len(event_reads) >= 3 and all(sql.startswith("EXECUTE shape_") for sql in event_reads), sent
        assert {event["equipmentReference"] for event in polls[raw, number]
                if event["eventType"] == "EQUIPMENT"} == {number}

    with override_settings(DATABASE_PREPARED_STATEMENTS=False):
        assert fetch(api_client, world.raw, equipmentReference=MINE[0]) == first
        for (raw, number), answer in polls.items():
            assert fetch(api_client, raw, equipmentReference=number) == answer


# --- The platform's own feed, filtered ------------------------------------------------------------------------


def test_the_platforms_feed_by_booking_container_or_transport_is_what_each_party_may_read(world, shipper,
                                                                                           other_shipper, connecting):
    """GET /api/v1/events/ filtered by a booking, a container or a transport decides visibility for what those
    events name alone (visible_among), and answers every party what its whole visibility answers."""
    from django.db.models import Q

    from tracking.visibility import events_visible

    network = connecting.network
    parties = [shipper.org, other_shipper.org, network.operator, network.railway, network.port,
               factories.organisation("platform_admin", code="admin")]
    asked = [({"container": MINE[0]}, Q(equipment_reference=MINE[0])),
             ({"container": "ｃｓｑｕ 305438-3"}, Q(equipment_reference=MINE[0])),
             ({"container": THEIRS}, Q(equipment_reference=THEIRS)),
             ({"booking": world.booking.reference}, Q(booking_reference=world.booking.reference)),
             ({"transport": world.departure.reference}, Q(transport_reference=world.departure.reference)),
             ({"transport": world.departure.reference, "container": THEIRS},
              Q(transport_reference=world.departure.reference, equipment_reference=THEIRS))]
    for organisation in parties:
        _key, raw = factories.api_key(organisation, scopes=[Scope.EVENTS_READ])
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        for params, among in asked:
            answer = client.get("/api/v1/events/", {**params, "page_size": 1000})
            assert answer.status_code == 200, answer.content
            expected = events_visible(actor=Actor(organisation=organisation)).filter(among)
            assert sorted(e["event_id"] for e in answer.json()["results"]) == sorted(
                str(event_id) for event_id in expected.values_list("event_id", flat=True)), (organisation.kind, params)
    # Not vacuous: the shipper reads its container's events and not the other shipper's.
    _key, raw = factories.api_key(shipper.org, scopes=[Scope.EVENTS_READ])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/events/", {"container": MINE[0]}).json()["results"]
    assert client.get("/api/v1/events/", {"container": THEIRS}).json()["results"] == []


def test_the_platforms_feed_by_container_reads_none_of_the_shippers_other_bookings(api_client, world, shipper):
    api_client.get("/api/v1/events/", **bearer(world.raw))  # the key's last use is written once a minute

    with statements_run() as ran:
        found = api_client.get("/api/v1/events/", {"container": MINE[0]}, **bearer(world.raw))

    assert found.status_code == 200 and found.json()["results"]
    unrestricted = f'WHERE U0."shipper_id" = {shipper.org.pk})'
    reads = [sql for sql in ran if "intermodal_event" in sql]
    assert reads and not [sql for sql in reads if unrestricted in sql]


def _feed(client, raw: str, params: dict) -> list[dict]:
    """Every page of GET /api/v1/events/ for these filters, followed by its cursor."""
    found, url, query = [], "/api/v1/events/", params
    while url:
        answer = client.get(url, query, **bearer(raw))
        assert answer.status_code == 200, answer.content
        found += answer.json()["results"]
        url, query = answer.json()["next"], None
    return found


def test_the_platforms_filtered_feed_reads_its_pages_by_prepared_statements(api_client, world):
    """A filtered page of GET /api/v1/events/ is read by a statement prepared for the shape of its filters
    (databases/prepared.py ShapedQuerySet): the next poll of another container runs it again by EXECUTE, and every
    page, followed by its cursor, is what the ORM answers."""
    asked = [{"container": MINE[0], "page_size": 2}, {"container": MINE[1], "page_size": 2},
             {"booking": world.booking.reference, "page_size": 3}]
    _feed(api_client, world.raw, asked[0])

    with CaptureQueriesContext(connection) as captured:
        api_client.get("/api/v1/events/", asked[1], **bearer(world.raw))
    sent = [query["sql"] for query in captured.captured_queries]
    pages = [sql for sql in sent if sql.startswith("EXECUTE shape_") or 'FROM "intermodal_event"' in sql]
    assert pages and all(sql.startswith("EXECUTE shape_") for sql in pages), sent

    answers = [_feed(api_client, world.raw, params) for params in asked]
    with override_settings(DATABASE_PREPARED_STATEMENTS=False):
        assert [_feed(api_client, world.raw, params) for params in asked] == answers
    # Not vacuous: each container's events span pages, its own only.
    for number, answer in zip(MINE, answers, strict=False):
        assert len(answer) > 2 and {e["equipment_reference"] for e in answer if e["event_type"] == "EQUIPMENT"} == {
            number}
