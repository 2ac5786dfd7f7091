"""The posts themselves (notifications/posting.py): one event loop per process, a receiver's turns shared by every
send task of the process, a post that gets no turn in time not made, the failure texts."""

import threading
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from notifications import delivery as sender
from notifications import posting
from notifications.models import Delivery, DeliveryAttempt, DeliveryStatus
from tests.notifications.conftest import subscribe
from tests.notifications.test_delivery import bare_deliveries

TIMEOUTS = {"WEBHOOK_CONNECT_TIMEOUT": 5, "WEBHOOK_READ_TIMEOUT": 10}


@pytest.mark.django_db(transaction=True)
@override_settings(WEBHOOK_RECEIVER_POSTS=2)
def test_two_send_tasks_at_once_keep_to_the_receivers_turns_between_them(shipper, receiver):
    # Four subscriptions of one receiver (a host and port), two packed batches of two, sent by two threads at once
    # as two send tasks of one worker process are. The first two answers take a second: long enough for the other
    # task's posts to arrive beside them, were they not waiting for a turn (a busy machine could only make a
    # sender that ignores the turns pass, never this one fail).
    subscriptions = [subscribe(shipper.org, f"{receiver.url}/{n}").subscription for n in range(4)]
    ids = [bare_deliveries(subscription, 1)[0] for subscription in subscriptions]
    receiver.delays = [1.0, 1.0]
    results: dict[int, list[str]] = {}

    def send(batch: int) -> None:
        results[batch] = sender.deliveries_send(ids[2 * batch:2 * batch + 2])

    threads = [threading.Thread(target=send, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert results == {0: [DeliveryStatus.DELIVERED] * 2, 1: [DeliveryStatus.DELIVERED] * 2}
    # Never more than two under way at the receiver (four were, with each task posting its own side by side).
    assert max(r.in_flight for r in receiver.requests) == 2
    assert sorted(r.path for r in receiver.requests) == [f"/hook/{n}" for n in range(4)]


@pytest.mark.django_db
@override_settings(WEBHOOK_RECEIVER_POSTS=1, **TIMEOUTS)
def test_a_post_that_gets_no_turn_before_its_lease_would_end_is_not_made_and_is_due_again(shipper, receiver):
    busy, waiting = (subscribe(shipper.org, f"{receiver.url}/{n}").subscription for n in range(2))
    first, second = bare_deliveries(busy, 1)[0], bare_deliveries(waiting, 1)[0]
    claimed = {d.pk: d for d in sender._claim([first, second])}
    receiver.delays = [60]  # the first post's answer is held until the receiver is released
    outcomes = {}

    def post_first() -> None:
        outcomes[first] = posting.poster().run(sender._post(claimed[first], timezone.now() + timedelta(minutes=5)))

    held = threading.Thread(target=post_first)
    held.start()
    assert receiver.arrived.wait(30)

    # The receiver's one turn is taken: the second post waits for it until it must start, then is not made.
    outcome = posting.poster().run(sender._post(claimed[second], timezone.now() + timedelta(seconds=0.2)))
    receiver.released.set()
    held.join(30)

    assert outcome == (None, None, 0, sender.NOT_POSTED)
    assert [r.path for r in receiver.requests] == ["/hook/0"]
    results = sender._record([(claimed[first], outcomes[first]), (claimed[second], outcome)])
    assert results == [DeliveryStatus.DELIVERED, DeliveryStatus.PENDING]
    second_now = Delivery.objects.get(pk=second)
    # No attempt: not counted, no row in the log, due now and left for the sweep to queue.
    assert (second_now.status, second_now.attempts, second_now.dispatched_at) == (DeliveryStatus.PENDING, 0, None)
    assert second_now.next_attempt_at <= timezone.now()
    assert not DeliveryAttempt.objects.filter(delivery_id=second).exists()
    assert DeliveryAttempt.objects.get(delivery_id=first).status_code == 200
    # The sweep queues it (its send task is this one), and it is sent.
    assert sender.deliveries_sweep() == 1
    assert Delivery.objects.get(pk=second).dispatched_at is not None
    assert sender.deliveries_send([second]) == [DeliveryStatus.DELIVERED]
    assert [r.path for r in receiver.requests] == ["/hook/0", "/hook/1"]


@pytest.mark.django_db
def test_the_send_task_records_a_post_not_made_when_the_database_failed_after(shipper, receiver):
    subscription = subscribe(shipper.org, receiver.url).subscription
    (pk,) = bare_deliveries(subscription, 1)
    (claimed,) = sender._claim([pk])
    dumped = sender._outcomes_dumped([(claimed, (None, None, 0, sender.NOT_POSTED))])

    assert sender.outcomes_record(dumped) == [DeliveryStatus.PENDING]
    assert Delivery.objects.get(pk=pk).attempts == 0
    assert not DeliveryAttempt.objects.filter(delivery_id=pk).exists()


@pytest.mark.django_db
@override_settings(WEBHOOK_READ_TIMEOUT=0.3)
def test_a_receiver_that_does_not_answer_in_time_is_told_apart(shipper, receiver):
    subscription = subscribe(shipper.org, receiver.url).subscription
    (pk,) = bare_deliveries(subscription, 1)
    receiver.delays = [60]

    assert sender.deliveries_send([pk]) == [DeliveryStatus.PENDING]
    receiver.released.set()

    delivery = Delivery.objects.get(pk=pk)
    assert (delivery.last_status_code, delivery.last_error) == (None, "The receiver did not answer in time.")
    assert DeliveryAttempt.objects.get(delivery_id=pk).error == "The receiver did not answer in time."


def test_one_poster_per_process_and_a_new_one_after_a_fork(monkeypatch):
    first = posting.poster()
    assert posting.poster() is first and posting.poster.current() is first
    monkeypatch.setattr(posting.poster, "_pid", -1)  # as a forked worker process finds its parent's
    assert posting.poster.current() is None
    second = posting.poster()
    assert second is not first and posting.poster.current() is second
    assert second.loop is not first.loop and second.loop.is_running()
