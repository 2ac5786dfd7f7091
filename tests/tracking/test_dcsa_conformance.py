"""DCSA's Conformance-Gateway Track & Trace 2.2.0 consumer scenarios, played against the demo's history.

The Gateway (dcsaorg/Conformance-Gateway, tnt v220 TntScenarioListBuilder) asks a publisher for SHIPMENT, TRANSPORT and
EQUIPMENT events with each filter, eventCreatedDateTime eq / gt+lt / gt+lte / gte+lt / gte+lte, pages with limit=1
(the next page through the cursor of the first response) and sends requests it expects refused. It checks that a
response has the 2.2.0 API-Version, holds events, and that each validates against the 2.2.0 schema; the publisher
supplies the values to filter by. Here the values come from the demo history as a shipper sees it, and every
returned event must also show what it was filtered on.
"""

import functools
from datetime import datetime
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from jsonschema import Draft4Validator

from bookings.models import BillOfLadingStatus, Booking
from customs.demo_history import demo_history_create
from intermodal.models import Organisation, Scope
from tests import factories
from tests.bookings.test_dcsa import (
    EVENT_SCHEMA,
    FORMATS,
    URL,
    assert_dcsa_error,
    bearer,
    closed,
    list_item_schema,
    schema,
)
from tests.conftest import rolled_back

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


@functools.cache
def _validators(event_type: str) -> tuple[Draft4Validator, Draft4Validator]:
    # tests.bookings.test_dcsa's two checks (the 2.2.0 list item; the event type's schema closed to extra
    # properties), built once: the history has thousands of events.
    return (Draft4Validator(list_item_schema(), format_checker=FORMATS),
            Draft4Validator(closed(schema(EVENT_SCHEMA[event_type])), format_checker=FORMATS))


def assert_dcsa_event(event: dict) -> None:
    for validator in _validators(event["eventType"]):
        errors = sorted(validator.iter_errors(event), key=str)
        assert not errors, f"event {event['eventID']} does not conform:\n" + "\n".join(
            f"- {'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _call(event: dict) -> dict:
    return event.get("transportCall") or {}


def _documents(event: dict, kind: str) -> set[str]:
    shown = {d["documentReferenceValue"] for d in event.get("documentReferences", [])
             if d["documentReferenceType"] == kind}
    if event.get("documentTypeCode") == kind:
        shown.add(event["documentID"])
    return shown


def _containers(event: dict) -> set[str]:
    shown = {r["referenceValue"] for r in event.get("references", []) if r["referenceType"] == "EQ"}
    return shown | ({event["equipmentReference"]} if "equipmentReference" in event else set())


# What an event shows of each filter: the Gateway's mapping of query parameters to event attributes.
SHOWS = {
    "eventType": lambda e, v: e["eventType"] == v,
    "shipmentEventTypeCode": lambda e, v: e.get("shipmentEventTypeCode") == v,
    "documentTypeCode": lambda e, v: e.get("documentTypeCode") == v,
    "transportEventTypeCode": lambda e, v: e.get("transportEventTypeCode") == v,
    "equipmentEventTypeCode": lambda e, v: e.get("equipmentEventTypeCode") == v,
    # A booking's own shipment events show it as their documentID, the others in documentReferences (BKG).
    "carrierBookingReference": lambda e, v: e.get("documentID") == v or v in _documents(e, "BKG"),
    "transportDocumentReference": lambda e, v: v in _documents(e, "TRD"),
    "equipmentReference": lambda e, v: v in _containers(e),
    "transportCallID": lambda e, v: _call(e).get("transportCallID") == v,
    "vesselIMONumber": lambda e, v: (_call(e).get("vessel") or {}).get("vesselIMONumber") == v,
    "exportVoyageNumber": lambda e, v: _call(e).get("exportVoyageNumber") == v,
    "carrierServiceCode": lambda e, v: _call(e).get("carrierServiceCode") == v,
    "UNLocationCode": lambda e, v: v in ((e.get("eventLocation") or {}).get("UNLocationCode"),
                                         _call(e).get("UNLocationCode")),
    "eventCreatedDateTime:eq": lambda e, v: _moment(e["eventCreatedDateTime"]) == _moment(v),
    "eventCreatedDateTime:gt": lambda e, v: _moment(e["eventCreatedDateTime"]) > _moment(v),
    "eventCreatedDateTime:gte": lambda e, v: _moment(e["eventCreatedDateTime"]) >= _moment(v),
    "eventCreatedDateTime:lt": lambda e, v: _moment(e["eventCreatedDateTime"]) < _moment(v),
    "eventCreatedDateTime:lte": lambda e, v: _moment(e["eventCreatedDateTime"]) <= _moment(v),
}


class Consumer:
    """A DCSA consumer with an API key, as the Gateway's subscriber role is one."""

    def __init__(self, client, raw: str):
        self.client, self.raw = client, raw

    def get(self, url: str = URL, params: dict | None = None):
        response = self.client.get(url, params or {}, headers={"API-Version": "2"}, **bearer(self.raw))
        assert response["API-Version"] == "2.2.0", url
        return response

    def events(self, params: dict, what: str) -> list[dict]:
        """The response's events, checked as the Gateway checks them: 200, events present, each valid."""
        response = self.get(params=params)
        assert response.status_code == 200, (what, response.content[:500])
        events = response.json()
        assert isinstance(events, list) and events, f"{what}: the Gateway wants events in every response"
        for event in events:
            assert_dcsa_event(event)
        return events

    def everything(self, params: dict) -> list[dict]:
        pages = [self.get(params={**params, "limit": 1000})]
        while "Next-Page" in pages[-1]:
            pages.append(self.get(pages[-1]["Next-Page"]))
        return [event for page in pages for event in page.json()]


@pytest.fixture(scope="module")
def history(demo_seeded, django_db_blocker):
    """The demo network (tests/conftest.py demo_seeded) and a short history (the Gateway's scenarios need only a
    few of each kind of event), once for the module and rolled back at its end."""
    # As Django's test client does: requests must not close the connection that holds the module's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        with rolled_back(django_db_blocker):
            assert demo_history_create(days=12) > 0
            shipper = Organisation.objects.get(code="demo-shipper-a")
            _key, raw = factories.api_key(shipper, scopes=[Scope.EVENTS_READ, Scope.BOOKINGS_READ])
            booking = (Booking.objects.filter(shipper=shipper, bill_of_lading__status=BillOfLadingStatus.ISSUED)
                       .select_related("departure__service__station", "vessel_call", "bill_of_lading")
                       .order_by("reference").first())
            assert booking is not None, "the demo history issues B/Ls at the stations that issue them"
            yield raw, booking
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def demo(history, api_client):
    """The first demo shipper reading the history through an API key, as the Gateway's consumer would."""
    raw, booking = history
    return Consumer(api_client, raw), booking


def _supplied(booking: Booking) -> dict[str, str]:
    """What the publisher supplies for the Gateway's filters: one booking's values."""
    return {
        "carrierBookingReference": booking.reference,
        "transportDocumentReference": booking.bill_of_lading.number,
        "equipmentReference": booking.containers.order_by("number").first().number,
        "transportCallID": booking.departure.reference,
        "vesselIMONumber": booking.vessel_call.imo_number,
        "exportVoyageNumber": booking.vessel_call.voyage,
        "carrierServiceCode": booking.departure.service.short_code,
        "UNLocationCode": booking.departure.service.station.unlocode,
    }


FILTERS_BY_TYPE = {
    "SHIPMENT": ["carrierBookingReference", "transportDocumentReference", "equipmentReference"],
    "TRANSPORT": ["carrierBookingReference", "transportDocumentReference", "transportCallID", "vesselIMONumber",
                  "exportVoyageNumber", "carrierServiceCode", "UNLocationCode", "equipmentReference"],
    "EQUIPMENT": ["carrierBookingReference", "transportDocumentReference", "transportCallID", "vesselIMONumber",
                  "exportVoyageNumber", "carrierServiceCode", "UNLocationCode", "equipmentReference"],
}
CODES = {"SHIPMENT": [("shipmentEventTypeCode", "ISSU"), ("shipmentEventTypeCode", "CONF"),
                      ("documentTypeCode", "SHI"), ("documentTypeCode", "TRD")],
         "TRANSPORT": [("transportEventTypeCode", "ARRI"), ("transportEventTypeCode", "DEPA")],
         "EQUIPMENT": [("equipmentEventTypeCode", "LOAD"), ("equipmentEventTypeCode", "GTIN")]}
WINDOWS = [("gt", "lt"), ("gt", "lte"), ("gte", "lt"), ("gte", "lte")]
BAD = [
    {"eventType": "INVALID_SHIPMENT_EVENT"},
    {"shipmentEventTypeCode": "INVALID_SHIPMENT_EVENT_TYPE_CODE"},
    {"documentTypeCode": "INVALID_DOCUMENT_TYPE_CODE"},
    {"eventType": "SHIPMENT", "transportEventTypeCode": "ARRV"},
    {"eventType": "SHIPMENT", "transportEventTypeCode": "ARRI"},
    {"eventType": "INVALID_TRANSPORT_EVENT"},
    {"eventType": "TRANSPORT", "shipmentEventTypeCode": "DRFT"},
    {"eventType": "INVALID_EQUIPMENT_EVENT"},
    {"equipmentEventTypeCode": "INVALID_EQUIPMENT_TYPE_CODE"},
    {"eventType": "EQUIPMENT", "shipmentEventTypeCode": "DRFT"},
    {"eventType": "TRANSPORT", "equipmentEventTypeCode": "LOAD"},
]


def _check(consumer: Consumer, params: dict, of_type: list[dict], what: str) -> None:
    """The first page as the Gateway reads it (events, each valid); then every page: each event shows every
    filter and is the event as the unfiltered feed shows it, and they are exactly the type's events that do."""
    first = consumer.events(params, what)
    events = consumer.everything(params)
    assert events[:len(first)] == first, what
    as_listed = {e["eventID"]: e for e in of_type}
    for event in events:
        for name, value in params.items():
            assert SHOWS[name](event, value), f"{what}: event {event['eventID']} does not show {name}={value}"
        assert event == as_listed[event["eventID"]], f"{what}: event {event['eventID']} differs from the feed's"
    expected = [e for e in of_type if all(SHOWS[name](e, value) for name, value in params.items())]
    assert [e["eventID"] for e in events] == [e["eventID"] for e in expected], what


def test_the_gateways_tnt_220_scenarios_pass_on_the_demo_history(demo):
    consumer, booking = demo
    supplied = _supplied(booking)
    played = 0

    for event_type, filters in FILTERS_BY_TYPE.items():
        of_type = consumer.everything({"eventType": event_type})
        assert {e["eventType"] for e in of_type} == {event_type}
        for event in of_type:  # every event of every page valid: the filtered answers are these (checked below)
            assert_dcsa_event(event)

        for name, value in [*CODES[event_type], *((name, supplied[name]) for name in filters)]:
            _check(consumer, {"eventType": event_type, name: value}, of_type, f"{event_type} {name}={value}")
            played += 1

        created = sorted({e["eventCreatedDateTime"] for e in of_type}, key=_moment)
        assert len(created) >= 4, event_type
        _check(consumer, {"eventType": event_type, "eventCreatedDateTime:eq": created[len(created) // 2]}, of_type,
               f"{event_type} eventCreatedDateTime:eq")
        # Windows whose ends are events' own times, so that each inclusive and exclusive end is tried; sent with
        # a +08:00 offset, as a consumer in Shanghai would.
        low, high = created[1], created[-2]
        for lower, upper in WINDOWS:
            params = {"eventType": event_type,
                      f"eventCreatedDateTime:{lower}": _moment(low).astimezone(SHANGHAI).isoformat(),
                      f"eventCreatedDateTime:{upper}": high}
            _check(consumer, params, of_type, f"{event_type} {lower}+{upper}")
            played += 1
        # The Gateway's own wide windows (2001 to 2050) hold every event.
        wide = {"eventType": event_type, "eventCreatedDateTime:gte": "2001-01-01T14:14:56+01:00",
                "eventCreatedDateTime:lt": "2050-01-30T14:12:56+01:00"}
        assert [e["eventID"] for e in consumer.everything(wide)] == [e["eventID"] for e in of_type]

        # limit=1, the next page through the Next-Page link and through the Next-Page-Cursor header alone.
        first = consumer.get(params={"eventType": event_type, "limit": "1"})
        assert first.status_code == 200 and [e["eventID"] for e in first.json()] == [of_type[0]["eventID"]]
        assert_dcsa_event(first.json()[0])
        by_link, by_cursor = first, first
        for n in range(1, 4):
            assert "Next-Page" in by_link and "Next-Page-Cursor" in by_cursor, f"{event_type} page {n}"
            assert urlparse(by_link["Next-Page"]).path == URL
            by_link = consumer.get(by_link["Next-Page"])
            by_cursor = consumer.get(params={"cursor": by_cursor["Next-Page-Cursor"]})
            assert by_link.status_code == by_cursor.status_code == 200
            assert by_link.json() == by_cursor.json()
            assert [e["eventID"] for e in by_cursor.json()] == [of_type[n]["eventID"]], f"{event_type} page {n}"
            assert_dcsa_event(by_cursor.json()[0])
        played += 1

    for params in BAD:
        body = assert_dcsa_error(consumer.get(params=params), 400)
        named = [name for name in params if name != "eventType"] or ["eventType"]
        assert any(e["message"].startswith(f"{named[0]}: ") for e in body["errors"]), (params, body)
        played += 1

    assert played >= 40


def test_the_demo_histories_bls_are_on_their_bookings_events_and_their_pdfs_render_on_first_download(demo):
    consumer, booking = demo
    number = booking.bill_of_lading.number

    events = consumer.everything({"carrierBookingReference": booking.reference})
    bill = consumer.everything({"transportDocumentReference": number})
    pdf = consumer.client.get(f"/api/v1/bookings/{booking.reference}/bill-of-lading/pdf/", **bearer(consumer.raw))

    assert number.startswith(f"BL{booking.departure.service.station.unlocode}") and len(number) <= 20
    issued = [e for e in bill if e.get("documentTypeCode") == "TRD"]
    assert [e["shipmentEventTypeCode"] for e in issued] == ["ISSU"]
    station = booking.departure.service.station.unlocode
    gated_in = max(_moment(e["eventCreatedDateTime"]) for e in events if e.get("equipmentEventTypeCode") == "GTIN"
                   and (e.get("eventLocation") or {}).get("UNLocationCode") == station)
    departed = min(_moment(e["eventCreatedDateTime"]) for e in events if e.get("transportEventTypeCode") == "DEPA")
    assert gated_in < _moment(issued[0]["eventCreatedDateTime"]) < departed
    assert {e["eventType"] for e in bill} == {"SHIPMENT", "TRANSPORT", "EQUIPMENT"}
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    booking.bill_of_lading.refresh_from_db()
    assert len(booking.bill_of_lading.pdf_sha256) == 64
