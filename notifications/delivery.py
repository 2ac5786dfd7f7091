"""Sending deliveries: signed HTTP POSTs, retried on a schedule kept in the database.

A delivery is claimed (pending and due -> sending, with a lease, and the attempt's row written) in one short
transaction, posted outside any transaction, and its outcome recorded on that row in another: the delivery log
has a row for every post made, even when the outcome cannot be recorded (the worker killed, the database lost),
and the row then says so. A send that meets a database error is retried in seconds, carrying the outcomes of the
posts it made so they are recorded, not sent again. A worker that dies while posting leaves the delivery in
`sending`; when its lease runs out the sweep makes it pending again and it is sent anew with the same
webhook-id (receivers de-duplicate on it). Retries follow WEBHOOK_RETRY_DELAYS with jitter; 410 Gone disables
the subscription at once, WEBHOOK_DISABLE_AFTER_FAILURES failed attempts in a row disable it too, and its
organisation is told.
"""

import asyncio
import base64
import hashlib
import hmac
import logging
import math
import queue
import random
import threading
from concurrent.futures import Future
from datetime import datetime, timedelta

from celery import shared_task
from celery.signals import worker_process_shutdown, worker_shutdown
from django.conf import settings
from django.db import DatabaseError, InterfaceError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_noop
from standardwebhooks.webhooks import Webhook

from notifications import egress, posting
from notifications.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Subscription,
    SubscriptionFormat,
)
from notifications.people import notify_subscription_disabled

logger = logging.getLogger(__name__)

# What an attempt's row says from its claim until its outcome is written (and for good when it never is).
OUTCOME_NOT_RECORDED = gettext_noop(
    "No outcome recorded: the post is under way, or its worker stopped or lost the database before recording it.")
# A post that could not start before its batch's lease would no longer cover it (the receiver's other posts held
# every turn): not made, the attempt not counted, the delivery due again at once (the sweep queues it).
NOT_POSTED = gettext_noop("Not sent: the receiver was busy with earlier posts.")
# A post starts no later than this long before its lease ends: its connection and answer fit in what is left.
START_MARGIN_SECONDS = 5
# A send that meets a database error is tried again this many times, 1, 2, 4 ... 30 seconds apart (about six
# minutes in all); then the sweep's requeue (WEBHOOK_REQUEUE_AFTER_SECONDS) and the leases take over.
DATABASE_ERRORS = (DatabaseError, InterfaceError)
DATABASE_RETRIES = 15
DATABASE_RETRY_MAX_SECONDS = 30

DCSA_API_VERSION = "2.2.0"
# DCSA Booking notifications (bkg/): signed as Standard Webhooks, with the Booking API's version.
BKG_API_VERSION = "2.0.5"
USER_AGENT = "intermodal-webhooks/1"

def retry_delays() -> list[int]:
    return list(settings.WEBHOOK_RETRY_DELAYS)


def next_delay(attempts: int) -> timedelta | None:
    """The wait after failed attempt number `attempts` (1-based), with +-20 % jitter; None when given up."""
    delays = retry_delays()
    if attempts > len(delays):
        return None
    base = delays[attempts - 1]
    return timedelta(seconds=base * random.uniform(0.8, 1.2))  # noqa: S311 - jitter, not a secret


# --- Signing --------------------------------------------------------------------------------------------


def dcsa_signature(secret: str, body: bytes) -> str:
    """DCSA 2.2.0: Notification-Signature: sha256=<hex HMAC-SHA256 of the raw body>, the secret base64."""
    key = base64.b64decode(secret)
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def request_headers(subscription: Subscription, delivery: Delivery, moment: datetime) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    if subscription.format == SubscriptionFormat.DCSA:
        headers["Notification-Signature"] = dcsa_signature(subscription.secret, delivery.body.encode())
        headers["Subscription-ID"] = str(subscription.subscription_id)
        headers["API-Version"] = DCSA_API_VERSION
        # Standard Webhooks ids ride along, so DCSA receivers can de-duplicate retries too.
        headers["webhook-id"] = delivery.webhook_id
        return headers
    if subscription.format == SubscriptionFormat.DCSA_BOOKING:
        headers["API-Version"] = BKG_API_VERSION
    if subscription.format == SubscriptionFormat.IFTSTA:
        headers["Content-Type"] = "application/edifact"  # the body is an interchange, signed as Standard Webhooks
    signature = Webhook(subscription.secret).sign(msg_id=delivery.webhook_id, timestamp=moment, data=delivery.body)
    headers.update({
        "webhook-id": delivery.webhook_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": signature,
    })
    return headers


# --- Claim, post, record --------------------------------------------------------------------------------


def _claim(delivery_ids: list[int]) -> list[Delivery]:
    """Take the due deliveries among `delivery_ids` (pending, due, not taken by another worker) in one
    transaction: each becomes `sending` with a lease; those of a disabled subscription are given up."""
    now = timezone.now()
    lease = now + lease_for(len(delivery_ids))
    with transaction.atomic():
        return _claim_due(delivery_ids, now, lease)


def _with_subscriptions(deliveries: list[Delivery]) -> list[Delivery]:
    """The batch's subscription (usually one) fetched once and shared, not joined to every row."""
    subscriptions = Subscription.objects.in_bulk({d.subscription_id for d in deliveries})
    for delivery in deliveries:
        delivery.subscription = subscriptions[delivery.subscription_id]
    return deliveries


_CLAIMED = ("id", "webhook_id", "subscription_id", "event_id", "topic", "body", "is_test", "status", "attempts",
            "lease_until")


def _claim_due(delivery_ids: list[int], now: datetime, lease: datetime) -> list[Delivery]:
    """One UPDATE ... RETURNING (with FOR UPDATE SKIP LOCKED in a CTE): the ORM's SELECT and UPDATEs cost the
    workers as much CPU per delivery as the POST itself (P6, docs/PERFORMANCE.md)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH due AS (
                    SELECT delivery.id, (subscription.is_active OR delivery.is_test) AS sendable
                      FROM {Delivery._meta.db_table} delivery
                      JOIN {Subscription._meta.db_table} subscription ON subscription.id = delivery.subscription_id
                     WHERE delivery.id = ANY(%(ids)s) AND delivery.status = %(pending)s
                       AND delivery.next_attempt_at <= %(now)s
                     ORDER BY delivery.id
                       FOR UPDATE OF delivery SKIP LOCKED),
                claimed AS (
                UPDATE {Delivery._meta.db_table} delivery
                   SET status = CASE WHEN due.sendable THEN %(sending)s ELSE %(failed)s END,
                       attempts = delivery.attempts + CASE WHEN due.sendable THEN 1 ELSE 0 END,
                       lease_until = CASE WHEN due.sendable THEN %(lease)s::timestamptz END,
                       next_attempt_at = CASE WHEN due.sendable THEN delivery.next_attempt_at END,
                       last_error = CASE WHEN due.sendable THEN delivery.last_error ELSE %(disabled)s END
                  FROM due
                 WHERE delivery.id = due.id
             RETURNING due.sendable, {", ".join(f"delivery.{name}" for name in _CLAIMED)}),
                -- The attempt's row before its post: no post is ever made without its row in the log.
                logged AS (
                INSERT INTO {DeliveryAttempt._meta.db_table}
                       (delivery_id, number, started_at, status_code, latency_ms, error)
                SELECT id, attempts, %(now)s, NULL, 0, %(unrecorded)s FROM claimed WHERE sendable
                    ON CONFLICT (delivery_id, number) DO NOTHING)
                SELECT * FROM claimed""",  # noqa: S608 - tables
            {"ids": list(delivery_ids), "now": now, "lease": lease, "pending": DeliveryStatus.PENDING,
             "sending": DeliveryStatus.SENDING, "failed": DeliveryStatus.FAILED,
             "disabled": gettext_noop("The subscription is disabled."), "unrecorded": OUTCOME_NOT_RECORDED})
        rows = sorted(cursor.fetchall(), key=lambda row: row[1])
    return _with_subscriptions([Delivery.from_db(connection.alias, _CLAIMED, row[1:]) for row in rows if row[0]])


def lease_for(count: int) -> timedelta:
    """How long a claimed batch stays taken: long enough for its worst case (a receiver that hangs must not
    let the sweep send the batch twice): posts one after the other just under WEBHOOK_PARALLEL_AFTER_MS on
    average, then one that times out, then the rest timing out a round of WEBHOOK_RECEIVER_POSTS at a time. Other
    batches' posts to the same receiver may hold its turns longer: a post whose turn has not come
    START_MARGIN_SECONDS plus the timeouts before the lease ends is not made (_post_all)."""
    rounds = 1 + math.ceil(count / _per_receiver())
    worst = (count * settings.WEBHOOK_PARALLEL_AFTER_MS / 1000
             + rounds * (settings.WEBHOOK_CONNECT_TIMEOUT + settings.WEBHOOK_READ_TIMEOUT) + 5)
    return timedelta(seconds=max(settings.WEBHOOK_LEASE_SECONDS, math.ceil(worst)))


async def _post(delivery: Delivery, start_by: datetime) -> tuple[datetime | None, int | None, int, str]:
    """POST the delivery once: (started, HTTP status or None, latency in ms, error); started is None when the post
    was not made (its receiver gave it no turn before `start_by`). The receiver's host is resolved and checked by
    the egress guard, and the post connects to the address checked (notifications.posting)."""
    poster = posting.poster()
    try:
        where = await poster.target(delivery.subscription.url)
    except egress.EgressRefused as refused:
        return timezone.now(), None, 0, str(refused)[:250]
    try:
        async with poster.turn(where, (start_by - timezone.now()).total_seconds()):
            started = timezone.now()  # signed as of now, not as of when it began to wait
            headers = request_headers(delivery.subscription, delivery, started)
            headers["Host"] = where.host_header
            code, latency, error = await poster.post(where, delivery.body.encode(), headers)
    except posting.NotPosted:
        return None, None, 0, NOT_POSTED
    return started, code, latency, error


def _succeeded(code: int | None) -> bool:
    return code is not None and 200 <= code < 300


def _next_state(delivery: Delivery, code: int | None, error: str, now: datetime) -> tuple:
    """A delivery's state after an attempt: (status, last HTTP status, last error, next attempt, delivered at)."""
    if _succeeded(code):
        return DeliveryStatus.DELIVERED, code, error, None, now
    delay = None if (code == 410 or delivery.is_test) else next_delay(delivery.attempts)
    if delay is None:
        return DeliveryStatus.FAILED, code, error, None, None
    return DeliveryStatus.PENDING, code, error, now + delay, None


def _record(outcomes: list[tuple[Delivery, tuple]]) -> list[str]:
    """Write what the attempts gave, all in one transaction: attempt log, each delivery's new state (delivered,
    retry at, or given up), the subscriptions' runs of failures, and disabling. A delivery whose lease ran out
    and that another worker took over keeps that worker's outcome ("superseded"). A post not made (NOT_POSTED)
    is no attempt: its row goes, and its delivery is due again."""

    now = timezone.now()
    order = [d.pk for d, _outcome in outcomes]
    unposted = [d for d, (started, *_rest) in outcomes if started is None]
    outcomes = [(d, outcome) for d, outcome in outcomes if outcome[0] is not None]
    states = {d.pk: _next_state(d, code, error, now) for d, (_started, code, _latency, error) in outcomes}
    with transaction.atomic():
        taken_back = _record_unposted(unposted, now)
        applied = _record_outcomes(outcomes, states) if outcomes else set()
        # The subscriptions' runs of failures change only when an attempt failed, or when one succeeded after
        # failures (as the subscription stood at the claim): otherwise no lock on them, so the batches of one
        # subscription record side by side.
        subscription_ids = {d.subscription_id for d, (_s, code, _l, _e) in outcomes
                            if d.pk in applied and (not _succeeded(code) or d.subscription.consecutive_failures)}
        subscriptions = {s.pk: s for s in Subscription.objects.select_for_update().filter(pk__in=subscription_ids)}
        failures = {pk: s.consecutive_failures for pk, s in subscriptions.items()}
        disable: dict[int, str] = {}
        results = {d.pk: DeliveryStatus.PENDING if d.pk in taken_back else "superseded" for d in unposted}
        for delivery, (_started, code, _latency, _error) in outcomes:
            if delivery.pk not in applied:
                results[delivery.pk] = "superseded"
                continue
            results[delivery.pk] = states[delivery.pk][0]
            if delivery.is_test:
                continue
            if _succeeded(code):
                if delivery.subscription_id in failures:
                    failures[delivery.subscription_id] = 0
            elif code == 410:
                disable[delivery.subscription_id] = gettext_noop("The receiver answered 410 Gone.")
            else:
                failures[delivery.subscription_id] += 1
                if failures[delivery.subscription_id] >= settings.WEBHOOK_DISABLE_AFTER_FAILURES:
                    disable.setdefault(delivery.subscription_id, gettext_noop("Too many failed deliveries in a row."))
        for pk, subscription in subscriptions.items():
            if failures[pk] != subscription.consecutive_failures:
                Subscription.objects.filter(pk=pk).update(consecutive_failures=failures[pk])
        for pk, reason in disable.items():
            subscription = subscriptions[pk]
            if subscription.is_active:
                subscription_disable(subscription, reason)
                transaction.on_commit(lambda pk=pk: notify_subscription_disabled(pk))
    return [results[pk] for pk in order]


def _record_unposted(unposted: list[Delivery], now: datetime) -> set[int]:
    """The posts not made: their attempts' rows (written at the claim) deleted, their deliveries pending and due
    now, the attempt not counted, unmarked as queued (the sweep queues them); returns those still this worker's."""
    if not unposted:
        return set()
    numbers = [[d.pk for d in unposted], [d.attempts for d in unposted]]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""DELETE FROM {DeliveryAttempt._meta.db_table} attempt USING unnest(%s::bigint[], %s::int[])
                       AS unposted (id, number)
                 WHERE attempt.delivery_id = unposted.id AND attempt.number = unposted.number""",  # noqa: S608
            numbers)
        cursor.execute(
            f"""UPDATE {Delivery._meta.db_table} delivery
                   SET status = %s, attempts = delivery.attempts - 1, lease_until = NULL, next_attempt_at = %s,
                       dispatched_at = NULL
                  FROM unnest(%s::bigint[], %s::int[]) AS unposted (id, number)
                 WHERE delivery.id = unposted.id AND delivery.status = %s AND delivery.attempts = unposted.number
             RETURNING delivery.id""",  # noqa: S608 - the model's table
            [DeliveryStatus.PENDING, now, *numbers, DeliveryStatus.SENDING])
        return {row[0] for row in cursor.fetchall()}


def _record_outcomes(outcomes: list[tuple[Delivery, tuple]], states: dict[int, tuple]) -> set[int]:
    """The attempts' rows (written at the claim) completed in one statement, every delivery's state in another,
    both from arrays; returns the deliveries still this worker's (sending, at the attempt it made). A post's
    row is completed even when its delivery was taken over meanwhile: the post was made."""
    attempts = list(zip(*[(d.pk, d.attempts, started, code, latency, error)
                          for d, (started, code, latency, error) in outcomes], strict=True))
    changes = list(zip(*[(d.pk, d.attempts, *states[d.pk]) for d, _outcome in outcomes], strict=True))
    with connection.cursor() as cursor:
        cursor.execute(
            # An upsert: the row is there since the claim (or not, for a claim made before rows were written then).
            f"""INSERT INTO {DeliveryAttempt._meta.db_table}
                    (delivery_id, number, started_at, status_code, latency_ms, error)
                SELECT * FROM unnest(%s::bigint[], %s::int[], %s::timestamptz[], %s::int[], %s::int[],
                                     %s::varchar[])
                    ON CONFLICT (delivery_id, number) DO UPDATE
                   SET started_at = EXCLUDED.started_at, status_code = EXCLUDED.status_code,
                       latency_ms = EXCLUDED.latency_ms, error = EXCLUDED.error""",  # noqa: S608 - the model's table
            [list(column) for column in attempts])
        cursor.execute(
            f"""UPDATE {Delivery._meta.db_table} delivery
                   SET status = outcome.status, last_status_code = outcome.code, last_error = outcome.error,
                       lease_until = NULL, next_attempt_at = outcome.next_attempt_at,
                       delivered_at = COALESCE(outcome.delivered_at, delivery.delivered_at)
                  FROM unnest(%s::bigint[], %s::int[], %s::varchar[], %s::int[], %s::varchar[],
                              %s::timestamptz[], %s::timestamptz[])
                       AS outcome (id, attempts, status, code, error, next_attempt_at, delivered_at)
                 WHERE delivery.id = outcome.id AND delivery.status = %s AND delivery.attempts = outcome.attempts
             RETURNING delivery.id""",  # noqa: S608 - the model's table
            [*[list(column) for column in changes], DeliveryStatus.SENDING])
        return {row[0] for row in cursor.fetchall()}


def deliveries_send(delivery_ids: list[int]) -> list[str]:
    """Send the due deliveries among `delivery_ids` (one subscription's, usually): claimed together, posted
    (side by side when the receiver is slow: it holds up only its own posts), recorded
    together. OutcomesNotRecorded when the database failed after the posts (it carries their outcomes)."""
    claimed = _claim(delivery_ids)
    if not claimed:
        return []
    outcomes = list(zip(claimed, _post_all(claimed), strict=True))
    try:
        return _record(outcomes)
    except DATABASE_ERRORS as error:
        raise OutcomesNotRecorded(_outcomes_dumped(outcomes)) from error


class OutcomesNotRecorded(Exception):
    """Posts were made and the database failed before their outcomes were written: the outcomes, as JSON-able
    rows (delivery id, attempt number, started, status code, latency, error), for a retry to record."""

    def __init__(self, outcomes: list[list]):
        super().__init__(f"{len(outcomes)} outcomes not recorded")
        self.outcomes = outcomes


def _outcomes_dumped(outcomes: list[tuple[Delivery, tuple]]) -> list[list]:
    return [[d.pk, d.attempts, started.isoformat() if started else None, code, latency, error]
            for d, (started, code, latency, error) in outcomes]


def outcomes_record(dumped: list[list]) -> list[str]:
    """Record the outcomes of posts made by an earlier run of the send task (OutcomesNotRecorded): on the
    attempts' rows, and on their deliveries unless another worker took them over meanwhile."""
    deliveries = Delivery.objects.in_bulk([row[0] for row in dumped])
    outcomes = []
    for pk, number, started, code, latency, error in dumped:
        delivery = deliveries.get(pk)
        if delivery is None:  # deleted meanwhile (retention): nothing to record on
            continue
        delivery.attempts = number  # the attempt this post was: a newer one by another worker supersedes it
        moment = datetime.fromisoformat(started) if started else None  # None: not posted
        outcomes.append((delivery, (moment, code, latency, error)))
    if not outcomes:
        return []
    _with_subscriptions([delivery for delivery, _outcome in outcomes])
    return _record(outcomes)


def _per_receiver() -> int:
    return max(settings.WEBHOOK_RECEIVER_POSTS, 1)


def _post_all(claimed: list[Delivery]) -> list[tuple]:
    """Post a batch (on the process's event loop, notifications.posting). Of many subscriptions (fewer than
    WEBHOOK_RECEIVER_POSTS each): all side by side. Of one: one after the other while the receiver answers within
    WEBHOOK_PARALLEL_AFTER_MS on average, the rest side by side from then on. A receiver that answers quickly is
    kept busy by one connection; a slow one (most receivers across the internet) gets its posts side by side. The
    average, not one answer: on a busy machine a fast receiver's answer waits now and then for the CPU. Either
    way a receiver has at most WEBHOOK_RECEIVER_POSTS posts under way, counting other batches' posts to it, and a
    post starts by START_MARGIN_SECONDS before the lease ends or is not made."""
    return posting.poster().run(_posted(claimed, _start_by(claimed)))


def _start_by(claimed: list[Delivery]) -> datetime:
    lease = min(d.lease_until for d in claimed)
    return lease - timedelta(seconds=settings.WEBHOOK_CONNECT_TIMEOUT + settings.WEBHOOK_READ_TIMEOUT
                             + START_MARGIN_SECONDS)


async def _posted(claimed: list[Delivery], start_by: datetime) -> list[tuple]:
    if len({delivery.subscription_id for delivery in claimed}) > 1:
        # Many subscriptions' few deliveries (send_batches): to as many receivers, side by side from the start.
        return list(await asyncio.gather(*(_post(delivery, start_by) for delivery in claimed)))
    outcomes: list[tuple] = []
    waited = 0
    for position, delivery in enumerate(claimed):
        outcome = await _post(delivery, start_by)
        outcomes.append(outcome)
        waited += outcome[2]
        if waited >= settings.WEBHOOK_PARALLEL_AFTER_MS * (position + 1) and position + 1 < len(claimed):
            outcomes.extend(await asyncio.gather(*(_post(rest, start_by) for rest in claimed[position + 1:])))
            break
    return outcomes


def subscription_disable(subscription: Subscription, reason: str) -> None:
    now = timezone.now()
    Subscription.objects.filter(pk=subscription.pk).update(is_active=False, disabled_reason=reason, disabled_at=now)
    subscription.is_active, subscription.disabled_reason, subscription.disabled_at = False, reason, now
    # What was waiting for it will not be sent; "resend" in the delivery log sends it again once re-enabled.
    Delivery.objects.filter(subscription=subscription, status=DeliveryStatus.PENDING, is_test=False).update(
        status=DeliveryStatus.FAILED, next_attempt_at=None, last_error=gettext_noop("The subscription is disabled."))


# --- Dispatch and sweep ---------------------------------------------------------------------------------


def deliveries_dispatch(delivery_ids: list[int]) -> None:
    """Queue send tasks: one per batch of a subscription's deliveries. A broker that does not answer only
    delays them (the sweep queues them again)."""
    if not delivery_ids:
        return
    by_subscription: dict[int, list[int]] = {}
    for pk, subscription_id in Delivery.objects.filter(pk__in=delivery_ids).values_list("pk", "subscription_id"):
        by_subscription.setdefault(subscription_id, []).append(pk)
    # Marked before they are queued: a worker that takes a batch at once must not find its rows locked by
    # this update (SKIP LOCKED would pass them over).
    Delivery.objects.filter(pk__in=delivery_ids).update(dispatched_at=timezone.now())
    deliveries_queue(by_subscription)


def send_batches(by_subscription: dict[int, list[int]]) -> list[list[int]]:
    """The send tasks' batches: a subscription's deliveries WEBHOOK_BATCH at a time, and the few of many
    subscriptions (fewer than WEBHOOK_RECEIVER_POSTS each: an event's deliveries to its subscribers) packed
    together, up to WEBHOOK_BATCH, to be posted side by side. One task per subscription kept a worker process
    waiting on one receiver's answer for each delivery: with slow receivers (50-300 ms) and an event for a handful
    of subscriptions, eight processes made 40 deliveries a second (P6, docs/PERFORMANCE.md)."""
    size = settings.WEBHOOK_BATCH
    batches: list[list[int]] = []
    packed: list[int] = []
    for ids in by_subscription.values():
        for start in range(0, len(ids), size):
            chunk = ids[start:start + size]
            if len(chunk) >= _per_receiver():
                batches.append(chunk)
                continue
            if len(packed) + len(chunk) > size:
                batches.append(packed)
                packed = []
            packed.extend(chunk)
    if packed:
        batches.append(packed)
    return batches


def deliveries_queue(by_subscription: dict[int, list[int]]) -> None:
    """Queue send tasks for deliveries already marked dispatched (send_batches). Those the broker did not take
    are unmarked, for the sweep."""

    queued: set[int] = set()
    try:
        for batch in send_batches(by_subscription):
            delivery_send_task.apply_async(args=[batch])
            queued.update(batch)
    except Exception as error:  # noqa: BLE001 - any broker failure: the sweep is the fallback
        logger.warning("Deliveries not queued (%s); the sweep will send them", error)
        unqueued = {pk for ids in by_subscription.values() for pk in ids} - queued
        Delivery.objects.filter(pk__in=unqueued, status=DeliveryStatus.PENDING).update(dispatched_at=None)


def deliveries_sweep(limit: int = 2000) -> int:
    """Take back deliveries whose worker died (lease over), and queue those due that no task is queued for:
    never queued, queued before they fell due (a retry), or queued long ago (a lost message)."""
    now = timezone.now()
    Delivery.objects.filter(status=DeliveryStatus.SENDING, lease_until__lt=now).update(
        status=DeliveryStatus.PENDING, next_attempt_at=now, lease_until=None)
    lost = now - timedelta(seconds=settings.WEBHOOK_REQUEUE_AFTER_SECONDS)
    due = list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=F("next_attempt_at")) | Q(dispatched_at__lt=lost))
        .order_by("next_attempt_at").values_list("pk", flat=True)[:limit]
    )
    deliveries_dispatch(due)
    return len(due)


def delivery_resend(delivery: Delivery) -> Delivery:
    """The delivery log's "resend": the same body and webhook-id, sent again now (a new attempt)."""
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update(of=("self",)).get(pk=delivery.pk)
        if delivery.status == DeliveryStatus.SENDING:
            return delivery
        delivery.status, delivery.next_attempt_at, delivery.dispatched_at = DeliveryStatus.PENDING, timezone.now(), None
        delivery.save(update_fields=["status", "next_attempt_at", "dispatched_at"])
        transaction.on_commit(lambda: deliveries_dispatch([delivery.pk]))
    return delivery


# --- A worker's sending ---------------------------------------------------------------------------------


class _Sender:
    """A worker process's sending: its send tasks hand their batches to one thread, which claims each (on a
    database connection of its own, kept) and hands its posts to the process's event loop (notifications.posting);
    as a batch's posts are answered the same thread records their outcomes, several batches in one transaction
    when several are waiting. A send task returns once its batch is claimed: its slot is not held while partners'
    servers answer (P6: with 64 slots held until each batch's slowest answer, a delivery waited 0.8 s at the median
    between its relay and its claim), and the tasks' threads never open a database connection of their own.

    Outcomes the database would not take go to a send task that records them (with its retries). A process killed
    before recording leaves its deliveries `sending`: the sweep takes them back when their lease runs out, as for a
    worker killed while posting. A worker shutting down waits for its batches to be recorded (drain)."""

    def __init__(self):
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        self.under_way = 0  # batches handed to the loop and not yet recorded
        self.settled = threading.Condition()
        self.thread = threading.Thread(target=self._run, name="webhook-sender", daemon=True)
        self.thread.start()

    def send(self, delivery_ids: list[int]) -> int:
        """Claim the batch and hand its posts over; how many were claimed. Raises what the claim raised."""
        claimed: Future = Future()
        self.jobs.put((delivery_ids, claimed))
        return claimed.result()

    def drain(self, timeout: float) -> bool:
        """Wait (at most `timeout` seconds) until every batch handed over is recorded."""
        with self.settled:
            return self.settled.wait_for(lambda: not self.under_way, timeout)

    def stop(self) -> None:
        """Close the thread's database connection and end it, once its batches are recorded (tests)."""
        self.drain(lease_for(settings.WEBHOOK_BATCH).total_seconds())
        self.jobs.put(None)
        self.thread.join(30)

    def _run(self) -> None:
        while True:
            jobs = [self.jobs.get()]
            while jobs[-1] is not None:  # and whatever else is waiting: outcomes recorded together
                try:
                    jobs.append(self.jobs.get_nowait())
                except queue.Empty:
                    break
            stopping = jobs[-1] is None
            jobs = [job for job in jobs if job is not None]
            outcomes = [outcome for job in jobs if isinstance(job, list) for outcome in job]
            for job in jobs:
                if isinstance(job, tuple):
                    self._claim(*job)
            if outcomes:
                self._record(outcomes, batches=sum(1 for job in jobs if isinstance(job, list)))
            if stopping:
                connection.close()
                return

    def _claim(self, delivery_ids: list[int], claimed: Future) -> None:
        try:
            batch = _claim(delivery_ids)
        except BaseException as error:  # noqa: BLE001 - the send task raises it (and retries a database error)
            connection.close()
            claimed.set_exception(error)
            return
        if batch:
            with self.settled:
                self.under_way += 1
            posts = posting.poster().submit(_posted(batch, _start_by(batch)))
            posts.add_done_callback(lambda done: self._posted(batch, done))
        claimed.set_result(len(batch))

    def _posted(self, batch: list[Delivery], done: Future) -> None:
        """On the loop: the batch's posts are answered; their outcomes go to the sending thread."""
        if done.exception() is not None:  # a defect: the leases and the sweep send the batch again
            logger.error("Posts of deliveries %s failed: %r", [d.pk for d in batch][:10], done.exception())
            self._settle(1)
            return
        self.jobs.put(list(zip(batch, done.result(), strict=True)))

    def _record(self, outcomes: list[tuple[Delivery, tuple]], batches: int) -> None:
        try:
            _record(outcomes)
        except DATABASE_ERRORS as error:
            connection.close()
            logger.warning("Outcomes of %s posts not recorded (%s); a send task records them", len(outcomes), error)
            try:
                delivery_send_task.apply_async(args=[[d.pk for d, _outcome in outcomes]],
                                               kwargs={"outcomes": _outcomes_dumped(outcomes)}, countdown=1)
            except Exception as lost:  # noqa: BLE001 - the broker too: the leases run out, the sweep sends again
                logger.error("Outcomes of %s posts lost (%s); their deliveries are sent again after their lease",
                             len(outcomes), lost)
        except Exception:  # a defect: logged, and the thread goes on (the leases and the sweep send them again)
            logger.exception("Outcomes of %s posts not recorded", len(outcomes))
        finally:
            self._settle(batches)

    def _settle(self, batches: int) -> None:
        with self.settled:
            self.under_way -= batches
            self.settled.notify_all()


sender = posting.PerProcess(_Sender)  # the process's sending thread


def sender_stop() -> None:
    """Stop the process's sending thread, if any (a new one is made on next use)."""
    running = sender.current()
    if running is not None:
        running.stop()
    sender.forget()


@worker_shutdown.connect
@worker_process_shutdown.connect
def sending_drained(**_kwargs) -> None:
    """A worker (or a process of its pool) stopping: the batches it claimed are posted and recorded first, for as
    long as their leases allow."""
    running = sender.current()
    if running is not None:
        running.drain(lease_for(settings.WEBHOOK_BATCH).total_seconds())


# --- Tasks ---------------------------------------------------------------------------------------------


def database_retry_countdown(retries: int) -> int:
    """Seconds before the next try of a send that met a database error: 1, 2, 4 ... up to 30."""
    return min(DATABASE_RETRY_MAX_SECONDS, 2 ** retries)


@shared_task(name="notifications.delivery_send", bind=True, max_retries=DATABASE_RETRIES)
def delivery_send_task(self, delivery_ids: list[int] | int, outcomes: list[list] | None = None) -> list[str] | int:
    """Send a batch: in a worker, claimed and handed to the process's sending (_Sender: the task returns how many
    were claimed); run eagerly, sent and recorded before it returns (their results). After a database error, try
    again in seconds (not at the sweep's requeue, minutes later), with the outcomes of posts already made, which
    are then recorded rather than posted again."""
    ids = delivery_ids if isinstance(delivery_ids, list) else [delivery_ids]
    try:
        if outcomes:
            return outcomes_record(outcomes)
        return deliveries_send(ids) if self.request.is_eager else sender().send(ids)
    except OutcomesNotRecorded as lost:
        raise self.retry(args=[ids], kwargs={"outcomes": lost.outcomes}, exc=lost,
                         countdown=database_retry_countdown(self.request.retries)) from lost
    except DATABASE_ERRORS as error:
        logger.warning("Deliveries %s not sent: the database failed (%s); trying again", ids[:10], error)
        raise self.retry(args=[ids], kwargs={"outcomes": outcomes} if outcomes else {}, exc=error,
                         countdown=database_retry_countdown(self.request.retries)) from error


@shared_task(name="notifications.deliveries_sweep")
def deliveries_sweep_task() -> int:
    return deliveries_sweep()
