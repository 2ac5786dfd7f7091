"""Sending one delivery (no worker: the function the task runs) against a real local receiver."""

import base64
import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from intermodal.notifications import delivery as sender
from intermodal.notifications.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Notification,
    NotificationKind,
    Subscription,
)
from intermodal.notifications.relay import outbox_sweep
from tests.bookings.conftest import book
from tests.notifications.conftest import subscribe

pytestmark = pytest.mark.django_db


def due_now(delivery: Delivery) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def one_delivery(shipper, connecting, url, **fields):
    created = subscribe(shipper.org, url, kinds=["shipment.conf"], **fields)
    book(shipper.actor, connecting)
    outbox_sweep()
    return created, Delivery.objects.get(subscription=created.subscription)


def test_a_delivery_is_signed_per_standard_webhooks(shipper, connecting, receiver):
    created, delivery = one_delivery(shipper, connecting, receiver.url)
    assert sender.delivery_send(delivery.pk) == "delivered"

    request = receiver.requests[0]
    assert request.headers["webhook-id"] == delivery.webhook_id
    assert request.headers["content-type"] == "application/json"
    assert Webhook(created.secret).verify(request.body, request.headers)["type"] == "shipment.conf"
    with pytest.raises(Exception, match="signature"):
        Webhook("whsec_" + base64.b64encode(b"another secret of 32 bytes long!").decode()).verify(
            request.body, request.headers)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.DELIVERED, 1, 200)
    assert sender.delivery_send(delivery.pk) == "skipped"  # a second task for it sends nothing
    assert len(receiver.requests) == 1


def test_retries_are_scheduled_in_the_database_with_backoff_and_jitter_over_a_day(shipper, connecting, receiver):
    delays = sender.retry_delays()
    assert len(delays) + 1 >= 6 and sum(delays) >= 24 * 3600
    receiver.script = [500] * 3
    _created, delivery = one_delivery(shipper, connecting, receiver.url)

    before = timezone.now()
    assert sender.delivery_send(delivery.pk) == DeliveryStatus.PENDING
    delivery.refresh_from_db()
    wait = (delivery.next_attempt_at - before).total_seconds()
    assert delays[0] * 0.8 - 1 <= wait <= delays[0] * 1.2 + 1
    assert sender.delivery_send(delivery.pk) == "skipped"  # not due yet

    due_now(delivery)
    sender.delivery_send(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.attempts == 2
    assert timedelta(seconds=delays[1] * 0.8 - 1) <= delivery.next_attempt_at - timezone.now() \
        <= timedelta(seconds=delays[1] * 1.2 + 1)
    attempts = list(DeliveryAttempt.objects.filter(delivery=delivery).values_list("number", "status_code", "error"))
    assert attempts == [(1, 500, "HTTP 500"), (2, 500, "HTTP 500")]


@override_settings(WEBHOOK_RETRY_DELAYS=[1, 1])
def test_a_delivery_is_given_up_after_the_last_retry(shipper, connecting, receiver):
    receiver.script = [500, 500, 500]
    _created, delivery = one_delivery(shipper, connecting, receiver.url)
    for _ in range(3):
        due_now(delivery)
        sender.delivery_send(delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (DeliveryStatus.FAILED, 3, None)


def test_an_unreachable_receiver_is_an_error_with_latency_logged(shipper, connecting):
    _created, delivery = one_delivery(shipper, connecting, "http://127.0.0.1:9/hook")
    sender.delivery_send(delivery.pk)
    attempt = DeliveryAttempt.objects.get(delivery=delivery)
    assert attempt.status_code is None and attempt.error and attempt.latency_ms >= 0


def test_410_gone_disables_the_subscription_and_tells_its_organisation(
        shipper, connecting, receiver, django_capture_on_commit_callbacks):
    receiver.script = [410]
    created, delivery = one_delivery(shipper, connecting, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        sender.delivery_send(delivery.pk)

    subscription = Subscription.objects.get(pk=created.subscription.pk)
    assert not subscription.is_active and "410" in subscription.disabled_reason
    assert Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.FAILED
    assert Notification.objects.filter(user=shipper.user, kind=NotificationKind.SUBSCRIPTION_DISABLED).count() == 1


@override_settings(WEBHOOK_DISABLE_AFTER_FAILURES=3)
def test_a_run_of_failures_disables_the_subscription_and_a_success_resets_it(
        shipper, connecting, receiver, django_capture_on_commit_callbacks):
    receiver.script = [500, 500, 200, 500, 500, 500]
    created, delivery = one_delivery(shipper, connecting, receiver.url)
    for _ in range(3):
        due_now(delivery)
        sender.delivery_send(delivery.pk)
    assert Subscription.objects.get(pk=created.subscription.pk).consecutive_failures == 0  # delivered on the 3rd

    book(shipper.actor, connecting)
    outbox_sweep()
    second = Delivery.objects.filter(subscription=created.subscription).exclude(pk=delivery.pk).get()
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            due_now(second)
            sender.delivery_send(second.pk)
    subscription = Subscription.objects.get(pk=created.subscription.pk)
    assert not subscription.is_active and subscription.consecutive_failures == 3
    assert Notification.objects.filter(kind=NotificationKind.SUBSCRIPTION_DISABLED).count() == 1
    # A disabled subscription receives nothing new.
    book(shipper.actor, connecting)
    outbox_sweep()
    assert Delivery.objects.filter(subscription=created.subscription).count() == 2


def test_a_dead_workers_delivery_is_taken_back_when_its_lease_runs_out(shipper, connecting, receiver):
    _created, delivery = one_delivery(shipper, connecting, receiver.url)
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.SENDING, attempts=1,
                                                   lease_until=timezone.now() - timedelta(seconds=1))
    assert sender.deliveries_sweep() == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert sender.delivery_send(delivery.pk) == "delivered"
    assert sender.deliveries_sweep() == 0


def test_resend_sends_the_same_body_and_id_again(shipper, connecting, receiver):
    _created, delivery = one_delivery(shipper, connecting, receiver.url)
    sender.delivery_send(delivery.pk)
    sender.delivery_resend(delivery)
    sender.delivery_send(delivery.pk)
    assert len(receiver.requests) == 2
    assert receiver.requests[0].body == receiver.requests[1].body
    assert receiver.ids() == [delivery.webhook_id] * 2
    assert Delivery.objects.get(pk=delivery.pk).attempts == 2


def test_a_dcsa_callback_is_an_array_signed_with_notification_signature(shipper, connecting, receiver):
    from intermodal.notifications.models import SubscriptionFormat
    from intermodal.notifications.services import dcsa_secret

    secret = dcsa_secret()
    subscription = subscribe(shipper.org, receiver.url, format=SubscriptionFormat.DCSA,
                             dcsa_filters={"eventType": ["SHIPMENT"]}, secret=secret).subscription
    booking = book(shipper.actor, connecting)
    outbox_sweep()
    deliveries = Delivery.objects.filter(subscription=subscription)
    assert deliveries.count() == 2  # DRFT and CONF of the booking
    for delivery in deliveries:
        sender.delivery_send(delivery.pk)
    for request in receiver.requests:
        expected = "sha256=" + hmac.new(base64.b64decode(secret), request.body, hashlib.sha256).hexdigest()
        assert request.headers["notification-signature"] == expected
        assert request.headers["subscription-id"] == str(subscription.subscription_id)
        assert request.headers["api-version"] == "2.2.0"
        events = json.loads(request.body)
        assert isinstance(events, list) and len(events) == 1
        assert events[0]["eventType"] == "SHIPMENT" and events[0]["documentID"] == booking.reference


@override_settings(WEBHOOK_POST_THREADS=8, WEBHOOK_CONNECT_TIMEOUT=5, WEBHOOK_READ_TIMEOUT=10,
                   WEBHOOK_LEASE_SECONDS=60)
def test_a_batch_is_leased_long_enough_for_all_its_posts_to_time_out():
    # 100 deliveries, 8 at a time: 13 rounds that may each wait 5 + 10 s, plus 5 s; never under the setting.
    assert sender.lease_for(100) == timedelta(seconds=13 * 15 + 5)
    assert sender.lease_for(1) == timedelta(seconds=60)


def test_a_claimed_batch_carries_that_lease(shipper, connecting, receiver):
    created = subscribe(shipper.org, receiver.url, kinds=["shipment.conf"])
    book(shipper.actor, connecting)
    outbox_sweep()
    delivery = Delivery.objects.get(subscription=created.subscription)

    before = timezone.now()
    (claimed,) = sender._claim([delivery.pk])

    assert claimed.status == DeliveryStatus.SENDING
    assert claimed.lease_until >= before + sender.lease_for(1)
