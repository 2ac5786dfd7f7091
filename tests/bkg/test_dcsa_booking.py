"""DCSA Booking 2.0.5 (/api/dcsa/bkg/v2/): DCSA's use cases that our lifecycle supports, end to end, every request
and answer validated against DCSA's own file (tests/fixtures/standards/dcsa/BKG_v2.0.5.yaml), and the booking each
request becomes checked as a booking of ours (capacity, lines, events)."""

import filecmp
import json
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import close_old_connections
from rest_framework.test import APIClient
from standardwebhooks import Webhook

from bkg.models import BookingNotice, BookingRequest
from bookings import services as bookings_services
from bookings.models import Booking, BookingStatus
from intermodal.access import Actor
from intermodal.codes import DocumentType
from intermodal.models import DEFAULT_SCOPES, Event, PartyKind
from notifications.relay import outbox_sweep
from stations.models import Departure, Location
from tests import factories
from tests.dcsa_spec import DcsaSpec, assert_valid, closed
from tests.notifications.conftest import receiver  # noqa: F401 - a fixture

BKG = DcsaSpec("BKG_v2.0.5.yaml")
BASE = "/api/dcsa/bkg/v2/bookings"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def world(network, shipper):
    Location.objects.filter(unlocode="NLRTM").update(sea_transit_days=30)
    key = factories.api_key(shipper.org, scopes=DEFAULT_SCOPES[PartyKind.ENTERPRISE])[1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    departures = list(Departure.objects.filter(
        service=network.yiwu_rail, planned_arrival__lte=network.vessel_call.latest_arrival_for(),
        closing_time__gt=network.vessel_call.eta - timedelta(days=30)).order_by("planned_departure"))
    network.__dict__.update(client=client, key=key, shipper=shipper, departures=departures)
    return network


def body(world, *, units: int = 2, size: str = "42G1", departure=None, **changes) -> dict:
    departure = departure or world.departures[-1]
    request = {
        "receiptTypeAtOrigin": "CY", "deliveryTypeAtDestination": "CY",
        "cargoMovementTypeAtOrigin": "FCL", "cargoMovementTypeAtDestination": "FCL",
        "isEquipmentSubstitutionAllowed": False,
        "routingReference": f"{departure.reference}/{world.vessel_call.reference}",
        "shipmentLocations": [
            {"locationTypeCode": "PRE", "location": {"UNLocationCode": "CNYIU"}},
            {"locationTypeCode": "POD", "location": {"UNLocationCode": "NLRTM"}},
        ],
        "requestedEquipments": [{
            "ISOEquipmentCode": size, "units": units, "isShipperOwned": False,
            "cargoGrossWeight": {"value": 24000, "unit": "KGM"},
            "commodities": [{"commodityType": "Plastic toys", "HSCodes": ["950300"]}],
        }],
        "documentParties": {"bookingAgent": {"partyName": "Yiwu Toys Export Co."}},
    }
    request.update(changes)
    assert_valid(request, BKG.request_schema("/v2/bookings"), "our request")
    return request


def post(world, payload, client=None):
    response = (client or world.client).post(BASE, payload, format="json")
    assert response["API-Version"] == "2.0.5"
    if response.status_code == 202:
        assert_valid(response.json(), closed(BKG.response_schema("/v2/bookings", "post", "202")), "202")
    return response


def get(world, reference, client=None, **params) -> dict:
    response = (client or world.client).get(f"{BASE}/{reference}", params)
    assert response.status_code == 200, response.content
    answer = response.json()
    schema = BKG.response_schema("/v2/bookings/{bookingReference}")
    assert_valid(answer, schema, "booking")
    assert_valid(answer, closed(schema), "booking (closed)")
    return answer


def error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    answer = response.json()
    assert_valid(answer, closed(BKG.schema("ErrorResponse")), "error")
    assert answer["statusCode"] == status and all(e["errorCode"] == 7000 + status for e in answer["errors"])
    return answer


def created(world, payload) -> BookingRequest:
    response = post(world, payload)
    assert response.status_code == 202, response.content
    return BookingRequest.objects.get(reference=response.json()["carrierBookingRequestReference"])


def cbr_codes(request: BookingRequest) -> list[str]:
    return list(Event.objects.filter(document_type=DocumentType.CBR, document_reference=request.reference)
                .order_by("id").values_list("event_code", flat=True))


# --- UC1 submit, UC5 confirm -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_uc1_uc5_a_request_on_a_route_is_a_confirmed_booking_of_ours(world):
    departure = world.departures[-1]
    before = departure.booked_teu
    request = created(world, body(world, units=2))
    assert request.booking is not None and request.status == "CONFIRMED"
    booking = request.booking
    assert (booking.departure_id, booking.vessel_call_id, booking.destination_id) == (
        departure.pk, world.vessel_call.pk, "NLRTM")
    assert booking.status == BookingStatus.CONFIRMED and booking.teu == 4
    assert [(line.size_type, line.quantity) for line in booking.lines.all()] == [("42G1", 2)]
    assert booking.commodity == "Plastic toys" and booking.cargo_weight_kg == 24000
    departure.refresh_from_db()
    assert departure.booked_teu == before + 4

    by_request, by_booking = get(world, request.reference), get(world, booking.reference)
    assert by_request == by_booking
    assert by_request["bookingStatus"] == "CONFIRMED"
    assert by_request["carrierBookingRequestReference"] == request.reference
    assert by_request["carrierBookingReference"] == booking.reference
    assert by_request["confirmedEquipments"] == [{"ISOEquipmentCode": "42G1", "units": 2}]
    pre, main = by_request["transportPlan"]
    assert (pre["modeOfTransport"], pre["carrierExportVoyageNumber"]) == ("RAIL", departure.reference)
    assert (main["vesselIMONumber"], main["carrierExportVoyageNumber"]) == (world.vessel_call.imo_number,
                                                                          world.vessel_call.voyage)
    assert main["plannedArrivalDate"] == str((world.vessel_call.etd + timedelta(days=30)).astimezone(
        factories.SHANGHAI).date())
    assert {c["cutOffDateTimeCode"] for c in by_request["shipmentCutOffTimes"]} == {"FCO", "VCO", "DCO"}
    assert sum(c["currencyAmount"] for c in by_request["charges"]) == float(booking.quote_total)
    # The same events as any booking (DRFT, CONF of the booking), and the request's own.
    assert cbr_codes(request) == ["RECE", "CONF"]
    assert set(Event.objects.filter(booking_reference=booking.reference, document_type=DocumentType.BKG)
               .values_list("event_code", flat=True)) >= {"CONF"}


@pytest.mark.django_db
def test_a_vessel_and_voyage_without_a_route_take_the_last_train_that_makes_the_vessel(world):
    payload = body(world)
    del payload["routingReference"]
    payload.update(vessel={"name": world.vessel_call.vessel_name, "vesselIMONumber": world.vessel_call.imo_number},
                   carrierExportVoyageNumber=world.vessel_call.voyage)
    request = created(world, payload)
    assert request.booking.departure == world.departures[-1]


# --- UC2 pending update, UC3 update, UC4 reject ----------------------------------------------------------


@pytest.mark.django_db
def test_uc2_uc3_a_full_departure_asks_for_an_update_and_the_update_is_booked(world):
    full = world.departures[-1]
    Departure.objects.filter(pk=full.pk).update(booked_teu=full.capacity_teu - 1)
    request = created(world, body(world, units=1, departure=full))  # 2 TEU, 1 free
    answer = get(world, request.reference)
    assert answer["bookingStatus"] == "PENDING_UPDATE" and "carrierBookingReference" not in answer
    assert answer["feedbacks"][0]["severity"] == "ERROR"
    assert answer["feedbacks"][0]["code"] == "PROPERTY_VALUE_MUST_CHANGE"
    assert Booking.objects.count() == 0

    response = world.client.put(f"{BASE}/{request.reference}", body(world, units=1, departure=world.departures[-2]),
                                format="json")
    assert response.status_code == 202 and response["API-Version"] == "2.0.5"
    answer = get(world, request.reference)
    assert answer["bookingStatus"] == "CONFIRMED" and "feedbacks" not in answer
    assert Booking.objects.get().departure == world.departures[-2]
    request.refresh_from_db()
    assert cbr_codes(request) == ["RECE", "PENU", "RECE", "CONF"]


@pytest.mark.django_db
def test_a_retried_request_with_its_idempotency_key_is_made_once(world):
    payload = body(world, units=1)
    first = world.client.post(BASE, payload, format="json", HTTP_IDEMPOTENCY_KEY="order-77")
    again = world.client.post(BASE, payload, format="json", HTTP_IDEMPOTENCY_KEY="order-77")
    assert first.status_code == again.status_code == 202 and first.json() == again.json()
    assert BookingRequest.objects.count() == Booking.objects.count() == 1


@pytest.mark.django_db
def test_uc4_a_place_we_do_not_serve_is_rejected_for_good(world):
    payload = body(world)
    del payload["routingReference"]
    payload["shipmentLocations"][0]["location"]["UNLocationCode"] = "DEHAM"
    request = created(world, payload)
    answer = get(world, request.reference)
    assert answer["bookingStatus"] == "REJECTED"
    assert answer["feedbacks"][0]["jsonPath"] == "$.shipmentLocations[0].location"
    error(world.client.put(f"{BASE}/{request.reference}", body(world), format="json"), 409)
    error(world.client.patch(f"{BASE}/{request.reference}", {"bookingStatus": "CANCELLED"}, format="json"), 409)


# --- UC7, UC8 amendments; UC9 --------------------------------------------------------------------------


@pytest.mark.django_db
def test_uc7_uc8_an_amendment_moves_the_slots_or_is_declined_leaving_the_booking_as_it_was(world):
    request = created(world, body(world, units=1))
    booking = request.booking
    departure = booking.departure

    response = world.client.put(f"{BASE}/{booking.reference}", body(world, units=3), format="json")
    assert response.status_code == 202
    answer = get(world, booking.reference)
    assert answer["bookingStatus"] == "CONFIRMED" and answer["amendedBookingStatus"] == "AMENDMENT_CONFIRMED"
    assert answer["confirmedEquipments"] == [{"ISOEquipmentCode": "42G1", "units": 3}]
    assert get(world, booking.reference, amendedContent="true")["requestedEquipments"][0]["units"] == 3
    departure.refresh_from_db()
    teu = departure.booked_teu

    Departure.objects.filter(pk=departure.pk).update(capacity_teu=teu)  # no more room
    world.client.put(f"{BASE}/{booking.reference}", body(world, units=5), format="json")
    answer = get(world, booking.reference)
    assert answer["amendedBookingStatus"] == "AMENDMENT_DECLINED" and answer["feedbacks"][0]["severity"] == "ERROR"
    assert answer["confirmedEquipments"] == [{"ISOEquipmentCode": "42G1", "units": 3}]
    assert answer["requestedEquipments"][0]["units"] == 3  # the booking as confirmed
    assert get(world, booking.reference, amendedContent="true")["requestedEquipments"][0]["units"] == 5
    departure.refresh_from_db()
    assert departure.booked_teu == teu
    # UC9: no amendment is ever waiting (each is processed when received): DCSA's 404.
    error(world.client.patch(f"{BASE}/{booking.reference}", {"amendedBookingStatus": "AMENDMENT_CANCELLED"},
                             format="json"), 404)


# --- UC10 - UC14 -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_uc11_a_request_not_yet_confirmed_is_cancelled(world):
    full = world.departures[-1]
    Departure.objects.filter(pk=full.pk).update(booked_teu=full.capacity_teu)
    request = created(world, body(world))
    assert get(world, request.reference)["bookingStatus"] == "PENDING_UPDATE"
    response = world.client.patch(f"{BASE}/{request.reference}", {"bookingStatus": "CANCELLED", "reason": "Sold out"},
                                  format="json")
    assert response.status_code == 202
    assert get(world, request.reference)["bookingStatus"] == "CANCELLED"
    error(world.client.put(f"{BASE}/{request.reference}", body(world), format="json"), 409)


@pytest.mark.django_db
def test_uc13_uc14_a_confirmed_booking_is_cancelled_until_its_containers_travel(world):
    first, second = created(world, body(world, units=1)), created(world, body(world, units=1))
    departure = first.booking.departure
    departure.refresh_from_db()
    teu = departure.booked_teu
    error(world.client.patch(f"{BASE}/{first.reference}", {"bookingStatus": "CANCELLED"}, format="json"), 409)

    response = world.client.patch(f"{BASE}/{first.booking.reference}",
                                  {"bookingCancellationStatus": "CANCELLATION_RECEIVED"}, format="json")
    assert response.status_code == 202
    answer = get(world, first.reference)
    assert (answer["bookingStatus"], answer["bookingCancellationStatus"]) == ("CANCELLED", "CANCELLATION_CONFIRMED")
    departure.refresh_from_db()
    assert departure.booked_teu == teu - 2

    Booking.objects.filter(pk=second.booking_id).update(status=BookingStatus.IN_TRANSIT)
    world.client.patch(f"{BASE}/{second.reference}", {"bookingCancellationStatus": "CANCELLATION_RECEIVED"},
                       format="json")
    answer = get(world, second.reference)
    assert (answer["bookingStatus"], answer["bookingCancellationStatus"]) == ("CONFIRMED", "CANCELLATION_DECLINED")
    assert Booking.objects.get(pk=second.booking_id).status == BookingStatus.IN_TRANSIT


@pytest.mark.django_db
def test_uc10_uc12_declined_by_the_platform_completed_when_the_vessel_sailed(world):
    first, second = created(world, body(world, units=1)), created(world, body(world, units=1))
    admin = factories.organisation(PartyKind.PLATFORM_ADMIN)
    bookings_services.booking_cancel(actor=Actor(organisation=admin), booking=first.booking, reason="Train withdrawn")
    assert get(world, first.reference)["bookingStatus"] == "DECLINED"
    Booking.objects.filter(pk=second.booking_id).update(status=BookingStatus.SAILED)
    assert get(world, second.reference)["bookingStatus"] == "COMPLETED"
    error(world.client.put(f"{BASE}/{second.reference}", body(world), format="json"), 409)


# --- Bad input, other callers ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_what_dcsa_schema_refuses_is_a_400_by_json_path_and_nothing_is_written(world):
    payload = body(world)
    del payload["documentParties"]
    payload["requestedEquipments"][0]["units"] = 0
    answer = error(post(world, payload), 400)
    paths = {e.get("jsonPath") for e in answer["errors"]}
    assert {"$", "$.requestedEquipments[0].units"} <= paths, paths
    error(post(world, ["not", "an", "object"]), 400)
    error(world.client.post(BASE, "{", content_type="application/json"), 400)
    assert not BookingRequest.objects.exists() and not Event.objects.exists()
    error(world.client.post(BASE, body(world), format="json", HTTP_API_VERSION="3"), 400)


@pytest.mark.django_db
def test_another_organisations_request_is_a_404_and_only_shippers_request(world, other_shipper):
    request = created(world, body(world, units=1))
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {factories.api_key(other_shipper.org)[1]}")
    error(other.get(f"{BASE}/{request.reference}"), 404)
    error(other.get(f"{BASE}/{request.booking.reference}"), 404)
    error(other.patch(f"{BASE}/{request.reference}", {"bookingStatus": "CANCELLED"}, format="json"), 404)
    railway = APIClient()
    railway.credentials(HTTP_AUTHORIZATION=f"Bearer {factories.api_key(world.railway)[1]}")
    error(post(world, body(world), client=railway), 403)
    error(world.client.get(f"{BASE}/CBR-2026-NOSUCHTHING"), 404)


# --- The same capacity guarantee, under concurrency ------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_for_the_last_slots_never_overbook(world):
    departure = world.departures[-1]
    Departure.objects.filter(pk=departure.pk).update(booked_teu=departure.capacity_teu - 4)  # room for 2 x 42G1
    answers, start = [], threading.Barrier(4)

    def ask():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {world.key}")
        start.wait(30)
        try:
            answers.append(client.post(BASE, body(world, units=1, departure=departure), format="json").status_code)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert answers == [202] * 4
    departure.refresh_from_db()
    assert departure.booked_teu == departure.capacity_teu
    statuses = sorted(BookingRequest.objects.values_list("status", flat=True))
    assert statuses == ["CONFIRMED", "CONFIRMED", "PENDING_UPDATE", "PENDING_UPDATE"]


# --- Notifications ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_change_is_notified_signed_in_dcsas_envelope(world, receiver):  # noqa: F811 - the fixture
    response = world.client.post("/api/v1/subscriptions/", {"url": receiver.url, "format": "dcsa-bkg"},
                                 format="json")
    assert response.status_code == 201, response.content
    secret, subscription_id = response.json()["secret"], response.json()["subscription_id"]
    full = world.departures[-1]
    Departure.objects.filter(pk=full.pk).update(booked_teu=full.capacity_teu)
    request = created(world, body(world, units=1))  # RECEIVED, then PENDING_UPDATE
    world.client.put(f"{BASE}/{request.reference}", body(world, units=1, departure=world.departures[-2]),
                     format="json")  # UPDATE_RECEIVED, then CONFIRMED
    # Another shipper's requests are never sent here.
    other = factories.organisation(PartyKind.ENTERPRISE)
    other_client = APIClient()
    other_client.credentials(HTTP_AUTHORIZATION=f"Bearer {factories.api_key(other)[1]}")
    post(world, body(world, units=1, departure=world.departures[-2]), client=other_client)

    outbox_sweep()
    from notifications.delivery import deliveries_send
    from notifications.models import Delivery

    deliveries_send(list(Delivery.objects.filter(subscription__subscription_id=subscription_id)
                         .values_list("pk", flat=True)))
    received = sorted(receiver.requests, key=lambda r: r.at)
    assert len(received) == 4
    schema = BKG.request_schema("/v2/booking-notifications")
    for sent in received:
        Webhook(secret).verify(sent.body, {k: sent.headers[k] for k in
                                           ("webhook-id", "webhook-timestamp", "webhook-signature")})
        assert sent.headers["api-version"] == "2.0.5"
    notices = [json.loads(r.body) for r in received]
    for notice in notices:
        assert_valid(notice, schema, "notification")
        assert_valid(notice, closed(schema), "notification (closed)")
        assert notice["subscriptionReference"] == subscription_id and notice["type"] == "org.dcsa.booking.v2"
    assert sorted(n["data"]["bookingStatus"] for n in notices) == sorted(
        ["RECEIVED", "PENDING_UPDATE", "UPDATE_RECEIVED", "CONFIRMED"])
    assert {n["data"]["carrierBookingRequestReference"] for n in notices} == {request.reference}
    assert BookingNotice.objects.filter(request=request).count() == 4


def test_the_product_checks_requests_against_the_file_the_tests_read():
    assert filecmp.cmp(ROOT / "bkg" / "standards" / "BKG_v2.0.5.yaml",
                       ROOT / "tests" / "fixtures" / "standards" / "dcsa" / "BKG_v2.0.5.yaml", shallow=False)


@pytest.mark.django_db
def test_a_requests_changes_are_its_shippers_events_before_it_is_a_booking(world, other_shipper):
    full = world.departures[-1]
    Departure.objects.filter(pk=full.pk).update(booked_teu=full.capacity_teu)
    request = created(world, body(world))  # no booking: PENDING_UPDATE
    feed = world.client.get("/api/dcsa/tnt/v2/events", {"eventType": "SHIPMENT", "documentTypeCode": "CBR"}).json()
    assert [(e["shipmentEventTypeCode"], e["documentID"]) for e in feed] == [
        ("RECE", request.reference), ("PENU", request.reference)]
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {factories.api_key(other_shipper.org)[1]}")
    assert other.get("/api/dcsa/tnt/v2/events", {"eventType": "SHIPMENT"}).json() == []
