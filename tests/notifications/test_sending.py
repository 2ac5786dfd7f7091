"""A worker's sending (notifications.delivery._Sender): the send task returns once its batch is claimed, the posts
are answered and recorded after it, and nothing is lost when the database fails on the way."""

import threading

import pytest
from celery.signals import worker_process_shutdown
from django.db import OperationalError

from notifications import delivery as sender
from notifications.models import Delivery, DeliveryAttempt, DeliveryStatus
from tests.notifications.conftest import subscribe, wait_for
from tests.notifications.test_delivery import bare_deliveries

# The sending thread has a connection of its own: it sees only what tests commit.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def sending():
    """A sending thread of the test's own, stopped (its connection closed) at the end."""
    sender.sender_stop()
    yield sender.sender()
    sender.sender_stop()


def test_a_send_task_returns_once_its_batch_is_claimed_and_the_outcome_is_recorded_after(
        shipper, receiver, sending):
    subscription = subscribe(shipper.org, receiver.url).subscription
    ids = bare_deliveries(subscription, 2)
    receiver.delays = [60]  # the first answer is held until the receiver is released

    assert sending.send(ids) == 2

    # The task is done (its slot free) while the receiver still holds an answer.
    assert receiver.arrived.wait(30)
    assert set(Delivery.objects.filter(pk__in=ids).values_list("status", flat=True)) == {DeliveryStatus.SENDING}
    receiver.released.set()
    # A worker process stopping waits for its batches to be recorded.
    worker_process_shutdown.send(sender=None, pid=0, exitcode=0)
    assert set(Delivery.objects.filter(pk__in=ids).values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
    assert list(DeliveryAttempt.objects.filter(delivery__in=ids).values_list("status_code", flat=True)) == [200, 200]
    assert sending.send(ids) == 0  # delivered: nothing left to claim


def test_a_claim_the_database_refuses_raises_in_the_send_task_and_the_thread_goes_on(
        shipper, receiver, sending, monkeypatch):
    subscription = subscribe(shipper.org, receiver.url).subscription
    (pk,) = bare_deliveries(subscription, 1)
    real_claim = sender._claim
    calls = []

    def claim(ids):
        calls.append(ids)
        if len(calls) == 1:
            raise OperationalError("the database went away")
        return real_claim(ids)

    monkeypatch.setattr(sender, "_claim", claim)

    with pytest.raises(OperationalError):
        sending.send([pk])
    assert Delivery.objects.get(pk=pk).status == DeliveryStatus.PENDING  # the task's retry sends it
    assert sending.send([pk]) == 1
    assert sending.drain(30)
    assert Delivery.objects.get(pk=pk).status == DeliveryStatus.DELIVERED
    assert len(receiver.requests) == 1


def test_outcomes_the_database_refuses_go_to_a_send_task_that_records_them(shipper, receiver, sending,
                                                                          monkeypatch):
    subscription = subscribe(shipper.org, receiver.url).subscription
    (pk,) = bare_deliveries(subscription, 1)
    queued = []

    def refuse(outcomes):
        raise OperationalError("the database went away")

    monkeypatch.setattr(sender, "_record", refuse)
    monkeypatch.setattr(sender.delivery_send_task, "apply_async",
                        lambda args, kwargs, countdown: queued.append((args, kwargs)))

    assert sending.send([pk]) == 1
    assert sending.drain(30)

    (([ids], kwargs),) = queued
    ((delivery_id, attempt, _started, code, _latency, error),) = kwargs["outcomes"]
    assert (ids, delivery_id, attempt, code, error) == ([pk], pk, 1, 200, "")
    monkeypatch.undo()
    # The task records what was posted, and posts nothing again.
    assert sender.outcomes_record(kwargs["outcomes"]) == [DeliveryStatus.DELIVERED]
    assert Delivery.objects.get(pk=pk).status == DeliveryStatus.DELIVERED
    assert len(receiver.requests) == 1


def test_send_tasks_on_many_threads_share_the_one_sending_thread(shipper, receiver, sending):
    # As the threads pool's tasks do: each hands its batch over and gets its count; every delivery is sent once.
    subscriptions = [subscribe(shipper.org, f"{receiver.url}/{n}").subscription for n in range(8)]
    batches = [bare_deliveries(subscription, 3) for subscription in subscriptions]
    counts = []
    threads = [threading.Thread(target=lambda batch=batch: counts.append(sending.send(batch))) for batch in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sorted(counts) == [3] * 8
    wait_for(lambda: sending.drain(0), what="every batch recorded")
    assert Delivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 24
    assert sorted(r.headers["webhook-id"] for r in receiver.requests) == sorted(
        Delivery.objects.values_list("webhook_id", flat=True))
