"""Acceptance of issue 6 with real parts: a Celery worker process, Redis (a private server the test may stop),
a local HTTP receiver, PostgreSQL."""

import logging
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from bookings import services as booking_services
from intermodal.models import OutboxMessage
from notifications.models import Delivery, DeliveryAttempt, DeliveryStatus
from tests.bookings.conftest import book
from tests.notifications.conftest import subscribe, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def _delivered(count: int):
    return lambda: Delivery.objects.filter(status=DeliveryStatus.DELIVERED, is_test=False).count() >= count


def _settled() -> bool:
    """Every outbox row relayed and no delivery waiting or being sent: the worker has nothing left to do."""
    return (not OutboxMessage.objects.filter(processed_at__isnull=True).exists()
            and not Delivery.objects.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING]).exists())


def settle_and_stop(worker) -> None:
    """Wait until the worker has nothing left to relay or send, then stop it (a warm shutdown finishes the
    tasks it runs): whatever it would ever post has arrived, however busy the machine."""
    wait_for(_settled, what="the outbox and the deliveries to settle")
    worker.stop()


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
    worker = worker_factory(private_redis.url)

    mine = book(shipper.actor, connecting)
    theirs = book(other_shipper.actor, connecting)
    booking_services.booking_cancel(actor=other_shipper.actor, booking=theirs, reason="Order withdrawn")

    # a: DRFT + CONF of its own booking; b: DRFT + CONF + CANC of its own.
    wait_for(_delivered(5), what="five deliveries")
    settle_and_stop(worker)  # anything wrongly fanned out has arrived by now
    seen = {"a": set(), "b": set()}
    for request in receiver.requests:
        org = request.path.rsplit("=", 1)[1]
        body = request.body.decode()
        seen[org].add(mine.reference if mine.reference in body else theirs.reference)
    assert seen == {"a": {mine.reference}, "b": {theirs.reference}}
    assert len(receiver.requests) == 5


@pytest.fixture
def broker_waits(monkeypatch):
    """The pauses the broker clients ask for between their tries (kombu's publish retries, redis-py's connection
    retries), recorded instead of slept: how long a request waits on a broker that is down, without a clock."""
    import kombu.utils.functional
    import redis.retry

    asked: list[float] = []
    monkeypatch.setattr(kombu.utils.functional, "sleep", asked.append)
    monkeypatch.setattr(redis.retry, "sleep", asked.append)
    return asked


def test_changes_made_while_redis_is_down_are_all_delivered_once_after_it_is_back(
        shipper, connecting, receiver, private_redis, worker_factory, api_client, broker_waits, caplog):
    """100 status changes (empty requests on a booking) with the broker stopped: every request succeeds and is
    saved; when Redis is back and the sweep runs, each subscriber has 100 distinct webhook-ids, none twice."""
    from bookings.models import EmptyRequest

    booking = book(shipper.actor, connecting, lines={"22G1": 100})
    other = subscribe(shipper.org, receiver.url + "?s=2", kinds=["shipment.reqs"])
    first = subscribe(shipper.org, receiver.url + "?s=1", kinds=["shipment.reqs"])
    private_redis.stop()

    api_client.force_login(shipper.user)
    with caplog.at_level(logging.WARNING, logger="notifications.relay"):
        for _ in range(100):
            response = api_client.post(f"/api/v1/bookings/{booking.reference}/empty-requests/",
                                       {"size_type": "22G1", "quantity": 1}, format="json")
            assert response.status_code == 201, response.content
    assert EmptyRequest.objects.filter(booking=booking).count() == 100
    assert Delivery.objects.count() == 0  # nothing could be relayed yet
    # Each request handed its change to the sweep, after at most one short pause of the publish retry policy
    # (CELERY_TASK_PUBLISH_RETRY_POLICY): none waits on the broker for long.
    assert sum("Outbox relay not queued" in r.getMessage() for r in caplog.records) == 100
    assert len(broker_waits) <= 100 and sum(broker_waits) <= 100 * 0.2

    private_redis.start()
    worker = worker_factory(private_redis.url)  # its beat runs the outbox sweep every half second

    wait_for(_delivered(200), timeout=120, what="200 deliveries")
    settle_and_stop(worker)
    for subscription in (first.subscription, other.subscription):
        ids = [r.headers["webhook-id"] for r in receiver.requests if r.path.endswith(
            "s=1" if subscription == first.subscription else "s=2")]
        assert len(ids) == 100
        assert len(set(ids)) == 100
        assert set(ids) == set(Delivery.objects.filter(subscription=subscription).values_list("webhook_id", flat=True))


def test_a_worker_killed_mid_delivery_does_not_lose_it(shipper, connecting, receiver, private_redis, worker_factory):
    created = subscribe(shipper.org, receiver.url, kinds=["shipment.conf"])
    receiver.delays = [600]  # the first POST hangs: the worker is killed while it waits for the answer
    worker = worker_factory(private_redis.url)

    book(shipper.actor, connecting)
    assert receiver.arrived.wait(60), "the first attempt never arrived"
    claimed = Delivery.objects.get(subscription=created.subscription)
    assert claimed.status == DeliveryStatus.SENDING
    assert claimed.lease_until > timezone.now()
    worker.kill()

    # Its lease runs out (moved into the past rather than waited for: the lease is as long as the worst case of
    # the post it covers, a minute and more), and a new worker's sweep takes the delivery back.
    Delivery.objects.filter(pk=claimed.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    worker_factory(private_redis.url)
    wait_for(_delivered(1), timeout=90, what="the delivery to complete")
    delivery = Delivery.objects.get(subscription=created.subscription)
    assert delivery.status == DeliveryStatus.DELIVERED
    assert set(receiver.ids()) == {delivery.webhook_id}
    assert len(receiver.requests) == 2


def _sessions() -> int:
    """How many connections have ever been opened to the test database (PostgreSQL's own count)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def test_a_worker_keeps_its_database_connection_from_task_to_task(shipper, connecting, private_redis,
                                                                    worker_factory):
    """Celery's Django fix-up closed every database connection before and after each task: a new PostgreSQL
    backend for each relay task, its catalogue caches cold (P6, docs/PERFORMANCE.md). A worker process keeps its
    connection from task to task, as CONN_MAX_AGE says."""
    worker = worker_factory(private_redis.url, beat=False, concurrency=1, queues="relay")
    before = _sessions()

    for _ in range(8):
        book(shipper.actor, connecting)  # each commit queues a relay task of its own

    wait_for(lambda: not OutboxMessage.objects.filter(processed_at__isnull=True).exists(),
             what="the relay tasks to run")
    assert OutboxMessage.objects.count() >= 8
    worker.stop()  # its backends end and count themselves
    # The test's own connection is open already; the worker's one process opened one (eight before).
    assert _sessions() - before <= 2
