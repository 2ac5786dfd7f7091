"""A real Celery worker whose PostgreSQL stops under it (issue 18, item 7): the send task tries again within
seconds once the database is back - the worker runs without beat, so no sweep can be what sends - and the
delivery log has exactly the posts the receiver got.

The worker and the test's queries use a PostgreSQL of the test's own (tests/own_postgres.py), a Redis of its
own as broker, and a real local receiver. No clock: every wait is on a condition, with generous limits."""

from types import SimpleNamespace

import pytest
from django.db import connections

from intermodal.access import Actor
from intermodal.models import PartyKind
from notifications.models import Delivery, DeliveryAttempt, DeliveryStatus
from notifications.relay import outbox_sweep
from stations.models import Departure
from tests import factories
from tests.bookings.conftest import book
from tests.notifications.conftest import subscribe, wait_for
from tests.own_postgres import on_own_postgres_server, own_postgres_server  # noqa: F401 - fixtures


@pytest.fixture(scope="module")
def network_on_own_postgres(own_postgres_server, django_db_blocker):  # noqa: F811 - the imported fixture
    from tests.own_postgres import default_connection_to

    with django_db_blocker.unblock(), default_connection_to(own_postgres_server):
        network = factories.small_network()
        departure = (Departure.objects.filter(service=network.yiwu_rail,
                                              planned_arrival__lte=network.vessel_call.latest_arrival_for())
                     .order_by("-planned_departure").first())
    return SimpleNamespace(departure_pk=departure.pk, vessel_call_pk=network.vessel_call.pk)


@pytest.fixture
def world(network_on_own_postgres, on_own_postgres_server, receiver):  # noqa: F811 - the imported fixture
    """A shipper subscribed to the receiver, with one delivery written and its send task queued."""
    from stations.models import VesselCall

    shipper = factories.organisation(PartyKind.ENTERPRISE)
    created = subscribe(shipper, receiver.url, kinds=["shipment.conf"])
    connecting = SimpleNamespace(departure=Departure.objects.get(pk=network_on_own_postgres.departure_pk),
                                 vessel_call=VesselCall.objects.get(pk=network_on_own_postgres.vessel_call_pk))
    book(Actor(organisation=shipper), connecting, lines={"22G1": 1})
    return SimpleNamespace(server=on_own_postgres_server, subscription=created.subscription)


def _retried(worker) -> bool:
    return "Retry in" in worker.log.read_text()


def _the_delivery_delivered(subscription):
    def check():
        connections["default"].close_if_unusable_or_obsolete()
        return Delivery.objects.filter(subscription=subscription, status=DeliveryStatus.DELIVERED).first()

    return check


def _attempts(delivery) -> list[tuple]:
    return list(DeliveryAttempt.objects.filter(delivery=delivery).order_by("number")
                .values_list("number", "status_code", "error"))


def test_a_send_that_finds_the_database_stopped_is_sent_within_seconds_of_its_return(
        world, receiver, private_redis, worker_factory):
    # given: the delivery's send task is queued, and the database stops before a worker takes it
    outbox_sweep()
    world.server.stop()
    worker = worker_factory(private_redis.url, beat=False, concurrency=1, DATABASE_URL=world.server.url)

    # when: the task has met the stopped database and asked to be tried again, and the database comes back
    wait_for(lambda: _retried(worker), timeout=120, what="the send task to ask for a retry")
    world.server.start()

    # then: the task's own retry sends it (no beat: no sweep) - once, with its one row in the log
    delivery = wait_for(_the_delivery_delivered(world.subscription), timeout=180, what="the delivery")
    assert len(receiver.requests) == 1
    assert receiver.ids() == [delivery.webhook_id]
    assert _attempts(delivery) == [(1, 200, "")]


def test_a_post_made_just_before_the_database_stopped_is_recorded_not_sent_again(
        world, receiver, private_redis, worker_factory):
    # given: the receiver holds its answer; the database stops while the post waits for it
    receiver.delays = [600]
    outbox_sweep()
    worker = worker_factory(private_redis.url, beat=False, concurrency=1, DATABASE_URL=world.server.url)
    assert receiver.arrived.wait(120), "the post never arrived"
    world.server.stop()

    # when: the receiver answers 200, the worker cannot write the outcome, and the database comes back
    receiver.released.set()
    wait_for(lambda: _retried(worker), timeout=120, what="the send task to ask for a retry")
    world.server.start()

    # then: the retry records the outcome it carried: delivered, one post, one row, no second post
    delivery = wait_for(_the_delivery_delivered(world.subscription), timeout=180, what="the delivery")
    assert (delivery.attempts, delivery.last_status_code) == (1, 200)
    assert _attempts(delivery) == [(1, 200, "")]
    assert len(receiver.requests) == 1
