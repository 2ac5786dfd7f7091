"""Sending deliveries: signed HTTP POSTs, retried on a schedule kept in the database.

A delivery is claimed (pending and due -> sending, with a lease) in one short transaction, posted outside
any transaction, and its outcome recorded in another. A worker that dies while posting leaves the delivery in
`sending`; when its lease runs out the sweep makes it pending again and it is sent anew with the same
webhook-id (receivers de-duplicate on it). Retries follow WEBHOOK_RETRY_DELAYS with jitter; 410 Gone disables
the subscription at once, WEBHOOK_DISABLE_AFTER_FAILURES failed attempts in a row disable it too, and its
organisation is told.
"""

import base64
import hashlib
import hmac
import logging
import random
import time
from datetime import datetime, timedelta

import urllib3
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_noop
from standardwebhooks.webhooks import Webhook

from intermodal.notifications.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Subscription,
    SubscriptionFormat,
)

logger = logging.getLogger(__name__)

DCSA_API_VERSION = "2.2.0"
USER_AGENT = "intermodal-webhooks/1"

_pool: urllib3.PoolManager | None = None


def _http() -> urllib3.PoolManager:
    """One connection pool per worker process (created after the fork)."""
    global _pool
    if _pool is None:
        _pool = urllib3.PoolManager(num_pools=50, maxsize=4, retries=False)
    return _pool


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
    signature = Webhook(subscription.secret).sign(msg_id=delivery.webhook_id, timestamp=moment, data=delivery.body)
    headers.update({
        "webhook-id": delivery.webhook_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": signature,
    })
    return headers


# --- Claim, post, record --------------------------------------------------------------------------------


def _claim(delivery_id: int) -> Delivery | None:
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("subscription")
            .filter(pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            .first()
        )
        if delivery is None:
            return None
        if not delivery.subscription.is_active and not delivery.is_test:
            delivery.status = DeliveryStatus.FAILED
            delivery.last_error = gettext_noop("The subscription is disabled.")
            delivery.next_attempt_at = None
            delivery.save(update_fields=["status", "last_error", "next_attempt_at"])
            return None
        delivery.status = DeliveryStatus.SENDING
        delivery.attempts += 1
        delivery.lease_until = now + timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)
        delivery.save(update_fields=["status", "attempts", "lease_until"])
    return delivery


def _post(delivery: Delivery) -> tuple[datetime, int | None, int, str]:
    """POST the delivery once: (started, HTTP status or None, latency in ms, error)."""
    started = timezone.now()
    headers = request_headers(delivery.subscription, delivery, started)
    clock = time.monotonic()
    try:
        response = _http().request(
            "POST", delivery.subscription.url, body=delivery.body.encode(), headers=headers,
            timeout=urllib3.Timeout(connect=settings.WEBHOOK_CONNECT_TIMEOUT, read=settings.WEBHOOK_READ_TIMEOUT),
            redirect=False, preload_content=False,
        )
        # Read (and drop) at most 64 KiB of the answer; the connection goes back to the pool.
        response.read(65536)
        response.release_conn()
        code, error = response.status, ""
        if not 200 <= code < 300:
            error = f"HTTP {code}"
    except urllib3.exceptions.HTTPError as problem:
        code, error = None, f"{type(problem).__name__}: {problem}"[:250]
    latency = int((time.monotonic() - clock) * 1000)
    return started, code, latency, error


def _record(delivery: Delivery, started: datetime, code: int | None, latency: int, error: str) -> str:
    from intermodal.notifications.people import notify_subscription_disabled

    number = delivery.attempts
    with transaction.atomic():
        DeliveryAttempt.objects.create(delivery=delivery, number=number, started_at=started, status_code=code,
                                       latency_ms=latency, error=error)
        current = Delivery.objects.select_for_update(of=("self",)).select_related("subscription").get(pk=delivery.pk)
        if current.status != DeliveryStatus.SENDING or current.attempts != number:
            # The lease ran out and another worker took the delivery over: its outcome counts.
            return "superseded"
        subscription = current.subscription
        fields = ["status", "last_status_code", "last_error", "lease_until", "next_attempt_at"]
        current.last_status_code, current.last_error, current.lease_until = code, error, None
        if code is not None and 200 <= code < 300:
            current.status, current.delivered_at, current.next_attempt_at = DeliveryStatus.DELIVERED, started, None
            current.save(update_fields=[*fields, "delivered_at"])
            if not current.is_test and subscription.consecutive_failures:
                Subscription.objects.filter(pk=subscription.pk).update(consecutive_failures=0)
            return "delivered"

        disable_reason = ""
        if code == 410:
            disable_reason = gettext_noop("The receiver answered 410 Gone.")
        elif not current.is_test:
            Subscription.objects.filter(pk=subscription.pk).update(consecutive_failures=F("consecutive_failures") + 1)
            subscription.refresh_from_db(fields=["consecutive_failures"])
            if subscription.consecutive_failures >= settings.WEBHOOK_DISABLE_AFTER_FAILURES:
                disable_reason = gettext_noop("Too many failed deliveries in a row.")

        delay = None if (code == 410 or current.is_test) else next_delay(number)
        if delay is None:
            current.status, current.next_attempt_at = DeliveryStatus.FAILED, None
        else:
            current.status, current.next_attempt_at = DeliveryStatus.PENDING, timezone.now() + delay
        current.save(update_fields=fields)
        if disable_reason and subscription.is_active:
            subscription_disable(subscription, disable_reason)
            transaction.on_commit(lambda: notify_subscription_disabled(subscription.pk))
        return current.status


def delivery_send(delivery_id: int) -> str:
    """Send one delivery if it is due; returns what became of it."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return "skipped"
    started, code, latency, error = _post(delivery)
    return _record(delivery, started, code, latency, error)


def subscription_disable(subscription: Subscription, reason: str) -> None:
    now = timezone.now()
    Subscription.objects.filter(pk=subscription.pk).update(is_active=False, disabled_reason=reason, disabled_at=now)
    subscription.is_active, subscription.disabled_reason, subscription.disabled_at = False, reason, now
    # What was waiting for it will not be sent; "resend" in the delivery log sends it again once re-enabled.
    Delivery.objects.filter(subscription=subscription, status=DeliveryStatus.PENDING, is_test=False).update(
        status=DeliveryStatus.FAILED, next_attempt_at=None, last_error=gettext_noop("The subscription is disabled."))


# --- Dispatch and sweep ---------------------------------------------------------------------------------


def deliveries_dispatch(delivery_ids: list[int]) -> None:
    """Queue a send task per delivery. A broker that does not answer only delays them (the sweep resends)."""
    if not delivery_ids:
        return
    from intermodal.notifications.tasks import delivery_send_task

    try:
        for delivery_id in delivery_ids:
            delivery_send_task.apply_async(args=[delivery_id])
    except Exception as error:  # noqa: BLE001 - any broker failure: the sweep is the fallback
        logger.warning("Deliveries not queued (%s); the sweep will send them", error)
        return
    Delivery.objects.filter(pk__in=delivery_ids).update(dispatched_at=timezone.now())


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
