"""API keys: stored hashed, scoped, revocable, expiring; another organisation's key is a 404."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from intermodal.access import api_key_revoke, api_key_uses_write
from intermodal.models import DEFAULT_SCOPES, ApiKey, PartyKind, Scope
from tests import factories

pytestmark = pytest.mark.django_db

PROTECTED = "/api/v1/api-keys/"


def bearer(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def railway():
    return factories.organisation(PartyKind.RAILWAY, code="rail-co")


def test_no_key_on_a_protected_endpoint_is_401(api_client):
    response = api_client.get(PROTECTED)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert response.json()["code"] == "not_authenticated"


def test_a_valid_key_reads_its_organisation_keys_only(api_client, railway):
    key, raw = factories.api_key(railway, scopes=[Scope.KEYS_MANAGE])
    other_key, _ = factories.api_key(factories.organisation(PartyKind.PORT))

    listing = api_client.get(PROTECTED, **bearer(raw))
    foreign = api_client.get(f"{PROTECTED}{other_key.prefix}/", **bearer(raw))

    assert listing.status_code == 200
    assert [k["prefix"] for k in listing.json()["results"]] == [key.prefix]
    assert "secret_hash" not in listing.json()["results"][0]
    assert foreign.status_code == 404


def test_revoked_key_is_401(api_client, railway):
    key, raw = factories.api_key(railway, scopes=[Scope.KEYS_MANAGE])
    api_key_revoke(key=key)

    response = api_client.get(PROTECTED, **bearer(raw))

    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_expired_key_is_401(api_client, railway):
    _key, raw = factories.api_key(railway, scopes=[Scope.KEYS_MANAGE],
                                  expires_at=timezone.now() - timedelta(seconds=1))

    assert api_client.get(PROTECTED, **bearer(raw)).status_code == 401


@pytest.mark.parametrize("header", ["Bearer", "Bearer imk_x_y", "Bearer not-a-key", "Bearer a b"])
def test_malformed_or_unknown_keys_are_401(api_client, railway, header):
    response = api_client.get(PROTECTED, HTTP_AUTHORIZATION=header)

    assert response.status_code == 401


def test_a_wrong_secret_with_a_real_prefix_is_401(api_client, railway):
    key, raw = factories.api_key(railway, scopes=[Scope.KEYS_MANAGE])
    forged = f"imk_{key.prefix}_{'A' * 43}"

    assert api_client.get(PROTECTED, **bearer(forged)).status_code == 401
    assert api_client.get(PROTECTED, **bearer(raw)).status_code == 200


def test_key_without_the_scope_is_403(api_client, railway):
    _key, raw = factories.api_key(railway, scopes=[Scope.SCHEDULES_READ])

    response = api_client.get(PROTECTED, **bearer(raw))

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert "keys:manage" in response.json()["detail"]


def test_the_key_secret_is_stored_only_as_a_hash(railway):
    key, raw = factories.api_key(railway)

    assert raw.startswith(f"imk_{key.prefix}_")
    assert raw.split("_", 2)[2] not in key.secret_hash
    assert len(key.secret_hash) == 64
    assert key.scopes == sorted(DEFAULT_SCOPES[PartyKind.RAILWAY])


def test_use_records_last_used_time(api_client, railway):
    key, raw = factories.api_key(railway, scopes=[Scope.KEYS_MANAGE])
    assert key.last_used_at is None

    api_client.get(PROTECTED, **bearer(raw))
    api_key_uses_write()  # beat's task, every minute (tests/intermodal/test_key_uses.py)

    key.refresh_from_db()
    assert key.last_used_at is not None


def test_me_tells_who_is_calling(api_client, railway):
    _key, raw = factories.api_key(railway, scopes=[Scope.SCHEDULES_READ])
    person = factories.user(railway, username="dispatcher")

    by_key = api_client.get("/api/v1/me/", **bearer(raw)).json()
    api_client.force_login(person)
    by_session = api_client.get("/api/v1/me/").json()

    assert by_key["organisation"]["code"] == "rail-co"
    assert by_key["via"] == "api_key"
    assert by_key["scopes"] == [Scope.SCHEDULES_READ]
    assert by_session["username"] == "dispatcher"
    assert by_session["via"] == "session"


def test_keys_are_created_and_revoked_through_the_api(api_client, railway):
    # A key hands on only scopes it holds itself (issue 18).
    _admin_key, raw = factories.api_key(railway, scopes=[Scope.KEYS_MANAGE, Scope.EVENTS_WRITE])

    created = api_client.post(PROTECTED, {"name": "tms", "scopes": ["events:write"]}, format="json",
                              **bearer(raw))
    new_raw = created.json()["key"]
    prefix = created.json()["prefix"]
    revoked = api_client.post(f"{PROTECTED}{prefix}/revoke/", **bearer(raw))

    assert created.status_code == 201
    assert ApiKey.objects.get(prefix=prefix).scopes == ["events:write"]
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    assert api_client.get("/api/v1/me/", **bearer(new_raw)).status_code == 401


def test_a_key_cannot_be_given_scopes_the_organisation_does_not_have(api_client, db):
    government = factories.organisation(PartyKind.LOCAL_GOVERNMENT)
    api_client.force_login(factories.user(government))

    response = api_client.post(PROTECTED, {"name": "x", "scopes": ["bookings:write"]}, format="json")

    assert response.status_code == 400
    assert "scopes" in response.json()["errors"]
    assert not ApiKey.objects.exists()


def test_unknown_scope_is_a_field_error(api_client, railway):
    api_client.force_login(factories.user(railway))

    response = api_client.post(PROTECTED, {"name": "x", "scopes": ["launch:rockets"]}, format="json")

    assert response.status_code == 400
    assert "scopes.0" in response.json()["errors"]


def test_create_api_key_command_prints_the_key_once(api_client, railway):
    out, err = StringIO(), StringIO()

    call_command("create_api_key", "--org", "rail-co", "--scopes", "keys:manage", "schedules:read",
                 stdout=out, stderr=err)

    raw = out.getvalue().strip()
    assert raw.startswith("imk_")
    assert "not shown again" in err.getvalue()
    assert ApiKey.objects.get().scopes == ["keys:manage", "schedules:read"]
    assert api_client.get(PROTECTED, **bearer(raw)).status_code == 200


def test_create_api_key_command_defaults_to_the_organisation_scopes(railway):
    call_command("create_api_key", "--org", "rail-co", stdout=StringIO(), stderr=StringIO())

    assert ApiKey.objects.get().scopes == sorted(DEFAULT_SCOPES[PartyKind.RAILWAY])


def test_create_api_key_command_refuses_unknown_org_and_scope(railway):
    with pytest.raises(CommandError, match="No organisation"):
        call_command("create_api_key", "--org", "nope", stdout=StringIO(), stderr=StringIO())
    with pytest.raises(CommandError, match="Unknown scope"):
        call_command("create_api_key", "--org", "rail-co", "--scopes", "bogus", stdout=StringIO(),
                     stderr=StringIO())
    assert not ApiKey.objects.exists()
