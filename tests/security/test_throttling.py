"""API rate limits per key, per person and per address, counted in the shared Redis cache."""

import secrets
import threading
import time

import pytest
from django.core.cache import cache, caches
from rest_framework.test import APIClient

from databases.redis_cache import KeptClients
from guard.ratelimit import window_count, window_keys
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
    cache.delete_many(window_keys(f"throttle_anon_{address}", 60, time.time()))
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
    cache.delete_many(window_keys(f"throttle_user_{person.pk}", 60, time.time()))  # ids restart with each database
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
    assert cache.get(window_keys(f"throttle_key_{key.prefix}", 60, time.time())[0]) == 1


def test_a_cache_that_is_down_lets_requests_through_unthrottled(api_client, low_rates, monkeypatch):
    org = factories.organisation(PartyKind.RAILWAY)
    _key, raw = factories.api_key(org)

    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(KeptClients, "get_client", down)

    assert [api_client.get("/api/v1/me/", **bearer(raw)).status_code for _ in range(5)] == [200] * 5


@pytest.mark.django_db(transaction=True)
def test_requests_at_once_from_many_processes_are_counted_every_one(low_rates):
    """Forty requests of one key at once, from eight threads (as from web processes side by side), against a limit
    of ten: ten answered, thirty refused. Counting by reading and writing a list of times let two requests at once
    each keep only its own, and more through."""
    org = factories.organisation(PartyKind.RAILWAY)
    _key, raw = factories.api_key(org)
    low_rates["key"] = "10/min"
    start = threading.Barrier(8)
    codes: list[int] = []

    def caller():
        client = APIClient()
        start.wait()
        for _ in range(5):
            codes.append(client.get("/api/v1/me/", **bearer(raw)).status_code)

    threads = [threading.Thread(target=caller) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(codes) == [200] * 10 + [429] * 30


def test_without_redis_the_processes_own_cache_counts_the_same_way(api_client, low_rates, settings):
    """`make run` without REDIS_URL keeps its counts in the process's memory (LocMemCache)."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    org = factories.organisation(PartyKind.RAILWAY)
    _key, raw = factories.api_key(org)

    codes = [api_client.get("/api/v1/me/", **bearer(raw)).status_code for _ in range(4)]

    assert type(caches["default"]).__name__ == "LocMemCache"
    assert codes == [200, 200, 200, 429]


@pytest.mark.parametrize("backend", ["redis", "locmem"])
def test_a_count_reads_the_entries_a_view_asks_for_in_its_round_trip(backend, settings):
    # A view's first cache read rides on the count (tracking/api.py `read_ahead_keys`), decoded as the cache's
    # own get_many decodes it, on Redis and in a process's own memory alike.
    if backend == "locmem":
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    store = caches["default"]
    names = [f"ahead:{secrets.token_hex(4)}:{n}" for n in range(3)]
    store.set(names[0], {"answer": [1, "two"]}, 60)
    store.set(names[1], 7, 60)
    now = time.time()

    count, before, found = window_count(f"ahead:{secrets.token_hex(4)}", 60, now, names)
    again, _before, nothing = window_count(f"ahead:{secrets.token_hex(4)}", 60, now)

    assert found == store.get_many(names) == {names[0]: {"answer": [1, "two"]}, names[1]: 7}
    assert (count, before, again, nothing) == (1, 0, 1, {})
