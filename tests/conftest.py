"""Suite-wide set-up: the suite runs against real PostgreSQL and Redis, and says so at once if they are down."""

import os
import socket
from types import SimpleNamespace
from urllib.parse import urlparse

import pytest
from rest_framework.test import APIClient

from intermodal.access import Actor
from intermodal.models import PartyKind
from stations.models import Departure
from tests import factories

START_HINT = (
    "Start it with `{local}`, or `docker compose up -d db redis` and point {var} at it (see README.md)."
)


def _answers(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=2):
            return True
    except OSError:
        return False


def pytest_sessionstart(session):
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        pytest.exit("The suite runs against PostgreSQL: run `make test`, or set DATABASE_URL=postgres://...", 2)
    if not _answers(database_url, 5432):
        pytest.exit(
            f"PostgreSQL does not answer at {database_url}. "
            + START_HINT.format(
                local="pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start", var="DATABASE_URL"
            ),
            2,
        )
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url:
        pytest.exit("The suite needs Redis: run `make test`, or set REDIS_URL=redis://...", 2)
    if not _answers(redis_url, 6379):
        pytest.exit(
            f"Redis does not answer at {redis_url}. "
            + START_HINT.format(
                local='redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no',
                var="REDIS_URL",
            ),
            2,
        )


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The suite creates and signs in many users: PBKDF2's deliberate slowness is for attackers, not for tests
    (it made each user cost about a second on a busy machine). The live server of the browser tests runs in
    this process, so it checks passwords with the same hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def network(db):
    """A small network: two stations, a terminal, a daily rail service, departures and a vessel call."""
    return factories.small_network()


@pytest.fixture
def shipper(db):
    org = factories.organisation(PartyKind.ENTERPRISE, code="shipper-a")
    person = factories.user(org, username="alice")
    return SimpleNamespace(org=org, user=person, actor=Actor(organisation=org, user=person))


@pytest.fixture
def other_shipper(db):
    org = factories.organisation(PartyKind.ENTERPRISE, code="shipper-b")
    person = factories.user(org, username="bob")
    return SimpleNamespace(org=org, user=person, actor=Actor(organisation=org, user=person))


@pytest.fixture
def connecting(network):
    """The first Yiwu departure that still makes the network's vessel call, and the call."""
    departure = (
        Departure.objects.filter(
            service=network.yiwu_rail, planned_arrival__lte=network.vessel_call.latest_arrival_for()
        )
        .select_related("service__station", "service__terminal")
        .order_by("-planned_departure")
        .first()
    )
    return SimpleNamespace(departure=departure, vessel_call=network.vessel_call, network=network)


@pytest.fixture
def outbox_committed_ids():
    """What the event core announces after each commit that wrote outbox rows (its `outbox_committed` signal), in
    place of the notifications relay, which is disconnected for the test and connected again after it."""
    from intermodal.events import outbox_committed
    from intermodal.models import OutboxMessage
    from notifications.relay import relay_trigger

    seen: list[list[int]] = []

    def hear(sender, *, outbox_ids, **signal):
        seen.append(outbox_ids)

    outbox_committed.disconnect(sender=OutboxMessage, dispatch_uid="notifications.relay")
    outbox_committed.connect(hear, sender=OutboxMessage, weak=False)
    yield seen
    outbox_committed.disconnect(hear, sender=OutboxMessage)
    outbox_committed.connect(relay_trigger, sender=OutboxMessage, dispatch_uid="notifications.relay")
