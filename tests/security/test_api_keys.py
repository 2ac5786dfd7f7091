"""API keys: a key does only what its scopes allow, stops at revocation or expiry, and is never logged."""

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from bookings.models import Booking
from intermodal.access import api_key_revoke, api_key_uses_write
from intermodal.models import DEFAULT_SCOPES, ApiKey, PartyKind, Scope
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
    api_key_uses_write()  # beat's task, every minute (tests/intermodal/test_key_uses.py)

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


# --- Creating keys: never a stronger or longer-lived key than the one (or the person) asking -----------------

KEYS = "/api/v1/api-keys/"


def test_a_key_can_only_hand_on_scopes_it_holds(api_client, shipper):
    # given: a key that manages keys and reads bookings, no more
    _key, raw = factories.api_key(shipper.org, scopes=[Scope.KEYS_MANAGE, Scope.BOOKINGS_READ])

    # when
    stronger = api_client.post(KEYS, {"name": "x", "scopes": ["bookings:read", "bookings:write"]}, format="json",
                               **bearer(raw))
    manager = api_client.post(KEYS, {"name": "x", "scopes": ["keys:manage"]}, format="json", **bearer(raw))
    same = api_client.post(KEYS, {"name": "reader", "scopes": ["bookings:read"]}, format="json", **bearer(raw))
    default = api_client.post(KEYS, {"name": "default"}, format="json", **bearer(raw))

    # then: the stronger asks are field errors and make no key; what it holds (and its default) it can hand on
    assert stronger.status_code == 400 and "bookings:write" in stronger.json()["errors"]["scopes"][0]
    assert "bookings:read" not in stronger.json()["errors"]["scopes"][0]
    assert manager.status_code == 400 and "keys:manage" in manager.json()["errors"]["scopes"][0]
    assert same.status_code == 201 and same.json()["scopes"] == ["bookings:read"]
    assert default.status_code == 201 and default.json()["scopes"] == ["bookings:read"]
    assert sorted(k.name for k in ApiKey.objects.filter(organisation=shipper.org)) == ["default", "reader", "test"]


def test_a_person_hands_on_what_their_party_may_have_and_no_more(api_client, shipper):
    api_client.force_login(shipper.user)

    theirs = api_client.post(KEYS, {"name": "erp", "scopes": ["bookings:write", "declarations:write"]},
                             format="json")
    not_theirs = api_client.post(KEYS, {"name": "x", "scopes": ["events:write"]}, format="json")

    assert theirs.status_code == 201
    assert not_theirs.status_code == 400 and "events:write" in not_theirs.json()["errors"]["scopes"][0]


@pytest.mark.parametrize(("expires_in", "field_error"), [
    (timedelta(minutes=-1), "future"),
    (timedelta(0), "future"),
    (timedelta(days=31), "30 days"),
])
def test_an_expiry_in_the_past_or_beyond_the_longest_lifetime_is_refused(api_client, shipper, settings,
                                                                        expires_in, field_error):
    settings.API_KEY_MAX_LIFETIME_DAYS = 30
    api_client.force_login(shipper.user)

    response = api_client.post(KEYS, {"name": "x", "expires_at": (timezone.now() + expires_in).isoformat()},
                               format="json")

    assert response.status_code == 400
    assert field_error in response.json()["errors"]["expires_at"][0]
    assert not ApiKey.objects.exists()


def test_a_key_asked_for_without_an_expiry_lives_the_longest_allowed(api_client, shipper, settings):
    settings.API_KEY_MAX_LIFETIME_DAYS = 30
    api_client.force_login(shipper.user)
    before = timezone.now()

    created = api_client.post(KEYS, {"name": "x"}, format="json")
    within = api_client.post(KEYS, {"name": "y", "expires_at": (before + timedelta(days=29)).isoformat()},
                             format="json")
    after = timezone.now()

    assert created.status_code == 201 and within.status_code == 201
    expires = ApiKey.objects.get(name="x").expires_at
    assert before + timedelta(days=30) <= expires <= after + timedelta(days=30)
