"""Deliveries and a database that fails (issue 18, item 7): every post made has its row in the delivery log, and a
send that met a database error is tried again at once (in seconds), recording what it posted rather than posting
it again. The send task runs in this process (`apply`: a retry runs at once, its countdown recorded); the
receiver is a real local HTTP server."""

from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone

from notifications import delivery as sender
from notifications.models import Delivery, DeliveryAttempt, DeliveryStatus
from notifications.relay import outbox_sweep
from tests.bookings.conftest import book
from tests.notifications.conftest import subscribe

pytestmark = pytest.mark.django_db


def one_delivery(shipper, connecting, url) -> Delivery:
    created = subscribe(shipper.org, url, kinds=["shipment.conf"])
    book(shipper.actor, connecting)
    outbox_sweep()
    return Delivery.objects.get(subscription=created.subscription)


def fail_once(monkeypatch, name: str) -> list[str]:
    """The sender's function `name` meets a lost database on its first call (before it writes anything)."""
    real, calls = getattr(sender, name), []

    def failing(*args, **kwargs):
        calls.append(name)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(*args, **kwargs)

    monkeypatch.setattr(sender, name, failing)
    return calls


@pytest.fixture
def countdowns(monkeypatch):
    """The waits the send task asks for before each try again (the retry runs at once under `apply`)."""
    asked: list[int] = []
    real = sender.database_retry_countdown

    def countdown(retries: int) -> int:
        asked.append(real(retries))
        return asked[-1]

    monkeypatch.setattr(sender, "database_retry_countdown", countdown)
    return asked


def attempts_of(delivery: Delivery) -> list[tuple]:
    return list(DeliveryAttempt.objects.filter(delivery=delivery).order_by("number")
                .values_list("number", "status_code", "error"))


def test_a_post_whose_outcome_cannot_be_written_still_has_its_row_in_the_log(
        shipper, connecting, receiver, monkeypatch):
    # given: the database is lost after the post, before its outcome is written (and the worker then dies)
    delivery = one_delivery(shipper, connecting, receiver.url)
    fail_once(monkeypatch, "_record")

    # when
    with pytest.raises(sender.OutcomesNotRecorded) as lost:
        sender.deliveries_send([delivery.pk])

    # then: one post made, one row in the log, saying its outcome is unknown
    assert len(receiver.requests) == 1
    assert attempts_of(delivery) == [(1, None, sender.OUTCOME_NOT_RECORDED)]
    assert lost.value.outcomes[0][:2] == [delivery.pk, 1] and lost.value.outcomes[0][3] == 200

    # when: the lease runs out with nobody to record the outcome, and the sweep sends the delivery again
    Delivery.objects.filter(pk=delivery.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    sender.deliveries_sweep()
    assert sender.deliveries_send([delivery.pk]) == [DeliveryStatus.DELIVERED]

    # then: as many rows as posts the receiver got, with one webhook-id
    assert len(receiver.requests) == 2
    assert attempts_of(delivery) == [(1, None, sender.OUTCOME_NOT_RECORDED), (2, 200, "")]
    assert set(receiver.ids()) == {delivery.webhook_id}


def test_a_send_that_loses_the_database_after_posting_records_the_outcome_at_once_without_posting_again(
        shipper, connecting, receiver, monkeypatch, countdowns):
    delivery = one_delivery(shipper, connecting, receiver.url)
    calls = fail_once(monkeypatch, "_record")

    result = sender.delivery_send_task.apply(args=[[delivery.pk]])

    assert result.successful(), result.traceback
    assert countdowns == [1]  # tried again a second later: not at the sweep's requeue, minutes later
    assert calls == ["_record", "_record"]
    assert len(receiver.requests) == 1  # the retry recorded the post it carried, and did not post again
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.DELIVERED, 1, 200)
    assert attempts_of(delivery) == [(1, 200, "")]


def test_a_send_that_loses_the_database_before_posting_is_tried_again_at_once(
        shipper, connecting, receiver, monkeypatch, countdowns):
    delivery = one_delivery(shipper, connecting, receiver.url)
    calls = fail_once(monkeypatch, "_claim")

    result = sender.delivery_send_task.apply(args=[[delivery.pk]])

    assert result.successful(), result.traceback
    assert countdowns == [1]
    assert calls == ["_claim", "_claim"]
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert len(receiver.requests) == 1
    assert attempts_of(delivery) == [(1, 200, "")]


def test_retries_after_database_errors_back_off_to_half_a_minute_and_stop_within_minutes():
    waits = [sender.database_retry_countdown(n) for n in range(sender.DATABASE_RETRIES)]

    assert waits[:5] == [1, 2, 4, 8, 16]
    assert max(waits) == 30
    assert 180 <= sum(waits) <= 600  # then the sweep's requeue takes over


def test_an_outcome_is_recorded_even_for_a_claim_that_wrote_no_row(shipper, connecting, receiver):
    # given: a delivery claimed as before attempt rows were written at the claim (a send in flight at an upgrade)
    delivery = one_delivery(shipper, connecting, receiver.url)
    claimed = sender._claim([delivery.pk])
    DeliveryAttempt.objects.filter(delivery=delivery).delete()

    # when
    results = sender._record(list(zip(claimed, sender._post_all(claimed), strict=True)))

    # then
    assert results == [DeliveryStatus.DELIVERED]
    assert attempts_of(delivery) == [(1, 200, "")]
