"""Acceptance of issue 6 with real parts: a Celery worker process, Redis (a private server the test may stop),
a local HTTP receiver, PostgreSQL."""

import time

import pytest
from standardwebhooks.webhooks import Webhook

from bookings import services as booking_services
from notifications.models import Delivery, DeliveryAttempt, DeliveryStatus
from tests.bookings.conftest import book
from tests.notifications.conftest import subscribe, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def _delivered(count: int):
    return lambda: Delivery.objects.filter(status=DeliveryStatus.DELIVERED, is_test=False).count() >= count


def test_503_503_200_is_three_attempts_with_one_id_rising_timestamps_and_valid_signatures(
        shipper, connecting, receiver, private_redis, worker_factory):
    created = subscribe(shipper.org, receiver.url, kinds=["shipment.conf"])
    receiver.script = [503, 503, 200]
    worker_factory(private_redis.url)

    booking = book(shipper.actor, connecting)  # confirmed: one SHIPMENT CONF event

    wait_for(_delivered(1), what="the delivery to be delivered")
    delivery = Delivery.objects.get(subscription=created.subscription)
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 3
    assert [a.status_code for a in DeliveryAttempt.objects.filter(delivery=delivery)] == [503, 503, 200]
    assert all(a.latency_ms >= 0 for a in DeliveryAttempt.objects.filter(delivery=delivery))

    assert len(receiver.requests) == 3
    assert set(receiver.ids()) == {delivery.webhook_id}
    stamps = [int(r.headers["webhook-timestamp"]) for r in receiver.requests]
    assert stamps == sorted(stamps) and len(set(stamps)) == 3
    hook = Webhook(created.secret)
    for request in receiver.requests:
        payload = hook.verify(request.body, request.headers)
        assert payload["type"] == "shipment.conf"
        assert payload["data"]["booking_reference"] == booking.reference


def test_a_subscription_never_receives_another_organisations_booking_events(
        shipper, other_shipper, connecting, receiver, private_redis, worker_factory):
    subscribe(shipper.org, receiver.url + "?org=a")
    subscribe(other_shipper.org, receiver.url + "?org=b")
    worker_factory(private_redis.url)

    mine = book(shipper.actor, connecting)
    theirs = book(other_shipper.actor, connecting)
    booking_services.booking_cancel(actor=other_shipper.actor, booking=theirs, reason="Order withdrawn")

    # a: DRFT + CONF of its own booking; b: DRFT + CONF + CANC of its own.
    wait_for(_delivered(5), what="five deliveries")
    time.sleep(1.5)  # anything wrongly fanned out would have arrived by now
    seen = {"a": set(), "b": set()}
    for request in receiver.requests:
        org = request.path.rsplit("=", 1)[1]
        body = request.body.decode()
        seen[org].add(mine.reference if mine.reference in body else theirs.reference)
    assert seen == {"a": {mine.reference}, "b": {theirs.reference}}
    assert len(receiver.requests) == 5


def test_changes_made_while_redis_is_down_are_all_delivered_once_after_it_is_back(
        shipper, connecting, receiver, private_redis, worker_factory, api_client):
    """100 status changes (empty requests on a booking) with the broker stopped: every request succeeds and is
    saved; when Redis is back and the sweep runs, each subscriber has 100 distinct webhook-ids, none twice."""
    from bookings.models import EmptyRequest

    booking = book(shipper.actor, connecting, lines={"22G1": 100})
    other = subscribe(shipper.org, receiver.url + "?s=2", kinds=["shipment.reqs"])
    first = subscribe(shipper.org, receiver.url + "?s=1", kinds=["shipment.reqs"])
    private_redis.stop()

    api_client.force_login(shipper.user)
    started = time.monotonic()
    for _ in range(100):
        response = api_client.post(f"/api/v1/bookings/{booking.reference}/empty-requests/",
                                   {"size_type": "22G1", "quantity": 1}, format="json")
        assert response.status_code == 201, response.content
    elapsed = time.monotonic() - started
    assert EmptyRequest.objects.filter(booking=booking).count() == 100
    assert Delivery.objects.count() == 0  # nothing could be relayed yet

    private_redis.start()
    worker_factory(private_redis.url)  # its beat runs the outbox sweep every half second

    wait_for(_delivered(200), timeout=120, what="200 deliveries")
    time.sleep(1.5)
    for subscription in (first.subscription, other.subscription):
        ids = [r.headers["webhook-id"] for r in receiver.requests if r.path.endswith(
            "s=1" if subscription == first.subscription else "s=2")]
        assert len(ids) == 100
        assert len(set(ids)) == 100
        assert set(ids) == set(Delivery.objects.filter(subscription=subscription).values_list("webhook_id", flat=True))
    assert elapsed < 100  # each request is answered without waiting on the broker for long


def test_a_worker_killed_mid_delivery_does_not_lose_it(shipper, connecting, receiver, private_redis, worker_factory):
    created = subscribe(shipper.org, receiver.url, kinds=["shipment.conf"])
    receiver.delays = [30]  # the first POST hangs: the worker is killed while it waits for the answer
    worker = worker_factory(private_redis.url)

    book(shipper.actor, connecting)
    assert receiver.arrived.wait(60), "the first attempt never arrived"
    assert Delivery.objects.get(subscription=created.subscription).status == DeliveryStatus.SENDING
    worker.kill()

    worker_factory(private_redis.url)  # a new worker: the sweep takes the delivery back when its lease runs out
    wait_for(_delivered(1), timeout=90, what="the delivery to complete")
    delivery = Delivery.objects.get(subscription=created.subscription)
    assert delivery.status == DeliveryStatus.DELIVERED
    assert set(receiver.ids()) == {delivery.webhook_id}
    assert len(receiver.requests) == 2
