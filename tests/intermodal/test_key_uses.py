"""A key's use is noted in Redis by the request and written by a beat task: a read with an API key writes nothing to
the database, and the key's last use and its audit entry (with the address it came from) still come within the
minute (intermodal/access.py, audit/uses.py)."""

import json
import os
from datetime import datetime, timedelta

import pytest
import redis as redis_client
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditAction, AuditEntry
from intermodal import access
from intermodal.access import api_key_uses_write
from intermodal.celery import app
from intermodal.models import Scope
from intermodal.tasks import api_key_uses_write_task
from tests import factories
from tests.notifications.conftest import private_redis, wait_for, worker_factory  # noqa: F401 - fixtures

TRACKED = "/api/v1/bookings/"
USES_NOTED = "audit:uses:api_key"  # audit/uses.py: the Redis hash of the keys' noted uses


def bearer(raw: str, ip: str = "10.1.2.3") -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}", "REMOTE_ADDR": ip}


def redis():
    """This test process's Redis (tests/conftest.py gives each xdist worker its own), whatever the cache is."""
    return redis_client.Redis.from_url(os.environ["REDIS_URL"])


@pytest.fixture(autouse=True)
def nothing_noted():
    redis().delete(USES_NOTED)
    access._noted_here.clear()
    yield
    redis().delete(USES_NOTED)
    access._noted_here.clear()


def used_entries(key):
    return list(AuditEntry.objects.filter(action=AuditAction.KEY_USED, object_ref=key.prefix).order_by("at", "id"))


@pytest.mark.django_db
def test_a_read_with_a_key_writes_nothing_and_the_task_writes_its_use_with_its_address(api_client, shipper):
    key, raw = factories.api_key(shipper.org, scopes=[Scope.BOOKINGS_READ])
    before = timezone.now()

    with CaptureQueriesContext(connection) as queries:
        answered = api_client.get(TRACKED, **bearer(raw))
    after = timezone.now()
    key.refresh_from_db()
    noted = json.loads(redis().hget(USES_NOTED, str(key.pk)))
    audited_before = used_entries(key)
    written = api_key_uses_write()
    again = api_key_uses_write()

    assert answered.status_code == 200
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT",
                                                                                                     "DELETE"))]
    assert writes == [] and key.last_used_at is None and audited_before == []
    assert noted["actor"] == {"ip": "10.1.2.3"}
    assert (written, again) == (1, 0)
    key.refresh_from_db()
    assert before <= key.last_used_at <= after
    entry, = used_entries(key)
    assert (entry.ip_address, entry.api_key_prefix, entry.organisation_code) == ("10.1.2.3", key.prefix,
                                                                                 shipper.org.code)
    assert datetime.fromisoformat(entry.after["last_used_at"]) == key.last_used_at
    assert not redis().exists(USES_NOTED)


@pytest.mark.django_db
def test_a_key_is_noted_once_a_minute_by_a_process_and_written_once_a_minute(api_client, shipper):
    key, raw = factories.api_key(shipper.org, scopes=[Scope.BOOKINGS_READ])

    api_client.get(TRACKED, **bearer(raw, "10.0.0.1"))
    api_client.get(TRACKED, **bearer(raw, "10.0.0.2"))  # noted already by this process: the first note stands
    first = json.loads(redis().hget(USES_NOTED, str(key.pk)))
    api_key_uses_write()
    access._noted_here.clear()  # another process, say
    api_client.get(TRACKED, **bearer(raw, "10.0.0.3"))  # the key's recorded use is under a minute old
    after_write = redis().hget(USES_NOTED, str(key.pk))

    assert first["actor"] == {"ip": "10.0.0.1"}
    assert after_write is None
    assert [entry.ip_address for entry in used_entries(key)] == ["10.0.0.1"]


@pytest.mark.django_db
def test_a_use_older_than_the_recorded_one_does_not_move_it_back(shipper):
    key, _raw = factories.api_key(shipper.org)
    recorded = timezone.now()
    key.last_used_at = recorded
    key.save(update_fields=["last_used_at"])
    older = recorded - timedelta(minutes=5)
    redis().hset(USES_NOTED, str(key.pk), json.dumps({"at": older.isoformat(), "actor": {"ip": "10.9.9.9"}}))

    audited = len(used_entries(key))  # the save above is audited too
    written = api_key_uses_write()

    key.refresh_from_db()
    assert written == 0 and key.last_used_at == recorded
    assert len(used_entries(key)) == audited


@pytest.mark.django_db
def test_uses_that_could_not_be_written_are_kept_for_the_next_run_and_a_newer_note_wins(shipper, monkeypatch):
    key, _raw = factories.api_key(shipper.org)
    first = {"at": (timezone.now() - timedelta(minutes=2)).isoformat(), "actor": {"ip": "10.0.0.1"}}
    newer = {"at": timezone.now().isoformat(), "actor": {"ip": "10.0.0.2"}}
    redis().hset(USES_NOTED, str(key.pk), json.dumps(first))

    def database_down(noted):
        redis().hset(USES_NOTED, str(key.pk), json.dumps(newer))  # noted by a request meanwhile
        raise ConnectionError("the database went away")

    with monkeypatch.context() as patched:
        patched.setattr(access, "_uses_write", database_down)
        with pytest.raises(ConnectionError):
            api_key_uses_write()
    kept = json.loads(redis().hget(USES_NOTED, str(key.pk)))
    written = api_key_uses_write()

    key.refresh_from_db()
    assert kept == newer
    assert written == 1 and key.last_used_at == datetime.fromisoformat(newer["at"])


@pytest.mark.django_db
def test_without_redis_the_request_writes_the_use_itself(api_client, shipper, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    key, raw = factories.api_key(shipper.org, scopes=[Scope.BOOKINGS_READ])

    answered = api_client.get(TRACKED, **bearer(raw, "10.4.4.4"))

    key.refresh_from_db()
    assert answered.status_code == 200 and key.last_used_at is not None
    assert [entry.ip_address for entry in used_entries(key)] == ["10.4.4.4"]
    assert api_key_uses_write() == 0


def test_beat_writes_the_uses_every_minute():
    entry = app.conf.beat_schedule["api-key-uses"]

    assert entry["task"] == api_key_uses_write_task.name == "intermodal.tasks.api_key_uses_write"
    assert entry["schedule"] == 60.0


@pytest.mark.django_db(transaction=True)
def test_a_worker_with_beat_writes_the_uses_the_requests_noted(api_client, shipper, private_redis,  # noqa: F811
                                                               worker_factory):  # noqa: F811
    key, raw = factories.api_key(shipper.org, scopes=[Scope.BOOKINGS_READ])
    answered = api_client.get(TRACKED, **bearer(raw, "10.7.7.7"))
    assert answered.status_code == 200 and redis().hexists(USES_NOTED, str(key.pk))

    worker_factory(private_redis.url, concurrency=1, API_KEY_USES_SECONDS="0.5")
    wait_for(lambda: used_entries(key), timeout=60, what="the worker to write the key's use")

    key.refresh_from_db()
    assert key.last_used_at is not None
    assert [entry.ip_address for entry in used_entries(key)] == ["10.7.7.7"]
    assert not redis().hexists(USES_NOTED, str(key.pk))
