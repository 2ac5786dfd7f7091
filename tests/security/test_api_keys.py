"""API keys: a key does only what its scopes allow, stops at revocation or expiry, and is never logged."""

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from bookings.models import Booking
from intermodal.access import api_key_revoke
from intermodal.models import DEFAULT_SCOPES, PartyKind, Scope
from tests import factories

pytestmark = pytest.mark.django_db


def bearer(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def booking_body(connecting) -> dict:
    return {
        "departure": connecting.departure.reference, "vessel_call": connecting.vessel_call.reference,
        "destination": "NLRTM", "containers": [{"size_type": "42G1", "quantity": 1}],
        "commodity": "Toys", "cargo_weight_kg": "9000",
    }


def test_a_key_without_the_booking_scope_cannot_book(api_client, shipper, connecting):
    scopes = [s for s in DEFAULT_SCOPES[PartyKind.ENTERPRISE] if s != Scope.BOOKINGS_WRITE]
    _key, raw = factories.api_key(shipper.org, scopes=scopes)

    response = api_client.post("/api/v1/bookings/", booking_body(connecting), format="json", **bearer(raw))

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert "bookings:write" in response.json()["detail"]
    assert not Booking.objects.exists()
    # the same key still reads: the scope it has works
    assert api_client.get("/api/v1/bookings/", **bearer(raw)).status_code == 200


def test_a_key_with_the_booking_scope_books(api_client, shipper, connecting):
    _key, raw = factories.api_key(shipper.org)

    response = api_client.post("/api/v1/bookings/", booking_body(connecting), format="json", **bearer(raw))

    assert response.status_code == 201
    assert Booking.objects.get().shipper == shipper.org


def test_a_revoked_key_gets_401_everywhere_even_on_public_schedules(api_client, shipper, connecting):
    key, raw = factories.api_key(shipper.org)
    api_key_revoke(key=key)

    answers = [
        api_client.post("/api/v1/bookings/", booking_body(connecting), format="json", **bearer(raw)),
        api_client.get("/api/v1/bookings/", **bearer(raw)),
        api_client.get("/api/v1/departures/", **bearer(raw)),
        api_client.get("/api/dcsa/tnt/v2/events", **bearer(raw)),
    ]

    assert [a.status_code for a in answers] == [401, 401, 401, 401]
    assert not Booking.objects.exists()


def test_an_expired_key_gets_401_and_a_key_expiring_later_works(api_client, shipper):
    _old, expired = factories.api_key(shipper.org, expires_at=timezone.now() - timedelta(minutes=1))
    _new, valid = factories.api_key(shipper.org, expires_at=timezone.now() + timedelta(days=1))

    assert api_client.get("/api/v1/bookings/", **bearer(expired)).status_code == 401
    assert api_client.get("/api/v1/bookings/", **bearer(valid)).status_code == 200


def test_a_key_of_a_deactivated_organisation_gets_401(api_client, shipper):
    _key, raw = factories.api_key(shipper.org)
    shipper.org.is_active = False
    shipper.org.save(update_fields=["is_active"])

    assert api_client.get("/api/v1/bookings/", **bearer(raw)).status_code == 401


def test_use_is_recorded_as_last_used(api_client, shipper):
    key, raw = factories.api_key(shipper.org)

    api_client.get("/api/v1/bookings/", **bearer(raw))

    key.refresh_from_db()
    assert key.last_used_at is not None
    assert timezone.now() - key.last_used_at < timedelta(minutes=1)


def test_requests_with_a_key_log_nothing_that_contains_the_secret(api_client, shipper, connecting, caplog):
    key, raw = factories.api_key(shipper.org)
    _limited, limited_raw = factories.api_key(shipper.org, scopes=[Scope.SCHEDULES_READ])
    revoked, revoked_raw = factories.api_key(shipper.org)
    api_key_revoke(key=revoked)
    secrets = [raw, limited_raw, revoked_raw]

    with caplog.at_level(logging.DEBUG):
        api_client.get("/api/v1/bookings/", **bearer(raw))
        api_client.post("/api/v1/bookings/", booking_body(connecting), format="json", **bearer(raw))
        api_client.post("/api/v1/bookings/", {"containers": "x"}, format="json", **bearer(raw))
        api_client.get("/api/v1/bookings/BK-NOPE/", **bearer(raw))
        api_client.post("/api/v1/bookings/", booking_body(connecting), format="json", **bearer(limited_raw))
        api_client.get("/api/v1/bookings/", **bearer(revoked_raw))
        api_client.get("/api/v1/bookings/", HTTP_AUTHORIZATION=f"Bearer {raw}x")

    logged = "\n".join(f"{r.getMessage()} {r.args!r} {getattr(r, 'request', '')!r}" for r in caplog.records)
    assert caplog.records, "the requests should have logged something (4xx warnings at least)"
    for raw_key in secrets:
        assert raw_key.split("_", 2)[2] not in logged
    assert key.prefix  # the public prefix may appear; the secret part never does


def test_key_scopes_shown_by_me_are_the_key_scopes(api_client, shipper):
    _key, raw = factories.api_key(shipper.org, scopes=[Scope.SCHEDULES_READ, Scope.EVENTS_READ])

    assert api_client.get("/api/v1/me/", **bearer(raw)).json()["scopes"] == ["events:read", "schedules:read"]
