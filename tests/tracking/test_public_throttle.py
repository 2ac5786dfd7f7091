"""The public tracking page: both the container number and the booking reference, and a limit per address."""

import secrets

import pytest
from django.core.cache import cache

from guard.ratelimit import window_keys
from intermodal.throttling import AddressRateThrottle

pytestmark = pytest.mark.django_db


@pytest.fixture
def low_rate(settings, monkeypatch):
    """Three look-ups a minute per address, on a clock the test moves."""
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "public_tracking": "3/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    clock = [1_000_000.0]
    monkeypatch.setattr(AddressRateThrottle, "timer", staticmethod(lambda: clock[0]))
    return clock


def fresh_address() -> str:
    address = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
    cache.delete_many(window_keys(f"throttle_public_tracking_{address}", 60, 1_000_000.0))
    return address


def look_up(client, address: str, serial: int):
    return client.get("/track/", {"container": "CSQU3054383", "booking": f"BK-2026-{serial:06d}"},
                      REMOTE_ADDR=address)


def test_guessing_booking_references_is_stopped_per_address(client, low_rate):
    gateway, elsewhere = fresh_address(), fresh_address()

    guesses = [look_up(client, gateway, n) for n in range(4)]
    other_address = look_up(client, elsewhere, 9)
    blank_form = client.get("/track/", REMOTE_ADDR=gateway)
    low_rate[0] += 61
    a_minute_later = look_up(client, gateway, 5)

    assert [r.status_code for r in guesses] == [404, 404, 404, 429]
    refused = guesses[3]
    assert int(refused["Retry-After"]) > 0
    assert "Too many look-ups from your address." in refused.content.decode()
    assert "data-not-found" not in refused.content.decode()  # nothing is told about the guess itself
    assert other_address.status_code == 404
    assert blank_form.status_code == 200
    assert a_minute_later.status_code == 404


@pytest.mark.parametrize("query", [{"container": "CSQU3054383"}, {"booking": "BK-2026-000001"}])
def test_one_of_the_two_alone_looks_nothing_up(client, low_rate, query):
    address = fresh_address()

    responses = [client.get("/track/", query, REMOTE_ADDR=address) for _ in range(4)]

    assert [r.status_code for r in responses] == [200] * 4  # the form again with its error, never counted
    assert all("data-not-found" not in r.content.decode() for r in responses)
    assert responses[0].context["form"].errors
