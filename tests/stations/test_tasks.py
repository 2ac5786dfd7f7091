"""The periodic departure generation runs in a real Celery worker over Redis."""

import pytest
from celery.contrib.testing.worker import start_worker

from intermodal.celery import app
from stations.models import Departure
from stations.tasks import departures_generate_task
from tests import factories


@pytest.mark.django_db(transaction=True)
def test_worker_generates_departures_from_the_timetable():
    railway, beilun = factories.organisation("railway"), factories.terminal("BEILUN")
    factories.service(factories.station("YIWU-W"), beilun, railway, weekdays=[1, 2, 3, 4, 5, 6, 7])

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        result = departures_generate_task.apply_async(kwargs={"days": 5}, ignore_result=False)
        created = result.get(timeout=120)  # a limit for a worker that never answers, not a speed

    assert created == 5
    assert Departure.objects.count() == 5
