"""Retention (retention/pruning.py, issue 21 item 2): outbox rows once relayed, settled deliveries, delivery
attempts, idempotency keys and audit entries pruned past their setting, in short batches that skip rows another
transaction holds, archived first when asked; what is still needed is never touched."""

import gzip
import json
import threading
from datetime import timedelta

import psycopg2
import pytest
from django.conf import settings
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone

from audit.models import AuditEntry
from intermodal.codes import Classifier, EventType
from intermodal.events import event_record
from intermodal.models import IdempotencyRecord, OutboxMessage, PartyKind
from journey.models import ReportedEvent
from notifications.models import Delivery, DeliveryAttempt, DeliveryStatus, Subscription
from retention import pruning as retention
from retention.tasks import retention_prune_task
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

LONG_AGO = timedelta(days=400)


def event(n: int):
    with transaction.atomic():
        return event_record(
            event_type=EventType.EQUIPMENT, event_code="GTIN", classifier=Classifier.ACTUAL,
            equipment_reference="CSQU3054383", empty_indicator="LADEN", facility_kind="station",
            facility_code="YIWU-W", location_unlocode="CNYIU", booking_reference=f"BK-2026-{n:06d}")


@pytest.fixture
def subscription():
    org = factories.organisation(PartyKind.ENTERPRISE, code="shipper-a")
    return Subscription.objects.create(organisation=org, url="https://hooks.example.com/in", event_kinds=["*"],
                                       secret="whsec_test")


def delivery(subscription, n: int, status: str, age: timedelta, attempts: int = 1) -> Delivery:
    made = Delivery.objects.create(webhook_id=f"msg_{n}", subscription=subscription, topic="equipment.gtin",
                                   body="{}", status=status, attempts=attempts)
    Delivery.objects.filter(pk=made.pk).update(created_at=timezone.now() - age)
    for number in range(1, attempts + 1):
        DeliveryAttempt.objects.create(delivery=made, number=number, started_at=timezone.now() - age,
                                       status_code=200, latency_ms=40)
    return made


def test_relayed_outbox_rows_go_after_their_days_and_waiting_ones_stay():
    old, recent, waiting = (event(n).outbox for n in range(3))
    OutboxMessage.objects.filter(pk=old.pk).update(processed_at=timezone.now() - timedelta(days=8))
    OutboxMessage.objects.filter(pk=recent.pk).update(processed_at=timezone.now() - timedelta(days=6))
    OutboxMessage.objects.filter(pk=waiting.pk).update(created_at=timezone.now() - LONG_AGO)

    pruned = retention.prune(retention.POLICIES["outbox"])

    assert pruned == 1
    assert set(OutboxMessage.objects.values_list("pk", flat=True)) == {recent.pk, waiting.pk}


def test_settled_deliveries_go_with_their_attempts_and_unsettled_ones_stay(subscription):
    delivered = delivery(subscription, 1, DeliveryStatus.DELIVERED, timedelta(days=91), attempts=2)
    given_up = delivery(subscription, 2, DeliveryStatus.FAILED, timedelta(days=91), attempts=3)
    pending = delivery(subscription, 3, DeliveryStatus.PENDING, timedelta(days=91))
    sending = delivery(subscription, 4, DeliveryStatus.SENDING, timedelta(days=91))
    recent = delivery(subscription, 5, DeliveryStatus.DELIVERED, timedelta(days=89))

    pruned = retention.prune(retention.POLICIES["deliveries"])

    assert pruned == 2
    assert set(Delivery.objects.values_list("pk", flat=True)) == {pending.pk, sending.pk, recent.pk}
    assert not DeliveryAttempt.objects.filter(delivery_id__in=[delivered.pk, given_up.pk]).exists()


def test_attempts_go_after_their_own_days_and_their_delivery_stays(subscription):
    old = delivery(subscription, 1, DeliveryStatus.DELIVERED, timedelta(days=31), attempts=2)
    recent = delivery(subscription, 2, DeliveryStatus.DELIVERED, timedelta(days=29))

    assert retention.prune(retention.POLICIES["attempts"]) == 2
    assert list(DeliveryAttempt.objects.values_list("delivery_id", flat=True)) == [recent.pk]
    assert Delivery.objects.filter(pk=old.pk).exists()


def test_reporters_event_ids_go_after_their_days():
    org = factories.organisation(PartyKind.STATION_OPERATOR)
    for key, days in (("old", 31), ("new", 29)):
        ReportedEvent.objects.create(organisation=org, external_id=key, status=201, body={},
                                     created_at=timezone.now() - timedelta(days=days))

    assert retention.prune(retention.POLICIES["reported_events"]) == 1
    assert list(ReportedEvent.objects.values_list("external_id", flat=True)) == ["new"]


def test_idempotency_keys_go_after_24_hours():
    org = factories.organisation(PartyKind.ENTERPRISE)
    for key, hours in (("old", 25), ("new", 23)):
        record = IdempotencyRecord.objects.create(organisation=org, key=key, method="POST", path="/api/v1/x/",
                                                  request_hash="0" * 64, response_status=201)
        IdempotencyRecord.objects.filter(pk=record.pk).update(created_at=timezone.now() - timedelta(hours=hours))

    assert retention.prune(retention.POLICIES["idempotency"]) == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


def audit_entries(*ages: timedelta) -> list[int]:
    return [AuditEntry.objects.create(action="status.change", object_type="booking", object_ref=f"BK-{n}",
                                      at=timezone.now() - age).pk for n, age in enumerate(ages)]


def test_the_audit_trail_is_pruned_past_its_years_by_the_retention_job_only():
    old, recent = audit_entries(timedelta(days=1826), timedelta(days=1824))

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=old).delete()  # anyone else: refused, old or not
    pruned = retention.prune(retention.POLICIES["audit"])

    assert pruned == 1
    assert list(AuditEntry.objects.filter(pk__in=[old, recent]).values_list("pk", flat=True)) == [recent]
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(retention.POLICIES["audit"].prepare, {"cutoff": timezone.now() - timedelta(days=3000)})
        cursor.execute("DELETE FROM audit_entry WHERE id = %s", [recent])  # newer than the cutoff it named


def test_batches_are_archived_before_they_go(tmp_path, settings):
    settings.RETENTION_ARCHIVE_DIR = str(tmp_path)
    ids = audit_entries(*[timedelta(days=2000)] * 5)

    pruned = retention.prune(retention.POLICIES["audit"], batch_size=2)

    assert pruned == 5
    archive = next(tmp_path.glob("audit-*.jsonl.gz"))
    with gzip.open(archive, "rt", encoding="utf-8") as lines:
        archived = [json.loads(line) for line in lines]
    assert sorted(row["id"] for row in archived) == sorted(ids)
    assert {row["object_type"] for row in archived} == {"booking"}


def test_zero_keeps_rows_for_ever(settings):
    settings.RETENTION_AUDIT_DAYS = 0
    audit_entries(timedelta(days=10_000))

    assert retention.prune(retention.POLICIES["audit"]) == 0
    assert AuditEntry.objects.filter(object_ref="BK-0").exists()


def test_a_row_another_transaction_holds_is_left_for_the_next_run(subscription):
    held, *others = (delivery(subscription, n, DeliveryStatus.DELIVERED, timedelta(days=100)) for n in range(4))
    database = connection.settings_dict
    locked, release = threading.Event(), threading.Event()

    def hold():  # another connection, as a sender claiming the delivery would
        other = psycopg2.connect(dbname=database["NAME"], user=database["USER"],
                                 host=database["HOST"] or "127.0.0.1", port=database["PORT"] or 5432)
        with other, other.cursor() as cursor:
            cursor.execute("SELECT id FROM notifications_delivery WHERE id = %s FOR UPDATE", [held.pk])
            locked.set()
            release.wait(30)
        other.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(30)
    try:
        first = retention.prune(retention.POLICIES["deliveries"], batch_size=2)
        still_there = set(Delivery.objects.values_list("pk", flat=True))
    finally:
        release.set()
        holder.join(30)
    second = retention.prune(retention.POLICIES["deliveries"])

    assert (first, still_there) == (3, {held.pk})  # not waited for: skipped
    assert second == 1 and not Delivery.objects.exists()


def test_beat_runs_every_policy_hourly():
    entry = settings.CELERY_BEAT_SCHEDULE["retention-prune"]

    assert entry["task"] == "retention.tasks.retention_prune"
    assert set(retention.POLICIES) == {"outbox", "deliveries", "attempts", "idempotency", "reported_events",
                                       "audit"}
    assert retention_prune_task() == dict.fromkeys(sorted(retention.POLICIES), 0)
