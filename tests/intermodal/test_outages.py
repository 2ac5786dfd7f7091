"""Outages answered cleanly (issue 18, item 7): a PostgreSQL of the test's own, stopped in the middle of a request.

The module's requests run against an embedded PostgreSQL (databases/embedded_db.py) in a temporary folder,
migrated once: the default connection is pointed at it for each test, then back at the test database. A hook
inside the booking service stops that server after the change (before its commit, or after it and before the
answer); the retry goes to the restarted server. No clock: every wait is on a condition."""

import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext
from rest_framework.test import APIClient

from bookings import services as booking_services
from bookings.models import Booking
from guard.outage import is_outage
from intermodal.models import Event, IdempotencyRecord, OutboxMessage, PartyKind, Scope
from journey import services as journey_services
from stations.models import Departure, VesselCall
from tests import factories
from tests.bookings.test_views import CARGO, choice_params
from tests.notifications.conftest import private_redis  # noqa: F401 - a fixture
from tests.own_postgres import (  # noqa: F401 - fixtures
    default_connection_to,
    on_own_postgres_server,
    own_postgres_server,
    served,
)


@pytest.fixture(scope="module")
def own_postgres(own_postgres_server, django_db_blocker):  # noqa: F811 - the imported fixture
    """The module's own PostgreSQL, with a small network and a shipper's key."""
    server = own_postgres_server
    with django_db_blocker.unblock(), default_connection_to(server):
        network = factories.small_network()
        shipper = factories.organisation(PartyKind.ENTERPRISE, code="shipper-own")
        person = factories.user(shipper, username="own-alice")
        _key, raw = factories.api_key(shipper, scopes=[Scope.BOOKINGS_WRITE, Scope.BOOKINGS_READ])
        _key, railway_raw = factories.api_key(network.railway, scopes=[Scope.EVENTS_WRITE, Scope.EVENTS_READ])
        departure = (Departure.objects.filter(service=network.yiwu_rail,
                                              planned_arrival__lte=network.vessel_call.latest_arrival_for())
                     .order_by("-planned_departure").first())
    server.world = SimpleNamespace(departure_pk=departure.pk, body={
        "departure": departure.reference, "vessel_call": network.vessel_call.reference, "destination": "NLRTM",
        "containers": [{"size_type": "22G1", "quantity": 1}], "cargo_weight_kg": "9000", "confirm": True,
    }, key=raw, user=person, railway_key=railway_raw, departure=departure.reference)
    return server


@pytest.fixture
def on_own_postgres(own_postgres, on_own_postgres_server):  # noqa: F811 - the imported fixture
    return on_own_postgres_server


def _post_booking(server, commodity: str, key: str):
    return served(APIClient().post, "/api/v1/bookings/", {**server.world.body, "commodity": commodity},
                  format="json", HTTP_AUTHORIZATION=f"Bearer {server.world.key}", HTTP_IDEMPOTENCY_KEY=key)


def _assert_unavailable(response):
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == "5"
    body = response.json()
    assert body["status"] == 503 and body["code"] == "unavailable" and body["errors"] == {}
    assert "try again" in body["detail"]


def _hook_booking_create(monkeypatch, after):
    """The booking service, with `after(server)` called once the booking is written (inside its transaction)."""
    real = booking_services.booking_create
    calls = []

    def hooked(**kwargs):
        booking = real(**kwargs)
        if not calls:
            calls.append(booking.reference)
            after()
        return booking

    monkeypatch.setattr(booking_services, "booking_create", hooked)
    return calls


def test_a_booking_lost_with_the_database_before_its_commit_leaves_the_key_free(on_own_postgres, monkeypatch):
    server, commodity, key = on_own_postgres, f"Lamps {uuid.uuid4().hex[:8]}", f"po-{uuid.uuid4().hex}"
    booked_before = Departure.objects.get(pk=server.world.departure_pk).booked_teu
    # given: the server stops right after the booking is written, before anything commits
    hooked = _hook_booking_create(monkeypatch, server.stop)

    # when
    first = _post_booking(server, commodity, key)

    # then: a 503 with Retry-After in the error shape; nothing was kept, the key included
    assert hooked, "the hook never ran"
    _assert_unavailable(first)
    server.start()
    assert not Booking.objects.filter(commodity=commodity).exists()
    assert not IdempotencyRecord.objects.filter(key=key).exists()

    # when: the client retries with the same key against the restarted server
    retry = _post_booking(server, commodity, key)

    # then: the retry books (it is no replay, and not "in progress"): exactly one booking, one TEU taken
    assert retry.status_code == 201, retry.content
    assert "Idempotent-Replayed" not in retry
    assert Booking.objects.filter(commodity=commodity).count() == 1
    assert Departure.objects.get(pk=server.world.departure_pk).booked_teu == booked_before + 1
    again = _post_booking(server, commodity, key)
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.content == retry.content
    assert Booking.objects.filter(commodity=commodity).count() == 1


def test_a_booking_committed_before_the_database_went_replays_its_answer(on_own_postgres, monkeypatch):
    server, commodity, key = on_own_postgres, f"Fans {uuid.uuid4().hex[:8]}", f"po-{uuid.uuid4().hex}"
    booked_before = Departure.objects.get(pk=server.world.departure_pk).booked_teu
    # given: the server stops just after the request's transaction commits, before the client has its answer
    hooked = _hook_booking_create(monkeypatch, lambda: transaction.on_commit(server.stop))

    # when: the client never sees the first answer (whatever reached it), and retries with the same key
    first = _post_booking(server, commodity, key)
    assert hooked, "the hook never ran"
    assert first.status_code in (201, 503)
    server.start()
    retry = _post_booking(server, commodity, key)

    # then: the committed booking's answer, replayed: one booking, one TEU taken
    assert retry.status_code == 201, retry.content
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json()["reference"] == hooked[0]
    assert Booking.objects.filter(commodity=commodity).count() == 1
    assert Departure.objects.get(pk=server.world.departure_pk).booked_teu == booked_before + 1


def test_a_booking_page_sent_again_after_the_database_went_mid_submission_books_once(on_own_postgres, monkeypatch):
    server, commodity = on_own_postgres, f"Kites {uuid.uuid4().hex[:8]}"
    departure = Departure.objects.get(pk=server.world.departure_pk)
    connecting = SimpleNamespace(departure=departure,
                                 vessel_call=VesselCall.objects.get(reference=server.world.body["vessel_call"]))
    form = {**choice_params(connecting), **CARGO, "cargo-commodity": commodity, "step": "confirm",
            "submission": uuid.uuid4().hex}
    person = Client(raise_request_exception=False)
    person.force_login(server.world.user)
    # given: the server stops right after the booking is written, before the wizard's token and booking commit
    hooked = _hook_booking_create(monkeypatch, server.stop)

    # when: the page is submitted, then sent again (the browser's resend) once the database is back
    first = served(person.post, "/bookings/new/", form)
    assert hooked and first.status_code == 503 and first["Retry-After"] == "5"
    server.start()
    again = served(person.post, "/bookings/new/", form)
    once_more = served(person.post, "/bookings/new/", form)

    # then: one booking; the last resend is shown the booking made, not a second one
    booking = Booking.objects.get(commodity=commodity)
    assert again.status_code == 302 and once_more.status_code == 302
    assert again["Location"] == once_more["Location"] == f"/bookings/{booking.reference}/"


def test_an_event_report_committed_before_the_database_went_is_replayed_not_reported_twice(
        on_own_postgres, monkeypatch):
    server, key = on_own_postgres, f"feed-{uuid.uuid4().hex}"
    departure = Departure.objects.get(reference=server.world.departure)
    estimate = {"event_type": "TRANSPORT", "event_code": "DEPA", "classifier": "EST",
                "transport_reference": departure.reference,
                "event_datetime": (departure.planned_departure + timedelta(minutes=37)).isoformat()}
    reported = Event.objects.filter(transport_reference=departure.reference, event_code="DEPA")
    before = reported.count()
    # given: the server stops once the railway's estimate commits, before the railway has the answer
    real, calls = journey_services.departure_estimate, []

    def hooked(**kwargs):
        calls.append(1)
        transaction.on_commit(server.stop)
        return real(**kwargs)

    monkeypatch.setattr(journey_services, "departure_estimate", hooked)
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {server.world.railway_key}", HTTP_IDEMPOTENCY_KEY=key)

    # when: the railway's feed resends the report with the same key once the database is back
    first = served(client.post, "/api/v1/events/", estimate, format="json")
    assert calls and first.status_code in (201, 503)
    server.start()
    retry = served(client.post, "/api/v1/events/", estimate, format="json")

    # then: the first answer, replayed; the estimate is recorded once
    assert retry.status_code == 201, retry.content
    assert retry["Idempotent-Replayed"] == "true"
    assert len(calls) == 1
    assert reported.count() == before + 1


def test_while_the_database_is_down_the_api_answers_503_with_retry_after(on_own_postgres):
    server = on_own_postgres
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {server.world.key}")
    assert served(client.get, "/api/v1/bookings/").status_code == 200
    server.stop()

    _assert_unavailable(served(client.get, "/api/v1/bookings/"))
    _assert_unavailable(_post_booking(server, "Cups", f"po-{uuid.uuid4().hex}"))
    _assert_unavailable(served(APIClient().get, "/api/v1/stations/"))  # anonymous, public

    server.start()
    assert served(client.get, "/api/v1/bookings/").status_code == 200  # back by itself, no restart of the web tier


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_while_the_database_is_down_pages_get_a_plain_503_page_in_the_reader_s_language(on_own_postgres, language):
    server = on_own_postgres
    signed_in = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE=language)
    signed_in.force_login(server.world.user)
    anonymous = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE=language)
    server.stop()

    for client, path in ((signed_in, "/bookings/"), (anonymous, "/"), (anonymous, "/healthz")):
        response = served(client.get, path)

        assert response.status_code == 503, (path, response.content[:300])
        assert response["Retry-After"] == "5"
        page = response.content.decode()
        assert f'<html lang="{language}">' in page
        with translation.override(language):
            assert gettext("The platform cannot reach its database for a moment.") in page
            assert gettext("Briefly unavailable") in page


# --- Redis (broker and cache) down: requests cost nothing -----------------------------------------------------


@pytest.fixture
def redis_waits(monkeypatch):
    """The pauses the Redis and broker clients ask for between their tries, recorded instead of slept."""
    import kombu.utils.functional
    import redis.retry

    asked: list[float] = []
    monkeypatch.setattr(kombu.utils.functional, "sleep", asked.append)
    monkeypatch.setattr(redis.retry, "sleep", asked.append)
    return asked


@pytest.mark.django_db(transaction=True)
def test_with_redis_down_as_broker_and_cache_requests_succeed_as_usual(
        shipper, connecting, private_redis, settings, redis_waits, caplog):  # noqa: F811
    # given: the broker and the cache (rate limits, tracking answers, reference versions) are one Redis, stopped
    settings.CACHES = {"default": {"BACKEND": "databases.redis_cache.RedisCache",
                                   "LOCATION": private_redis.url}}
    key, raw = factories.api_key(shipper.org, scopes=[Scope.BOOKINGS_WRITE, Scope.BOOKINGS_READ, Scope.EVENTS_READ])
    api = APIClient(HTTP_AUTHORIZATION=f"Bearer {raw}")
    page = Client()
    page.force_login(shipper.user)
    private_redis.stop()
    body = {"departure": connecting.departure.reference, "vessel_call": connecting.vessel_call.reference,
            "destination": "NLRTM", "containers": [{"size_type": "22G1", "quantity": 1}],
            "commodity": "Umbrellas", "cargo_weight_kg": "9000", "confirm": True}

    # when
    created = api.post("/api/v1/bookings/", body, format="json", HTTP_IDEMPOTENCY_KEY="po-redis-down")
    replayed = api.post("/api/v1/bookings/", body, format="json", HTTP_IDEMPOTENCY_KEY="po-redis-down")
    reference = created.json()["reference"]
    tracked = api.get(f"/api/v1/track/{reference}/")
    listed = page.get("/bookings/")

    # then: every request is answered as with Redis up; the change waits for the outbox sweep, not the client
    assert created.status_code == 201, created.content
    assert replayed.status_code == 201 and replayed["Idempotent-Replayed"] == "true"
    assert Booking.objects.filter(commodity="Umbrellas").count() == 1
    assert tracked.status_code == 200 and reference in tracked.content.decode()
    assert listed.status_code == 200 and reference in listed.content.decode()
    assert OutboxMessage.objects.filter(processed_at__isnull=True).exists()
    key.refresh_from_db()
    assert key.last_used_at is not None  # not noted in Redis for beat's task to write: written by the request
    # No request waited on Redis for long: at most the publish retry policy's short pauses.
    assert sum(redis_waits) <= 4 * 0.2


@pytest.mark.django_db
def test_the_schema_documents_the_503_of_an_outage_with_retry_after_on_every_operation():
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json").json()

    for path, method in (("/api/v1/bookings/", "post"), ("/api/v1/bookings/", "get"), ("/api/v1/events/", "post")):
        answer = schema["paths"][path][method]["responses"]["503"]
        assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
        assert "Retry-After" in answer["headers"]


@pytest.mark.parametrize(("sqlstate", "outage"), [
    (None, True),  # refused, or lost without an answer
    ("57P01", True),  # admin shutdown
    ("08006", True),  # connection failure
    ("40P01", True),  # deadlock: the retry goes through
    ("55P03", True),  # lock timeout
    ("57014", True),  # statement timeout
    ("53300", True),  # too many connections
    ("54000", False),  # program limit exceeded: what the request asked for, not an outage
])
def test_which_operational_errors_are_an_outage(sqlstate, outage):
    cause = Exception("the server's error")
    cause.pgcode = sqlstate
    error = OperationalError("the database said no")
    error.__cause__ = cause

    assert is_outage(error) is outage
    assert is_outage(InterfaceError("connection already closed"))
    assert not is_outage(IntegrityError("duplicate key")) and not is_outage(ValueError("NUL"))
