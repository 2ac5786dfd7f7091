"""Sending one delivery (no worker: the function the task runs) against a real local receiver."""

import base64
import hashlib
import hmac
import json
import math
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from notifications import delivery as sender
from notifications.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Notification,
    NotificationKind,
    Subscription,
)
from notifications.relay import outbox_sweep, webhook_id_new
from tests.bookings.conftest import book
from tests.notifications.conftest import subscribe

pytestmark = pytest.mark.django_db


def due_now(delivery: Delivery) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def delivery_send(delivery_id: int) -> str:
    """Send one delivery as the send task does, if it is due: what became of it ("skipped" when not due)."""
    results = sender.deliveries_send([delivery_id])
    return results[0] if results else "skipped"


def one_delivery(shipper, connecting, url, **fields):
    created = subscribe(shipper.org, url, kinds=["shipment.conf"], **fields)
    book(shipper.actor, connecting)
    outbox_sweep()
    return created, Delivery.objects.get(subscription=created.subscription)


def test_a_delivery_is_signed_per_standard_webhooks(shipper, connecting, receiver):
    created, delivery = one_delivery(shipper, connecting, receiver.url)
    assert delivery_send(delivery.pk) == "delivered"

    request = receiver.requests[0]
    assert request.headers["webhook-id"] == delivery.webhook_id
    assert request.headers["content-type"] == "application/json"
    assert Webhook(created.secret).verify(request.body, request.headers)["type"] == "shipment.conf"
    with pytest.raises(Exception, match="signature"):
        Webhook("whsec_" + base64.b64encode(b"another secret of 32 bytes long!").decode()).verify(
            request.body, request.headers)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.DELIVERED, 1, 200)
    assert delivery_send(delivery.pk) == "skipped"  # a second task for it sends nothing
    assert len(receiver.requests) == 1


def test_retries_are_scheduled_in_the_database_with_backoff_and_jitter_over_a_day(
        shipper, connecting, receiver, delivery_clock):
    delays = sender.retry_delays()
    assert len(delays) + 1 >= 6 and sum(delays) >= 24 * 3600
    receiver.script = [500] * 3
    _created, delivery = one_delivery(shipper, connecting, receiver.url)
    clock = delivery_clock()  # the sender's clock stands still: however long a post takes on a busy machine

    assert delivery_send(delivery.pk) == DeliveryStatus.PENDING
    delivery.refresh_from_db()
    wait = delivery.next_attempt_at - clock.now()
    assert timedelta(seconds=delays[0] * 0.8) <= wait <= timedelta(seconds=delays[0] * 1.2)
    clock.advance(seconds=delays[0] * 0.8 - 0.001)
    assert delivery_send(delivery.pk) == "skipped"  # not due yet

    clock.advance(seconds=delays[0] * 0.4 + 1)  # due, whatever the jitter
    assert delivery_send(delivery.pk) == DeliveryStatus.PENDING
    delivery.refresh_from_db()
    assert delivery.attempts == 2
    wait = delivery.next_attempt_at - clock.now()
    assert timedelta(seconds=delays[1] * 0.8) <= wait <= timedelta(seconds=delays[1] * 1.2)
    attempts = list(DeliveryAttempt.objects.filter(delivery=delivery).values_list("number", "status_code", "error"))
    assert attempts == [(1, 500, "HTTP 500"), (2, 500, "HTTP 500")]


@override_settings(WEBHOOK_RETRY_DELAYS=[1, 1])
def test_a_delivery_is_given_up_after_the_last_retry(shipper, connecting, receiver):
    receiver.script = [500, 500, 500]
    _created, delivery = one_delivery(shipper, connecting, receiver.url)
    for _ in range(3):
        due_now(delivery)
        delivery_send(delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (DeliveryStatus.FAILED, 3, None)


def test_an_unreachable_receiver_is_an_error_with_latency_logged(shipper, connecting):
    _created, delivery = one_delivery(shipper, connecting, "http://127.0.0.1:9/hook")
    delivery_send(delivery.pk)
    attempt = DeliveryAttempt.objects.get(delivery=delivery)
    assert attempt.status_code is None and attempt.error and attempt.latency_ms >= 0


def test_410_gone_disables_the_subscription_and_tells_its_organisation(
        shipper, connecting, receiver, django_capture_on_commit_callbacks):
    receiver.script = [410]
    created, delivery = one_delivery(shipper, connecting, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        delivery_send(delivery.pk)

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
        delivery_send(delivery.pk)
    assert Subscription.objects.get(pk=created.subscription.pk).consecutive_failures == 0  # delivered on the 3rd

    book(shipper.actor, connecting)
    outbox_sweep()
    second = Delivery.objects.filter(subscription=created.subscription).exclude(pk=delivery.pk).get()
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            due_now(second)
            delivery_send(second.pk)
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
    assert delivery_send(delivery.pk) == "delivered"
    assert sender.deliveries_sweep() == 0


def test_resend_sends_the_same_body_and_id_again(shipper, connecting, receiver):
    _created, delivery = one_delivery(shipper, connecting, receiver.url)
    delivery_send(delivery.pk)
    sender.delivery_resend(delivery)
    delivery_send(delivery.pk)
    assert len(receiver.requests) == 2
    assert receiver.requests[0].body == receiver.requests[1].body
    assert receiver.ids() == [delivery.webhook_id] * 2
    assert Delivery.objects.get(pk=delivery.pk).attempts == 2


def test_a_dcsa_callback_is_an_array_signed_with_notification_signature(shipper, connecting, receiver):
    from notifications.models import SubscriptionFormat
    from notifications.services import dcsa_secret

    secret = dcsa_secret()
    subscription = subscribe(shipper.org, receiver.url, format=SubscriptionFormat.DCSA,
                             dcsa_filters={"eventType": ["SHIPMENT"]}, secret=secret).subscription
    booking = book(shipper.actor, connecting)
    outbox_sweep()
    deliveries = Delivery.objects.filter(subscription=subscription)
    assert deliveries.count() == 2  # DRFT and CONF of the booking
    for delivery in deliveries:
        delivery_send(delivery.pk)
    for request in receiver.requests:
        expected = "sha256=" + hmac.new(base64.b64decode(secret), request.body, hashlib.sha256).hexdigest()
        assert request.headers["notification-signature"] == expected
        assert request.headers["subscription-id"] == str(subscription.subscription_id)
        assert request.headers["api-version"] == "2.2.0"
        events = json.loads(request.body)
        assert isinstance(events, list) and len(events) == 1
        assert events[0]["eventType"] == "SHIPMENT" and events[0]["documentID"] == booking.reference


@override_settings(WEBHOOK_RECEIVER_POSTS=8, WEBHOOK_CONNECT_TIMEOUT=5, WEBHOOK_READ_TIMEOUT=10,
                   WEBHOOK_LEASE_SECONDS=60, WEBHOOK_PARALLEL_AFTER_MS=20)
def test_a_batch_is_leased_long_enough_for_all_its_posts_to_time_out():
    # 100 deliveries: answering just under 20 ms on average one after the other, then one that takes 5 + 10 s,
    # then the rest 8 at a time (13 rounds of up to 15 s), plus 5 s; never under the setting.
    assert sender.lease_for(100) == timedelta(seconds=math.ceil(100 * 0.020 + 14 * 15 + 5))
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


def bare_deliveries(subscription, count: int, *, is_test: bool = False) -> list[int]:
    """`count` due deliveries of `subscription` without events behind them (as test messages are)."""
    now = timezone.now()
    made = Delivery.objects.bulk_create([
        Delivery(webhook_id=webhook_id_new(), subscription=subscription, topic="webhook.test",
                 body=json.dumps({"n": n}), is_test=is_test, next_attempt_at=now) for n in range(count)])
    return [d.pk for d in made]


# The switch to posting threads follows the answer times the sender measures; `answer_times` sets them, so that a
# busy machine (which stretches real ones) changes nothing. The posts, connections and threads are real.


@override_settings(WEBHOOK_PARALLEL_AFTER_MS=20)
def test_a_fast_receiver_gets_a_batch_one_post_after_the_other_on_one_connection(shipper, receiver, answer_times):
    subscription = subscribe(shipper.org, receiver.url).subscription
    ids = bare_deliveries(subscription, 20)
    # 17.5 ms on average, under the 20 ms: every other answer over it is no reason for threads.
    answer_times.update({n: 30 if n % 2 else 5 for n in range(20)})

    assert sender.deliveries_send(ids) == [DeliveryStatus.DELIVERED] * 20

    assert [json.loads(r.body)["n"] for r in receiver.requests] == list(range(20))  # in order: one at a time
    assert [r.in_flight for r in receiver.requests] == [1] * 20  # each sent after the previous one was answered
    assert len({r.client for r in receiver.requests}) == 1
    assert Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.DELIVERED).count() == 20
    assert DeliveryAttempt.objects.filter(delivery__in=ids, number=1, status_code=200).count() == 20


@override_settings(WEBHOOK_PARALLEL_AFTER_MS=100, WEBHOOK_RECEIVER_POSTS=4)
def test_a_receiver_slow_on_average_gets_the_rest_of_the_batch_side_by_side(shipper, receiver, answer_times):
    subscription = subscribe(shipper.org, receiver.url).subscription
    ids = bare_deliveries(subscription, 10)
    # One answer over 100 ms is not enough (a busy machine): the fourth brings the average over 100 ms.
    answer_times.update({0: 0, 1: 0, 2: 150, 3: 300})
    # From the fifth post on, the receiver holds each answer until another post arrives beside it: posts sent
    # one after the other would never be answered together.
    receiver.pair_after(4)

    assert sender.deliveries_send(ids) == [DeliveryStatus.DELIVERED] * 10

    # The first four went one after the other, on one connection; the other six side by side, on more.
    first, rest = receiver.requests[:4], receiver.requests[4:]
    assert [json.loads(r.body)["n"] for r in first] == [0, 1, 2, 3]
    assert [r.in_flight for r in first] == [1, 1, 1, 1]
    assert len({r.client for r in first}) == 1
    assert sorted(json.loads(r.body)["n"] for r in rest) == [4, 5, 6, 7, 8, 9]
    assert [r.paired for r in rest] == [True] * 6
    assert len({r.client for r in rest}) >= 2
    assert Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.DELIVERED).count() == 10


@override_settings(WEBHOOK_BATCH=5, WEBHOOK_RECEIVER_POSTS=3)
def test_the_few_deliveries_of_many_subscriptions_are_packed_into_one_send_task():
    # Subscription 1 has many: its own tasks (5, then 2 left: few, so packed); 2, 3 and 4 few: packed, 5 at most.
    batches = sender.send_batches({1: [10, 11, 12, 13, 14, 15, 16], 2: [20, 21], 3: [30], 4: [40, 41]})

    assert batches == [[10, 11, 12, 13, 14], [15, 16, 20, 21, 30], [40, 41]]


@override_settings(WEBHOOK_PARALLEL_AFTER_MS=1000)
def test_a_packed_batch_is_posted_side_by_side_from_the_start(shipper, receiver, answer_times):
    # Four subscriptions' one delivery each (an event for its subscribers), every receiver quick: each answer is
    # held until another post arrives beside it, so posts one after the other would not be answered together.
    subscriptions = [subscribe(shipper.org, f"{receiver.url}/{n}").subscription for n in range(4)]
    ids = [bare_deliveries(subscription, 1)[0] for subscription in subscriptions]
    receiver.pair_after(0)

    assert sender.deliveries_send(ids) == [DeliveryStatus.DELIVERED] * 4

    assert [r.paired for r in receiver.requests] == [True] * 4
    assert sorted(r.path for r in receiver.requests) == [f"/hook/{n}" for n in range(4)]
    assert Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.DELIVERED).count() == 4


def test_a_disabled_subscriptions_waiting_deliveries_are_given_up_at_the_claim(shipper, receiver):
    subscription = subscribe(shipper.org, receiver.url).subscription
    ids = bare_deliveries(subscription, 3)
    Subscription.objects.filter(pk=subscription.pk).update(is_active=False)  # as if disabled after they were queued

    assert sender.deliveries_send(ids) == []

    assert receiver.requests == []
    assert set(Delivery.objects.filter(pk__in=ids).values_list("status", "attempts", "last_error")) == {
        (DeliveryStatus.FAILED, 0, "The subscription is disabled.")}
    # A test message is sent to a disabled subscription (so its owner can check the receiver before enabling).
    (test_message,) = bare_deliveries(subscription, 1, is_test=True)
    assert sender.deliveries_send([test_message]) == [DeliveryStatus.DELIVERED]


def test_an_outcome_after_the_lease_ran_out_and_another_worker_took_over_is_superseded(shipper, receiver):
    subscription = subscribe(shipper.org, receiver.url).subscription
    first, second = bare_deliveries(subscription, 2)
    claimed = sender._claim([first, second])
    # The lease ran out and another worker claimed the first delivery again (attempt 2); it is sending it.
    Delivery.objects.filter(pk=first).update(attempts=2)

    results = sender._record([(d, (timezone.now(), 200, 3, "")) for d in claimed])

    assert results == ["superseded", DeliveryStatus.DELIVERED]
    assert Delivery.objects.get(pk=first).status == DeliveryStatus.SENDING  # the other worker's to record
    assert Delivery.objects.get(pk=second).status == DeliveryStatus.DELIVERED
    assert DeliveryAttempt.objects.filter(delivery__in=[first, second]).count() == 2  # both posts are logged


def test_a_failed_resend_of_a_delivered_delivery_keeps_when_it_was_delivered(shipper, connecting, receiver):
    _created, delivery = one_delivery(shipper, connecting, receiver.url)
    delivery_send(delivery.pk)
    delivered_at = Delivery.objects.get(pk=delivery.pk).delivered_at
    receiver.script = [500]
    sender.delivery_resend(delivery)

    assert delivery_send(delivery.pk) == DeliveryStatus.PENDING

    delivery.refresh_from_db()
    assert (delivery.delivered_at, delivery.last_status_code, delivery.attempts) == (delivered_at, 500, 2)
