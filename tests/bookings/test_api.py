"""The bookings API: scoped to the caller, lifecycle through actions, one error shape, idempotent POSTs."""

from datetime import timedelta

import pytest
from django.db.models import F
from rest_framework.test import APIClient

from bookings.models import Booking, BookingStatus
from intermodal.models import IdempotencyRecord, PartyKind, Scope
from stations.models import Departure
from tests import factories
from tests.bookings.conftest import book

pytestmark = pytest.mark.django_db


def body(connecting, **overrides):
    data = {
        "departure": connecting.departure.reference,
        "vessel_call": connecting.vessel_call.reference,
        "destination": "NLRTM",
        "containers": [{"size_type": "42G1", "quantity": 2}],
        "commodity": "Small commodities (Yiwu market)",
        "cargo_weight_kg": "21000",
    }
    data.update(overrides)
    return data


@pytest.fixture
def client_for():
    def make(user):
        client = APIClient()
        client.force_login(user)
        return client

    return make


def test_create_takes_the_shipper_from_the_caller(shipper, other_shipper, connecting, client_for):
    naming_another = client_for(shipper.user).post("/api/v1/bookings/", body(connecting, shipper="shipper-b"),
                                                   format="json")
    assert naming_another.status_code == 400  # the body cannot name the shipper: an unknown field
    assert list(naming_another.json()["errors"]) == ["shipper"]
    assert not Booking.objects.exists()

    response = client_for(shipper.user).post("/api/v1/bookings/", body(connecting), format="json")

    data = response.json()
    assert response.status_code == 201
    assert data["shipper"] == "shipper-a"
    assert data["status"] == "draft"
    assert data["reference"].startswith("BK-")
    assert data["teu"] == 4
    assert data["quote"]["total"] == "5460.00"
    assert data["quote"]["saving"] == "3340.00"
    assert Departure.objects.get(pk=connecting.departure.pk).booked_teu == 0


def test_create_and_confirm_in_one_call_reserves_capacity(shipper, connecting, client_for):
    response = client_for(shipper.user).post("/api/v1/bookings/", body(connecting, confirm=True), format="json")

    assert response.status_code == 201
    assert response.json()["status"] == "confirmed"
    assert Departure.objects.get(pk=connecting.departure.pk).booked_teu == 4


def test_bad_input_gets_field_messages_and_writes_nothing(shipper, connecting, client_for):
    response = client_for(shipper.user).post(
        "/api/v1/bookings/",
        body(
            connecting,
            departure="nope",
            containers=[{"size_type": "99X9", "quantity": 0}],
            cargo_weight_kg="-5",
            un_number="12a",
        ),
        format="json",
    )

    errors = response.json()["errors"]
    assert response.status_code == 400
    assert {"departure", "containers.0.size_type", "containers.0.quantity", "cargo_weight_kg", "un_number"} <= set(
        errors
    )
    assert not Booking.objects.exists()


def test_malformed_json_is_a_400(shipper, client_for):
    response = client_for(shipper.user).post("/api/v1/bookings/", "{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["status"] == 400
    assert "JSON" in response.json()["detail"]


def test_a_refusal_is_a_409_with_the_reason(shipper, connecting, client_for):
    Departure.objects.filter(pk=connecting.departure.pk).update(booked_teu=F("capacity_teu") - 1)

    response = client_for(shipper.user).post("/api/v1/bookings/", body(connecting, confirm=True), format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "capacity_short"
    assert "1 TEU free" in response.json()["detail"]
    assert not Booking.objects.exists()


def test_lifecycle_actions(shipper, connecting, client_for):
    client = client_for(shipper.user)
    reference = client.post("/api/v1/bookings/", body(connecting), format="json").json()["reference"]
    later_call = factories.vessel_call(
        connecting.network.beilun,
        etd=connecting.vessel_call.etd + timedelta(days=7),
        imo="9074729",
        destinations=("NLRTM",),
    )

    confirmed = client.post(f"/api/v1/bookings/{reference}/confirm/")
    again = client.post(f"/api/v1/bookings/{reference}/confirm/")
    amended = client.post(
        f"/api/v1/bookings/{reference}/amend/", {"containers": [{"size_type": "42G1", "quantity": 3}]}, format="json"
    )
    rolled = client.post(
        f"/api/v1/bookings/{reference}/roll/",
        {"vessel_call": later_call.reference, "reason": "vessel overbooked"},
        format="json",
    )
    cancelled = client.post(f"/api/v1/bookings/{reference}/cancel/", {"reason": "order withdrawn"}, format="json")

    assert confirmed.status_code == 200
    assert again.status_code == 409
    assert again.json()["code"] == "not_draft"
    assert amended.json()["teu"] == 6
    assert rolled.json()["vessel_call"] == later_call.reference
    assert rolled.json()["original_vessel_call"] == connecting.vessel_call.reference
    assert rolled.json()["roll_count"] == 1
    assert cancelled.json()["status"] == "cancelled"
    assert Departure.objects.get(pk=connecting.departure.pk).booked_teu == 0


def test_amend_needs_something_to_change(shipper, connecting, client_for):
    booking = book(shipper.actor, connecting)

    response = client_for(shipper.user).post(f"/api/v1/bookings/{booking.reference}/amend/", {}, format="json")

    assert response.status_code == 400


def test_no_put_or_delete_bypasses_the_lifecycle(shipper, connecting, client_for):
    booking = book(shipper.actor, connecting)
    client = client_for(shipper.user)

    assert client.put(f"/api/v1/bookings/{booking.reference}/", {}, format="json").status_code == 405
    assert client.patch(f"/api/v1/bookings/{booking.reference}/", {}, format="json").status_code == 405
    assert client.delete(f"/api/v1/bookings/{booking.reference}/").status_code == 405
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CONFIRMED


def test_another_organisation_booking_is_404_on_every_endpoint(shipper, other_shipper, connecting, client_for):
    booking = book(shipper.actor, connecting, lines={"22G1": 1})
    client = client_for(other_shipper.user)
    ref = booking.reference
    later_call = factories.vessel_call(
        connecting.network.beilun,
        etd=connecting.vessel_call.etd + timedelta(days=7),
        imo="9074729",
        destinations=("NLRTM",),
    )

    answers = [
        client.get(f"/api/v1/bookings/{ref}/"),
        client.get(f"/api/v1/bookings/{ref}/containers/"),
        client.post(
            f"/api/v1/bookings/{ref}/containers/", {"number": "CSQU3054383", "size_type": "22G1"}, format="json"
        ),
        client.patch(f"/api/v1/bookings/{ref}/containers/CSQU3054383/", {"seal_number": "X"}, format="json"),
        client.post(f"/api/v1/bookings/{ref}/confirm/"),
        client.post(
            f"/api/v1/bookings/{ref}/amend/", {"containers": [{"size_type": "22G1", "quantity": 5}]}, format="json"
        ),
        client.post(f"/api/v1/bookings/{ref}/cancel/", {}, format="json"),
        client.post(
            f"/api/v1/bookings/{ref}/roll/", {"vessel_call": later_call.reference, "reason": "x"}, format="json"
        ),
    ]

    assert [a.status_code for a in answers] == [404] * len(answers)
    assert all(a.json()["code"] == "not_found" for a in answers)
    assert client.get("/api/v1/bookings/").json()["count"] == 0
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.teu == 1
    assert not booking.containers.exists()


def test_parties_on_the_route_see_the_booking_without_its_price(shipper, connecting, client_for):
    booking = book(shipper.actor, connecting)
    station_staff = factories.user(connecting.network.operator)
    railway_staff = factories.user(connecting.network.railway)
    port_staff = factories.user(connecting.network.port)
    customs = factories.user(factories.organisation(PartyKind.CUSTOMS))

    seen = {}
    for name, person in [
        ("station", station_staff),
        ("railway", railway_staff),
        ("port", port_staff),
        ("customs", customs),
    ]:
        seen[name] = client_for(person).get(f"/api/v1/bookings/{booking.reference}/")

    for name in ("station", "railway", "port"):
        assert seen[name].status_code == 200, name
        assert seen[name].json()["quote"] is None, name
    assert seen["customs"].status_code == 404
    assert client_for(shipper.user).get(f"/api/v1/bookings/{booking.reference}/").json()["quote"]["total"]


def test_list_filters(shipper, connecting, client_for):
    confirmed = book(shipper.actor, connecting, lines={"22G1": 1})
    draft = book(shipper.actor, connecting, lines={"22G1": 1}, confirm=False)
    client = client_for(shipper.user)
    day = connecting.departure.service_date

    by_status = client.get("/api/v1/bookings/", {"status": "draft"}).json()
    by_reference = client.get("/api/v1/bookings/", {"reference": confirmed.reference}).json()
    by_station = client.get("/api/v1/bookings/", {"station": "JINHUA-E"}).json()
    by_dates = client.get("/api/v1/bookings/", {"departs_from": day, "departs_to": day}).json()
    by_vessel = client.get("/api/v1/bookings/", {"vessel_call": connecting.vessel_call.reference}).json()

    assert [b["reference"] for b in by_status["results"]] == [draft.reference]
    assert [b["reference"] for b in by_reference["results"]] == [confirmed.reference]
    assert by_station["count"] == 0
    assert by_dates["count"] == 2
    assert by_vessel["count"] == 2


def test_list_queries_do_not_grow_with_the_page(shipper, connecting, client_for, django_assert_max_num_queries):
    for _ in range(8):
        book(shipper.actor, connecting, lines={"22G1": 1, "42G1": 1})
    client = client_for(shipper.user)

    with django_assert_max_num_queries(8):
        small = client.get("/api/v1/bookings/", {"page_size": 2})
    with django_assert_max_num_queries(8):
        large = client.get("/api/v1/bookings/", {"page_size": 50})

    assert len(small.json()["results"]) == 2
    assert len(large.json()["results"]) == 8


def test_containers_endpoint(shipper, connecting, client_for):
    booking = book(shipper.actor, connecting, lines={"22G1": 1})
    client = client_for(shipper.user)
    url = f"/api/v1/bookings/{booking.reference}/containers/"

    invalid = client.post(url, {"number": "CSQU3054384", "size_type": "22G1"}, format="json")
    mismatch = client.post(url, {"number": "CSQU3054383", "size_type": "42G1"}, format="json")
    assigned = client.post(url, {"number": "CSQU3054383", "size_type": "22G1"}, format="json")
    vgm = client.patch(
        f"{url}CSQU3054383/",
        {"vgm_kg": "23500", "vgm_method": 2, "vgm_signatory": "Li Wei", "seal_number": "CN1234567"},
        format="json",
    )
    listing = client.get(url)

    assert invalid.status_code == 400
    assert "check digit" in invalid.json()["errors"]["number"][0]
    assert mismatch.status_code == 400
    assert "size_type" in mismatch.json()["errors"]
    assert assigned.status_code == 201
    assert vgm.json()["has_vgm"] is True
    assert listing.json()[0]["seal_number"] == "CN1234567"


def test_api_keys_need_the_booking_scopes(shipper, connecting):
    _k, writer = factories.api_key(shipper.org, scopes=[Scope.BOOKINGS_READ, Scope.BOOKINGS_WRITE])
    _k, reader = factories.api_key(shipper.org, scopes=[Scope.BOOKINGS_READ])
    client = APIClient()

    denied = client.post("/api/v1/bookings/", body(connecting), format="json", HTTP_AUTHORIZATION=f"Bearer {reader}")
    allowed = client.post("/api/v1/bookings/", body(connecting), format="json", HTTP_AUTHORIZATION=f"Bearer {writer}")
    read = client.get("/api/v1/bookings/", HTTP_AUTHORIZATION=f"Bearer {reader}")

    assert denied.status_code == 403
    assert allowed.status_code == 201
    assert read.json()["count"] == 1


def test_anonymous_gets_401(connecting):
    assert APIClient().get("/api/v1/bookings/").status_code == 401


def test_connections_for_a_vessel_call(connecting):
    response = APIClient().get(
        "/api/v1/connections/",
        {"station": "YIWU-W", "vessel_call": connecting.vessel_call.reference, "containers": "42G1:2,22G1:1"},
    )

    results = response.json()
    assert response.status_code == 200
    assert results
    assert connecting.departure.reference in {c["departure"] for c in results}
    first = results[0]
    assert first["quote"]["teu"] == 5
    assert first["quote"]["total"] == "7340.00"
    assert first["transit_hours"] == 8
    assert all(c["vessel_call"] == connecting.vessel_call.reference for c in results)


def test_connections_skip_full_and_closed_departures(connecting):
    Departure.objects.filter(pk=connecting.departure.pk).update(booked_teu=F("capacity_teu") - 1)
    params = {"station": "YIWU-W", "vessel_call": connecting.vessel_call.reference, "containers": "42G1:1"}

    results = APIClient().get("/api/v1/connections/", params).json()

    assert connecting.departure.reference not in {c["departure"] for c in results}
    assert all(c["teu_free"] >= 2 for c in results)


def test_connections_by_destination_and_latest_sailing(connecting):
    params = {
        "station": "YIWU-W",
        "destination": "NLRTM",
        "containers": "22G1:1",
        "latest_sailing": (connecting.vessel_call.etd + timedelta(hours=1)).isoformat(),
    }

    results = APIClient().get("/api/v1/connections/", params).json()
    too_early = (
        APIClient()
        .get(
            "/api/v1/connections/",
            {**params, "latest_sailing": (connecting.vessel_call.etd - timedelta(hours=1)).isoformat()},
        )
        .json()
    )

    assert {c["vessel_call"] for c in results} == {connecting.vessel_call.reference}
    assert too_early == []


def test_connections_need_a_vessel_or_a_destination(connecting):
    response = APIClient().get("/api/v1/connections/", {"station": "YIWU-W", "containers": "bogus:x"})

    assert response.status_code == 400
    assert "vessel_call" in response.json()["errors"]


def test_quote_endpoint(connecting):
    response = APIClient().get("/api/v1/quotes/", {"departure": connecting.departure.reference, "containers": "45G1:1"})

    assert response.status_code == 200
    assert response.json()["total"] == "2730.00"
    assert response.json()["road_haulage"] == "4400.00"


def test_idempotent_retry_returns_the_first_response(shipper, connecting, client_for):
    client = client_for(shipper.user)

    first = client.post(
        "/api/v1/bookings/", body(connecting, confirm=True), format="json", HTTP_IDEMPOTENCY_KEY="order-4711"
    )
    retry = client.post(
        "/api/v1/bookings/", body(connecting, confirm=True), format="json", HTTP_IDEMPOTENCY_KEY="order-4711"
    )
    other_body = client.post(
        "/api/v1/bookings/", body(connecting, commodity="other"), format="json", HTTP_IDEMPOTENCY_KEY="order-4711"
    )

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert other_body.status_code == 422
    assert Booking.objects.count() == 1
    assert Departure.objects.get(pk=connecting.departure.pk).booked_teu == 4


def test_idempotency_replays_refusals_too(shipper, connecting, client_for):
    Departure.objects.filter(pk=connecting.departure.pk).update(booked_teu=F("capacity_teu"))
    client = client_for(shipper.user)

    first = client.post("/api/v1/bookings/", body(connecting, confirm=True), format="json", HTTP_IDEMPOTENCY_KEY="k1")
    Departure.objects.filter(pk=connecting.departure.pk).update(booked_teu=0)
    retry = client.post("/api/v1/bookings/", body(connecting, confirm=True), format="json", HTTP_IDEMPOTENCY_KEY="k1")

    assert first.status_code == retry.status_code == 409
    assert not Booking.objects.exists()


def test_idempotency_keys_are_per_organisation_and_expire(shipper, other_shipper, connecting, client_for):
    mine = client_for(shipper.user).post(
        "/api/v1/bookings/", body(connecting), format="json", HTTP_IDEMPOTENCY_KEY="same"
    )
    theirs = client_for(other_shipper.user).post(
        "/api/v1/bookings/", body(connecting), format="json", HTTP_IDEMPOTENCY_KEY="same"
    )
    IdempotencyRecord.objects.update(created_at=F("created_at") - timedelta(hours=25))
    later = client_for(shipper.user).post(
        "/api/v1/bookings/", body(connecting), format="json", HTTP_IDEMPOTENCY_KEY="same"
    )

    assert mine.status_code == theirs.status_code == later.status_code == 201
    assert len({mine.json()["reference"], theirs.json()["reference"], later.json()["reference"]}) == 3


def test_empty_requests_through_the_api(shipper, other_shipper, connecting, client_for):
    booking = book(shipper.actor, connecting, lines={"42G1": 2})
    url = f"/api/v1/bookings/{booking.reference}/empty-requests/"

    created = client_for(shipper.user).post(url, {"size_type": "42G1", "quantity": 2}, format="json")
    wrong_size = client_for(shipper.user).post(url, {"size_type": "22G1", "quantity": 1}, format="json")
    listed = client_for(shipper.user).get(url)
    foreign = client_for(other_shipper.user).post(url, {"size_type": "42G1", "quantity": 1}, format="json")

    assert created.status_code == 201
    assert created.json()["status"] == "requested"
    assert wrong_size.status_code == 400
    assert "size_type" in wrong_size.json()["errors"]
    assert [r["quantity"] for r in listed.json()] == [2]
    assert foreign.status_code == 404
    assert booking.empty_requests.count() == 1
