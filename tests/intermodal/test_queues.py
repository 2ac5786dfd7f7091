"""Each kind of work on its own Celery queue (settings.CELERY_TASK_ROUTES): webhook sending, the relay, e-mail,
imports and figures apart from the rest, each worked by the workers started for it (`-Q`), over Redis and over
RabbitMQ - real workers in processes of their own, real brokers."""

import os
import re
import socket
import uuid
from pathlib import Path

import pytest
import redis
from django.apps import apps as django_apps
from django.conf import settings
from kombu import Connection

from intermodal.celery import app
from stations.models import Departure
from tests import factories
from tests.notifications import conftest as notifications_conftest
from tests.notifications.conftest import wait_for

private_redis = notifications_conftest.private_redis
worker_factory = notifications_conftest.worker_factory

ROOT = Path(__file__).resolve().parents[2]
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672//"
ROUTED = {
    "notifications.outbox_relay": "relay", "notifications.outbox_sweep": "relay",
    "notifications.delivery_send": "webhooks", "notifications.deliveries_sweep": "webhooks",
    "notifications.notification_email": "email", "notifications.emails_sweep": "email",
    "notifications.at_risk_alerts": "email", "notifications.last_free_day_reminders": "email",
    "notifications.free_time_reminders": "email",
    "bookings.tasks.booking_import_run": "imports",
    "figures.tasks.figures_refresh": "figures",
    "stations.tasks.departures_generate_task": "default",
    "retention.tasks.retention_prune": "default",
}


def queue_of(task_name: str) -> str:
    return app.amqp.router.route({}, task_name)["queue"].name


def test_every_task_goes_to_its_queue_and_every_queue_is_declared():
    # Every task the apps define, read from their source (the registry of a test process depends on which
    # app was current when each module was first imported).
    ours = {name for config in django_apps.get_app_configs() if config.path.startswith(str(ROOT))
            for source in Path(config.path).glob("*.py")
            for name in re.findall(r'@shared_task\(name="([^"]+)"', source.read_text(encoding="utf-8"))}

    assert set(ROUTED) <= set(ours)  # the routes name tasks that exist
    assert {name: queue_of(name) for name in ROUTED} == ROUTED
    assert {queue_of(name) for name in ours} <= set(settings.CELERY_QUEUE_NAMES)
    assert set(app.amqp.queues) == set(settings.CELERY_QUEUE_NAMES)  # a worker without -Q works them all
    assert set(settings.CELERY_TASK_ROUTES) <= set(ours)


def waiting(server, queue: str) -> int:
    """Messages waiting in a Redis queue (a list named after it)."""
    return redis.Redis.from_url(server.url).llen(queue)


@pytest.mark.django_db(transaction=True)
def test_a_worker_works_only_its_queues_and_the_others_wait_for_theirs(private_redis, worker_factory):
    webhooks = worker_factory(private_redis.url, beat=False, concurrency=1, queues="webhooks")
    app.send_task("figures.tasks.figures_refresh")
    app.send_task("stations.tasks.departures_generate_task", kwargs={"days": 1})
    app.send_task("notifications.delivery_send", args=[[]])  # nothing to send: only where it is worked

    wait_for(lambda: "notifications.delivery_send" in webhooks.log.read_text()
             and "succeeded" in webhooks.log.read_text(), what="the webhooks worker to run its task")
    assert (waiting(private_redis, "figures"), waiting(private_redis, "default")) == (1, 1)
    assert "Task figures.tasks.figures_refresh[" not in webhooks.log.read_text()  # (the banner lists all tasks)

    others = worker_factory(private_redis.url, beat=False, concurrency=1, queues="default,figures")
    wait_for(lambda: others.log.read_text().count("succeeded") >= 2, what="the other worker to run both")
    assert (waiting(private_redis, "figures"), waiting(private_redis, "default")) == (0, 0)
    assert all(f"Task {name}[" in others.log.read_text()
               for name in ("stations.tasks.departures_generate_task", "figures.tasks.figures_refresh"))


def rabbitmq_answers() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=2).close()
    except OSError:
        return False
    return True


@pytest.mark.django_db(transaction=True)
def test_the_broker_can_be_rabbitmq(worker_factory):
    if not rabbitmq_answers():
        message = "RabbitMQ does not answer on 127.0.0.1:5672 (.ci/run starts it)"
        if os.environ.get("CI"):  # CI must run it, never skip it
            pytest.fail(message)
        pytest.skip(message)
    railway, beilun = factories.organisation("railway"), factories.terminal("BEILUN")
    factories.service(factories.station("YIWU-W"), beilun, railway, weekdays=[1, 2, 3, 4, 5, 6, 7])
    marker = uuid.uuid4().hex
    with Connection(RABBITMQ_URL, connect_timeout=5) as connection:
        channel = connection.default_channel
        for queue in app.amqp.queues.values():  # what an earlier run may have left behind
            queue.bind(channel).declare()
            queue.bind(channel).purge()

        worker = worker_factory(RABBITMQ_URL, beat=False, concurrency=1, CELERY_RESULT_BACKEND="rpc://")
        app.send_task("stations.tasks.departures_generate_task", kwargs={"days": 3}, connection=connection)
        app.send_task("figures.tasks.figures_refresh", connection=connection, task_id=marker)

    wait_for(lambda: Departure.objects.count() == 3, what="the worker to take the task from RabbitMQ")
    wait_for(lambda: marker in worker.log.read_text() and worker.log.read_text().count("succeeded") >= 2,
             what="the figures task to be worked from its queue")
    assert "amqp://guest:**@127.0.0.1:5672//" in worker.log.read_text()  # the worker's banner names the broker
