"""Contract test of the DCSA Track & Trace 2.2.0 events endpoint against DCSA's own OpenAPI file.

Every event returned is validated against the spec's schemas (OpenAPI 3.0 schema objects, read as the JSON
Schema draft 4 they extend: `nullable` and the OpenAPI-only keywords are translated, `date-time` and `uuid`
formats are checked), and once more against a closed copy that allows no property the spec does not name.
"""

import copy
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from bookings import services
from bookings import services as bookings_services
from intermodal.access import Actor
from intermodal.codes import NOT_IN_DCSA_220
from intermodal.events import event_record
from intermodal.models import Event, Scope
from journey import services as journey
from tests import factories
from tests.bookings.conftest import book
from tests.conftest import connecting_of, party, rolled_back
from tests.dcsa_spec import FORMATS, DcsaSpec, assert_valid, closed  # noqa: F401 - FORMATS for other tests
from tracking import dcsa

pytestmark = pytest.mark.django_db

URL = "/api/dcsa/tnt/v2/events"
# DCSA's file, copied into the suite with its license (tests/fixtures/standards/README.md).
SPEC_FILE = Path(__file__).resolve().parents[1] / "fixtures" / "standards" / "dcsa" / "TNT_v2.2.0-resolved.yaml"
NUMBERS = ["CSQU3054383", "TCNU7200794"]


# --- The spec, as JSON Schema ----------------------------------------------------------------------------

TNT = DcsaSpec(SPEC_FILE)
spec = TNT.raw
schema = TNT.schema


def list_item_schema() -> dict:
    return TNT.response_schema("/v2/events", item=True)


EVENT_SCHEMA = {"EQUIPMENT": "equipmentEvent", "TRANSPORT": "transportEvent", "SHIPMENT": "shipmentEvent"}


def assert_dcsa_event(event: dict) -> None:
    assert_valid(event, list_item_schema(), f"event {event.get('eventID')}")
    assert_valid(event, closed(schema(EVENT_SCHEMA[event["eventType"]])), f"event {event.get('eventID')} (closed)")


def assert_dcsa_error(response, status: int) -> dict:
    assert response.status_code == status
    assert response["API-Version"] == "2.2.0"
    body = response.json()
    assert_valid(body, closed(schema("inline_response_default")), "error")
    assert body["statusCode"] == status
    assert body["httpMethod"] == "GET"
    assert body["errors"] and all(e["message"] for e in body["errors"])
    assert datetime.fromisoformat(body["errorDateTime"].replace("Z", "+00:00")).tzinfo is not None
    return body


# --- A journey: booking, empties, station, train, port, vessel -------------------------------------------


def bearer(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture(scope="module")
def tracked(django_db_setup, django_db_blocker):
    """The journey, built once for the module's tests inside a transaction rolled back at its end (each test's own
    transaction is a savepoint in it): built for each of the 57 tests that read it, it cost 1.6-3.4 s a test."""
    with rolled_back(django_db_blocker):
        yield journey_built(party("shipper-a", "alice"), party("shipper-b", "bob"),
                            connecting_of(factories.small_network()))


def journey_built(shipper, other_shipper, connecting) -> SimpleNamespace:
    network = connecting.network
    station = Actor(organisation=network.operator, user=factories.user(network.operator))
    railway = Actor(organisation=network.railway, user=factories.user(network.railway))
    port = Actor(organisation=network.port, user=factories.user(network.port))
    departure, call = connecting.departure, connecting.vessel_call
    leaves = departure.planned_departure

    # Another shipper on the same train, and a booking cancelled (CANC: stored, never emitted).
    other_booking = book(other_shipper.actor, connecting, lines={"22G1": 1})
    cancelled = book(shipper.actor, connecting, lines={"22G1": 1})
    services.booking_cancel(actor=shipper.actor, booking=cancelled, reason="Order withdrawn")
    booking = book(shipper.actor, connecting, lines={"42G1": 2})
    request = bookings_services.empty_request_create(actor=shipper.actor, booking=booking, size_type="42G1", quantity=2)
    journey.empty_request_ready(actor=station, request=request)
    for n, number in enumerate(NUMBERS):
        journey.empty_hand_out(actor=station, request=request, number=number)
        journey.laden_gate_in(confirmed=True,
            actor=station, number=number, seal_number=f"SEAL{n:05d}", vgm_kg=Decimal("24500"),
                              vgm_method=1, vgm_signatory="Chen Jie")
    journey.departure_estimate(actor=railway, departure=departure, estimated_departure=leaves + timedelta(hours=1),
                               reason="Locomotive change")
    for number in NUMBERS:
        journey.train_load(confirmed=True, actor=station, number=number)
    journey.train_depart(confirmed=True, actor=railway, departure=departure, at=leaves + timedelta(hours=1))
    journey.train_arrive(confirmed=True, actor=railway, departure=departure, at=leaves + timedelta(hours=9))
    factories.declaration_released(booking)
    for number in NUMBERS:
        journey.train_discharge(confirmed=True, actor=port, number=number)
        journey.terminal_gate_in(confirmed=True, actor=port, number=number, at=call.cy_cutoff - timedelta(hours=2))
        journey.vessel_load(confirmed=True, actor=port, number=number)
    journey.vessel_call_estimate(actor=port, vessel_call=call, eta=call.eta + timedelta(hours=2),
                                 reason="Berth congestion")
    journey.vessel_depart(confirmed=True, actor=port, vessel_call=call)

    # Stored, never emitted: a document type outside the 2.2.0 enum.
    odd_document = event_record(event_type="SHIPMENT", event_code="ISSU", organisation=shipper.org,
                                booking_reference=booking.reference, document_type="SWB",
                                document_reference="SWB-1")

    _key, raw = factories.api_key(shipper.org, scopes=[Scope.EVENTS_READ])
    _other_key, other_raw = factories.api_key(other_shipper.org, scopes=[Scope.EVENTS_READ])
    return SimpleNamespace(booking=booking, cancelled=cancelled, other_booking=other_booking, departure=departure,
                           call=call, raw=raw, other_raw=other_raw, odd_document=odd_document, network=network,
                           shipper=shipper, other_shipper=other_shipper)


def fetch(client, raw: str, path: str = URL, headers: dict | None = None, **params):
    return client.get(path, params, headers=headers, **bearer(raw))


def everything(client, raw: str) -> list[dict]:
    response = fetch(client, raw, limit=1000)
    assert response.status_code == 200
    assert "Next-Page" not in response
    return response.json()


# --- The payload -----------------------------------------------------------------------------------------


def test_every_event_conforms_to_the_dcsa_220_schema(api_client, tracked):
    response = fetch(api_client, tracked.raw, limit=1000)
    events = response.json()

    assert response.status_code == 200
    assert response["API-Version"] == "2.2.0"
    assert response["Current-Page"].endswith(f"{URL}?limit=1000")
    assert "First-Page" in response
    assert isinstance(events, list)
    for event in events:
        assert_dcsa_event(event)
    assert {e["eventType"] for e in events} == {"EQUIPMENT", "TRANSPORT", "SHIPMENT"}
    assert {e["eventClassifierCode"] for e in events if e["eventType"] == "TRANSPORT"} == {"ACT", "EST"}
    created = [e["eventCreatedDateTime"] for e in events]
    assert created == sorted(created, key=lambda v: datetime.fromisoformat(v.replace("Z", "+00:00")))


def test_the_response_is_exactly_the_callers_events_dcsa_can_carry(api_client, tracked):
    mine = Event.objects.filter(
        Q(booking_reference__in=[tracked.booking.reference, tracked.cancelled.reference])
        | Q(booking_reference="", transport_reference__in=[tracked.departure.reference, tracked.call.reference])
    ).exclude(event_code__in=NOT_IN_DCSA_220).exclude(pk=tracked.odd_document.pk)

    ids = [e["eventID"] for e in everything(api_client, tracked.raw)]

    assert len(ids) == len(set(ids))
    assert set(ids) == {str(i) for i in mine.values_list("event_id", flat=True)}


def by_code(events: list[dict], code: str, **match) -> list[dict]:
    code_fields = ("equipmentEventTypeCode", "transportEventTypeCode", "shipmentEventTypeCode")
    return [e for e in events if code in (e.get(f) for f in code_fields)
            and all(e.get(k) == v for k, v in match.items())]


def test_equipment_events_carry_container_place_transport_booking_and_seal(api_client, tracked):
    events = everything(api_client, tracked.raw)
    gate_in = by_code(events, "GTIN", equipmentReference=NUMBERS[0])
    empty_out = by_code(events, "GTOT", equipmentReference=NUMBERS[0])[0]
    rail_load, vessel_load = by_code(events, "LOAD", equipmentReference=NUMBERS[0])

    at_station = gate_in[0]
    assert at_station["emptyIndicatorCode"] == "LADEN"
    assert empty_out["emptyIndicatorCode"] == "EMPTY"
    assert at_station["ISOEquipmentCode"] == "42G1"
    assert at_station["eventLocation"] == {"locationName": "Yiwu West", "UNLocationCode": "CNYIU"}
    assert at_station["seals"] == [{"sealNumber": "SEAL00000", "sealType": "BLT"}]
    assert at_station["documentReferences"] == [{"documentReferenceType": "BKG",
                                                 "documentReferenceValue": tracked.booking.reference}]
    assert at_station["eventDateTime"].endswith("+08:00")
    assert "transportCall" not in at_station
    assert gate_in[1]["eventLocation"]["UNLocationCode"] == "CNBLG"
    assert rail_load["transportCall"] == {
        "transportCallID": tracked.departure.reference, "modeOfTransport": "RAIL", "UNLocationCode": "CNYIU",
        "facilityTypeCode": "INTE", "otherFacility": "Yiwu West",
        "carrierServiceCode": tracked.departure.service.short_code}
    assert vessel_load["transportCall"] == {
        "transportCallID": tracked.call.reference, "modeOfTransport": "VESSEL", "UNLocationCode": "CNBLG",
        "facilityTypeCode": "POTE", "otherFacility": "Beilun", "exportVoyageNumber": tracked.call.voyage,
        "vessel": {"vesselIMONumber": "9811000", "vesselName": "Demo Express", "vesselOperatorCarrierCode": "COSU",
                   "vesselOperatorCarrierCodeListProvider": "NMFTA"}}


def test_transport_events_carry_the_call_the_estimate_reason_and_the_callers_bookings(api_client, tracked):
    events = everything(api_client, tracked.raw)
    estimated = by_code(events, "DEPA", eventClassifierCode="EST")
    actual_departures = by_code(events, "DEPA", eventClassifierCode="ACT")

    assert [e["transportCall"]["modeOfTransport"] for e in estimated] == ["RAIL"]
    assert estimated[0]["changeRemark"] == "Locomotive change"
    assert "delayReasonCode" not in estimated[0]
    assert [e["transportCall"]["modeOfTransport"] for e in actual_departures] == ["RAIL", "VESSEL"]
    assert {e["transportCall"]["transportCallID"] for e in by_code(events, "ARRI")} == {
        tracked.departure.reference, tracked.call.reference}
    for event in estimated + actual_departures:
        # Only the caller's bookings on the train or vessel, never the other shipper's.
        assert event["documentReferences"] == [{"documentReferenceType": "BKG",
                                                "documentReferenceValue": tracked.booking.reference}]


def test_shipment_events_carry_the_document_and_the_creation_time(api_client, tracked):
    events = everything(api_client, tracked.raw)
    confirmed = by_code(events, "CONF", documentID=tracked.booking.reference)[0]
    requested = by_code(events, "REQS")[0]

    assert confirmed["documentTypeCode"] == "BKG"
    assert requested["documentTypeCode"] == "CBR"
    assert requested["documentID"] == tracked.booking.reference
    for event in by_code(events, "DRFT") + [confirmed, requested]:
        assert event["eventDateTime"] == event["eventCreatedDateTime"]


def test_one_event_by_id_conforms_to_the_single_event_schema(api_client, tracked):
    events = everything(api_client, tracked.raw)
    single = TNT.response_schema("/v2/events/{eventID}")

    for kind in ("EQUIPMENT", "TRANSPORT", "SHIPMENT"):
        listed = next(e for e in events if e["eventType"] == kind)
        response = fetch(api_client, tracked.raw, f"{URL}/{listed['eventID']}")

        assert response.status_code == 200
        assert response["API-Version"] == "2.2.0"
        assert response.json() == listed
        assert_valid(response.json(), single, f"{kind} event by id")


def test_never_emits_codes_outside_the_220_enums(api_client, tracked):
    avpu = Event.objects.get(event_code="AVPU")
    canc = Event.objects.get(event_code="CANC")

    events = everything(api_client, tracked.raw)
    by_id = [fetch(api_client, tracked.raw, f"{URL}/{e.event_id}") for e in (avpu, canc, tracked.odd_document)]

    codes = {e.get("equipmentEventTypeCode") or e.get("shipmentEventTypeCode") or e.get("transportEventTypeCode")
             for e in events}
    assert not codes & NOT_IN_DCSA_220
    assert "SWB" not in {e.get("documentTypeCode") for e in events}
    for response in by_id:
        assert_dcsa_error(response, 404)
    assert_dcsa_error(fetch(api_client, tracked.raw, equipmentEventTypeCode="AVPU"), 400)
    assert_dcsa_error(fetch(api_client, tracked.raw, shipmentEventTypeCode="CANC"), 400)


def test_the_codes_we_emit_are_the_220_enums():
    def enum(name):
        return set(spec()["components"]["schemas"][name]["enum"])

    assert enum("equipmentEventTypeCode") == dcsa.EQUIPMENT_CODES
    assert enum("transportEventTypeCode") == dcsa.TRANSPORT_CODES
    assert enum("shipmentEventTypeCode") == dcsa.SHIPMENT_CODES
    assert enum("documentTypeCode") == dcsa.DOCUMENT_TYPES
    assert enum("modeOfTransport") == dcsa.MODES
    assert set(dcsa.FACILITY_TYPE.values()) <= enum("facilityTypeCodeTRN")


# --- Filters ---------------------------------------------------------------------------------------------


def _call(event: dict) -> dict:
    return event.get("transportCall") or {}


def _shows_container(event: dict, number: str) -> bool:
    """Its own equipmentReference, or an EQ reference (the trains and vessels it was on, its booking's shipment
    events)."""
    return event.get("equipmentReference") == number or any(
        r["referenceType"] == "EQ" and r["referenceValue"] == number for r in event.get("references", []))


def _shows_booking(event: dict, reference: str) -> bool:
    return event.get("documentID") == reference or any(
        d["documentReferenceValue"] == reference for d in event.get("documentReferences", []))


FILTERS = {
    "eventType": (lambda t: {"eventType": "TRANSPORT"}, lambda e, t: e["eventType"] == "TRANSPORT"),
    "eventType OR": (lambda t: {"eventType": "SHIPMENT,EQUIPMENT"},
                     lambda e, t: e["eventType"] in ("SHIPMENT", "EQUIPMENT")),
    "equipmentEventTypeCode": (lambda t: {"equipmentEventTypeCode": "GTIN"},
                               lambda e, t: e.get("equipmentEventTypeCode") == "GTIN"),
    "equipmentEventTypeCode OR": (lambda t: {"equipmentEventTypeCode": "GTOT,DISC"},
                                  lambda e, t: e.get("equipmentEventTypeCode") in ("GTOT", "DISC")),
    "transportEventTypeCode": (lambda t: {"transportEventTypeCode": "ARRI"},
                               lambda e, t: e.get("transportEventTypeCode") == "ARRI"),
    "shipmentEventTypeCode OR": (lambda t: {"shipmentEventTypeCode": "CONF,REQS"},
                                 lambda e, t: e.get("shipmentEventTypeCode") in ("CONF", "REQS")),
    "documentTypeCode": (lambda t: {"documentTypeCode": "CBR"}, lambda e, t: e.get("documentTypeCode") == "CBR"),
    "carrierBookingReference": (lambda t: {"carrierBookingReference": t.booking.reference},
                                lambda e, t: _shows_booking(e, t.booking.reference)),
    "carrierBookingReference OR": (
        lambda t: {"carrierBookingReference": f"{t.booking.reference},{t.cancelled.reference}"},
        lambda e, t: _shows_booking(e, t.booking.reference) or _shows_booking(e, t.cancelled.reference)),
    "equipmentReference": (lambda t: {"equipmentReference": NUMBERS[0]},
                           lambda e, t: _shows_container(e, NUMBERS[0])),
    "equipmentReference OR": (lambda t: {"equipmentReference": ",".join(NUMBERS)},
                              lambda e, t: any(_shows_container(e, number) for number in NUMBERS)),
    "UNLocationCode": (lambda t: {"UNLocationCode": "CNBLG"},
                       lambda e, t: "CNBLG" in ((e.get("eventLocation") or {}).get("UNLocationCode"),
                                                _call(e).get("UNLocationCode"))),
    "transportCallID": (lambda t: {"transportCallID": t.departure.reference},
                        lambda e, t: _call(e).get("transportCallID") == t.departure.reference),
    "vesselIMONumber": (lambda t: {"vesselIMONumber": t.call.imo_number},
                        lambda e, t: (_call(e).get("vessel") or {}).get("vesselIMONumber") == t.call.imo_number),
    "exportVoyageNumber": (lambda t: {"exportVoyageNumber": t.call.voyage},
                           lambda e, t: _call(e).get("exportVoyageNumber") == t.call.voyage),
    "two filters AND-ed": (lambda t: {"eventType": "EQUIPMENT", "UNLocationCode": "CNYIU"},
                           lambda e, t: e["eventType"] == "EQUIPMENT" and "CNYIU" in (
                               (e.get("eventLocation") or {}).get("UNLocationCode"), _call(e).get("UNLocationCode"))),
}


@pytest.mark.parametrize("name", FILTERS)
def test_filter_returns_exactly_the_matching_events(api_client, tracked, name):
    params, matches = FILTERS[name]
    expected = [e for e in everything(api_client, tracked.raw) if matches(e, tracked)]

    response = fetch(api_client, tracked.raw, limit=1000, **params(tracked))

    assert response.status_code == 200
    assert expected
    assert response.json() == expected


def test_contradicting_filters_and_identifiers_we_do_not_issue_match_nothing(api_client, tracked):
    contradicting = fetch(api_client, tracked.raw, shipmentEventTypeCode="CONF", equipmentEventTypeCode="GTIN")
    document = fetch(api_client, tracked.raw, transportDocumentReference="HHL123")

    assert contradicting.status_code == document.status_code == 200
    assert contradicting.json() == document.json() == []


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_event_created_date_time_operators(api_client, tracked):
    events = everything(api_client, tracked.raw)
    pivot = _moment(events[len(events) // 2]["eventCreatedDateTime"])
    # Sent in Shanghai time, to show the offset is honoured (and "+" survives the query string).
    sent = pivot.astimezone(ZoneInfo("Asia/Shanghai")).isoformat()

    def created(**params):
        response = fetch(api_client, tracked.raw, limit=1000, **params)
        assert response.status_code == 200
        return response.json()

    gte, lt = created(**{"eventCreatedDateTime:gte": sent}), created(**{"eventCreatedDateTime:lt": sent})
    gt, lte = created(**{"eventCreatedDateTime:gt": sent}), created(**{"eventCreatedDateTime:lte": sent})
    eq, plain = created(**{"eventCreatedDateTime:eq": sent}), created(eventCreatedDateTime=sent)
    window = created(**{"eventCreatedDateTime:gte": sent, "eventCreatedDateTime:lt": sent})

    assert gte == [e for e in events if _moment(e["eventCreatedDateTime"]) >= pivot]
    assert lt == [e for e in events if _moment(e["eventCreatedDateTime"]) < pivot]
    assert gt == [e for e in events if _moment(e["eventCreatedDateTime"]) > pivot]
    assert lte == [e for e in events if _moment(e["eventCreatedDateTime"]) <= pivot]
    assert lt + gte == events
    assert eq == plain == [e for e in events if _moment(e["eventCreatedDateTime"]) == pivot] != []
    assert window == []


def test_an_unencoded_plus_in_the_offset_is_read_as_plus(api_client, tracked):
    events = everything(api_client, tracked.raw)
    pivot = _moment(events[3]["eventCreatedDateTime"]).astimezone(ZoneInfo("Asia/Shanghai")).isoformat()

    response = api_client.get(f"{URL}?eventCreatedDateTime:gte={pivot}&limit=1000", **bearer(tracked.raw))

    assert response.status_code == 200
    assert response.json() == events[3:]


@pytest.mark.parametrize("params", [
    {"eventType": "TRANSPORT,PARCEL"},
    {"equipmentEventTypeCode": "gtin"},
    {"transportEventTypeCode": "ARRV"},
    {"documentTypeCode": "BOL"},
    {"equipmentReference": "CSQU30543830000000"},
    {"UNLocationCode": "CNNGBX"},
    {"transportDocumentID": "not-a-uuid"},
    {"eventCreatedDateTime:gte": "yesterday"},
    {"eventCreatedDateTime:gte": "2024-05-01T10:00:00"},
    {"eventCreatedDateTime:after": "2024-05-01T10:00:00Z"},
    {"eventCreatedDateTime:gt": "0001-01-01T00:56:01+03:43"},  # found by the 10-minute fuzz run: was a 500
    {"bookingReference": "BK\x00-1"},  # found by the 10-minute fuzz run: a NUL reached PostgreSQL, a 500
    {"limit": "0"},
    {"limit": "ten"},
    {"sort": "carrierBookingReference:DESC"},
    {"sort": "eventCreatedDateTime:UP"},
    {"cursor": "bm90IGEgY3Vyc29y"},
])
def test_invalid_query_is_a_400_in_the_dcsa_error_shape(api_client, tracked, params):
    body = assert_dcsa_error(fetch(api_client, tracked.raw, **params), 400)

    parameter = next(iter(params))
    assert body["errors"][0]["reason"] == "invalidQuery"
    assert body["errors"][0]["message"].startswith(f"{parameter}: ")
    assert body["requestUri"].startswith(f"http://testserver{URL}?")


def test_a_malformed_event_id_is_a_400_and_an_unknown_one_a_404(api_client, tracked):
    assert_dcsa_error(fetch(api_client, tracked.raw, f"{URL}/42"), 400)
    assert_dcsa_error(fetch(api_client, tracked.raw, f"{URL}/{uuid.uuid4()}"), 404)


def test_api_version_request_header_must_be_major_2(api_client, tracked):
    assert fetch(api_client, tracked.raw, headers={"API-Version": "2"}).status_code == 200
    assert_dcsa_error(fetch(api_client, tracked.raw, headers={"API-Version": "1"}), 400)


# --- Paging ----------------------------------------------------------------------------------------------


def follow(client, raw: str, response, header: str = "Next-Page") -> list:
    """Every page from `response` on, following `header`."""
    pages = [response]
    while header in pages[-1]:
        assert pages[-1]["Current-Page"]
        assert len(pages) < 100
        pages.append(client.get(pages[-1][header], **bearer(raw)))
        assert pages[-1].status_code == 200
    return pages


def test_paging_returns_every_event_once_in_order(api_client, tracked):
    events = everything(api_client, tracked.raw)
    first = fetch(api_client, tracked.raw, limit=4)

    pages = follow(api_client, tracked.raw, first)
    seen = [e["eventID"] for page in pages for e in page.json()]

    assert len(events) > 8
    assert "Prev-Page" not in first
    assert first["Current-Page"] == f"http://testserver{URL}?limit=4"
    assert all(len(page.json()) == 4 for page in pages[:-1]) and 1 <= len(pages[-1].json()) <= 4
    assert len(seen) == len(set(seen))
    assert seen == [e["eventID"] for e in events]
    assert "Next-Page" not in pages[-1] and "Last-Page" not in pages[-1]
    assert all(urlparse(page["Current-Page"]).path == URL for page in pages)


def test_prev_first_and_last_pages(api_client, tracked):
    events = everything(api_client, tracked.raw)
    first = fetch(api_client, tracked.raw, limit=3)
    second = api_client.get(first["Next-Page"], **bearer(tracked.raw))

    back = api_client.get(second["Prev-Page"], **bearer(tracked.raw))
    restart = api_client.get(second["First-Page"], **bearer(tracked.raw))
    last = api_client.get(first["Last-Page"], **bearer(tracked.raw))

    assert second.json() == events[3:6]
    assert back.json() == restart.json() == first.json() == events[:3]
    assert "Prev-Page" not in back
    assert last.json() == events[-3:]
    assert "Next-Page" not in last and "Prev-Page" in last
    before_last = api_client.get(last["Prev-Page"], **bearer(tracked.raw))
    assert before_last.json() == events[-6:-3]


def test_sort_descending_pages_newest_first(api_client, tracked):
    events = everything(api_client, tracked.raw)

    pages = follow(api_client, tracked.raw, fetch(api_client, tracked.raw, limit=5, sort="eventCreatedDateTime:DESC"))

    assert [e for page in pages for e in page.json()] == events[::-1]


def test_the_cursor_carries_the_filters_and_refuses_others(api_client, tracked):
    equipment = [e for e in everything(api_client, tracked.raw) if e["eventType"] == "EQUIPMENT"]
    first = fetch(api_client, tracked.raw, eventType="EQUIPMENT", limit=2)
    cursor = parse_qs(urlparse(first["Next-Page"]).query)["cursor"][0]

    alone = fetch(api_client, tracked.raw, cursor=cursor)
    repeated = fetch(api_client, tracked.raw, cursor=cursor, eventType="EQUIPMENT")
    changed = fetch(api_client, tracked.raw, cursor=cursor, eventType="TRANSPORT")
    tampered = fetch(api_client, tracked.raw, cursor=cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB"))

    assert alone.json() == repeated.json() == equipment[2:4]
    assert_dcsa_error(changed, 400)
    assert_dcsa_error(tampered, 400)


def test_queries_do_not_grow_with_the_page(api_client, tracked):
    fetch(api_client, tracked.raw)  # the key's last use is written once a minute

    with CaptureQueriesContext(connection) as small:
        fetch(api_client, tracked.raw, limit=5, sort="eventCreatedDateTime:DESC")
    with CaptureQueriesContext(connection) as large:
        page = fetch(api_client, tracked.raw, limit=1000)

    assert len(page.json()) > 5
    # key, events, stations, terminals, vessel calls, departures' services, bookings (on the transports, of the
    # containers) with their B/Ls, containers (of the bookings, on the transports: the bookings their events name,
    # then those the caller may see)
    assert len(small) <= 9 and len(large) <= 9


# --- Who may read what -----------------------------------------------------------------------------------


def test_another_shipper_sees_none_of_this_booking(api_client, tracked):
    mine = everything(api_client, tracked.raw)
    own = [e for e in mine if e["eventType"] != "TRANSPORT"]

    theirs = everything(api_client, tracked.other_raw)
    filtered = fetch(api_client, tracked.other_raw, carrierBookingReference=tracked.booking.reference)
    by_id = fetch(api_client, tracked.other_raw, f"{URL}/{own[0]['eventID']}")

    assert theirs, "the other shipper has its own booking's events"
    assert not {e["eventID"] for e in own} & {e["eventID"] for e in theirs}
    assert not any(_shows_booking(e, tracked.booking.reference) for e in theirs)
    assert not any(e.get("equipmentReference") in NUMBERS for e in theirs)
    assert filtered.status_code == 200 and filtered.json() == []
    assert_dcsa_error(by_id, 404)


def test_no_key_is_401_and_a_key_without_events_read_is_403(api_client, tracked):
    _key, raw = factories.api_key(tracked.booking.shipper, scopes=[Scope.BOOKINGS_READ])
    event = Event.objects.filter(booking_reference=tracked.booking.reference, event_code="GTIN").first()

    anonymous = api_client.get(URL)
    anonymous_one = api_client.get(f"{URL}/{event.event_id}")
    unscoped = fetch(api_client, raw)
    unscoped_one = fetch(api_client, raw, f"{URL}/{event.event_id}")

    assert_dcsa_error(anonymous, 401)
    assert anonymous["WWW-Authenticate"] == "Bearer"
    assert_dcsa_error(anonymous_one, 401)
    assert "events:read" in assert_dcsa_error(unscoped, 403)["errors"][0]["message"]
    assert_dcsa_error(unscoped_one, 403)


def test_a_signed_in_person_reads_with_the_session(api_client, tracked):
    api_client.force_login(tracked.shipper.user)

    response = api_client.get(URL, {"carrierBookingReference": tracked.booking.reference})

    assert response.status_code == 200
    assert response.json() and all(_shows_booking(e, tracked.booking.reference) for e in response.json())


def test_the_spec_validation_catches_what_it_should(api_client, tracked):
    # Given a conforming event, each of these breaks a rule of the 2.2.0 schema (or of the closed copy).
    event = next(e for e in everything(api_client, tracked.raw) if e.get("seals"))
    broken = {
        "missing emptyIndicatorCode": {k: v for k, v in event.items() if k != "emptyIndicatorCode"},
        "code outside the enum": {**event, "equipmentEventTypeCode": "AVPU"},
        "too long a facility code": {**event, "eventLocation": {**event["eventLocation"], "facilityCode": "YIWU-WEST"}},
        "seal without type": {**event, "seals": [{"sealNumber": "SEAL00000"}]},
        "not a date-time": {**event, "eventDateTime": "2024-05-01 10:00"},
        "not a uuid": {**event, "eventID": "42"},
        "unknown property": {**event, "facilityKind": "station"},
    }

    assert_dcsa_event(event)
    for what, instance in broken.items():
        with pytest.raises(AssertionError, match="does not conform"):
            assert_dcsa_event(copy.deepcopy(instance))
            pytest.fail(f"{what} passed the validation")
