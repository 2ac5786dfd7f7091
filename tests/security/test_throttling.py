"""API rate limits per key, per person and per address, counted in the shared Redis cache."""

import secrets

import pytest
from django.core.cache import cache, caches

from intermodal.models import PartyKind
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def low_rates(settings):
    # Only this test's own counts are touched: the Redis database is shared with the broker and other runs.
    rates = {"key": "3/min", "user": "4/min", "anon": "2/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    return rates


def fresh_address() -> str:
    address = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
    cache.delete(f"throttle_anon_{address}")
    return address


def bearer(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_a_key_is_throttled_at_its_rate_and_told_when_to_come_back(api_client, low_rates):
    org = factories.organisation(PartyKind.RAILWAY)
    _key, raw = factories.api_key(org)
    _other, other_raw = factories.api_key(org)

    codes = [api_client.get("/api/v1/me/", **bearer(raw)).status_code for _ in range(4)]
    refused = api_client.get("/api/v1/me/", **bearer(raw))

    assert codes == [200, 200, 200, 429]
    assert refused.json()["code"] == "throttled"
    assert int(refused["Retry-After"]) > 0
    # another key of the same organisation has its own count
    assert api_client.get("/api/v1/me/", **bearer(other_raw)).status_code == 200


def test_a_signed_in_person_is_throttled_per_person(api_client, low_rates):
    org = factories.organisation(PartyKind.ENTERPRISE)
    person = factories.user(org)
    cache.delete(f"throttle_user_{person.pk}")  # ids restart with each test database
    api_client.force_login(person)

    codes = [api_client.get("/api/v1/bookings/").status_code for _ in range(5)]

    assert codes == [200, 200, 200, 200, 429]


def test_anonymous_readers_are_throttled_per_address(client, low_rates):
    address, other = fresh_address(), fresh_address()
    here = [client.get("/api/v1/stations/", REMOTE_ADDR=address).status_code for _ in range(3)]
    elsewhere = client.get("/api/v1/stations/", REMOTE_ADDR=other).status_code
    spoofed = client.get("/api/v1/stations/", REMOTE_ADDR=address, HTTP_X_FORWARDED_FOR="10.9.9.9").status_code

    assert here == [200, 200, 429]
    assert elsewhere == 200
    assert spoofed == 429  # X-Forwarded-For is not trusted unless NUM_PROXIES says a proxy sets it


def test_counts_live_in_the_shared_redis_cache(api_client, low_rates):
    org = factories.organisation(PartyKind.RAILWAY)
    key, raw = factories.api_key(org)

    api_client.get("/api/v1/me/", **bearer(raw))

    assert type(caches["default"]).__name__ == "RedisCache"
    assert len(cache.get(f"throttle_key_{key.prefix}")) == 1


def test_a_cache_that_is_down_lets_requests_through_unthrottled(api_client, low_rates, monkeypatch):
    org = factories.organisation(PartyKind.RAILWAY)
    _key, raw = factories.api_key(org)

    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(cache, "get", down)
    monkeypatch.setattr(cache, "set", down)

    assert [api_client.get("/api/v1/me/", **bearer(raw)).status_code for _ in range(5)] == [200] * 5
