"""`make run` keeps a readable console: the sweeps beat sends every few seconds are logged at DEBUG only."""

import logging

import pytest

from intermodal.celery import QuietSweeps, app, frequent_tasks, quiet_sweeps

SWEEP = "notifications.outbox_sweep"


def record(level: int, message: str, *args) -> logging.LogRecord:
    return logging.LogRecord("celery.beat", level, __file__, 1, message, args, None)


@pytest.fixture
def root_at():
    root = logging.getLogger()
    before = root.level

    def set_to(level):
        root.setLevel(level)

    yield set_to
    root.setLevel(before)


def test_the_sweeps_are_the_tasks_sent_more_often_than_hourly():
    tasks = frequent_tasks(app.conf.beat_schedule)

    assert SWEEP in tasks and "notifications.deliveries_sweep" in tasks
    assert "figures.tasks.figures_refresh" not in tasks and "stations.tasks.departures_generate_task" not in tasks


def test_sweep_lines_show_only_at_debug_and_everything_else_passes(root_at):
    quiet = QuietSweeps([SWEEP])
    sending = record(logging.INFO, "Scheduler: Sending due task %s (%s)", "outbox-sweep", SWEEP)
    other = record(logging.INFO, "Scheduler: Sending due task %s (%s)", "figures-refresh", "figures.tasks.x")
    failed = record(logging.ERROR, "Task %s raised", SWEEP)

    root_at(logging.INFO)
    at_info = [quiet.filter(r) for r in (sending, other, failed)]
    root_at(logging.DEBUG)
    at_debug = quiet.filter(sending)

    assert at_info == [False, True, True]
    assert at_debug is True


def test_the_filter_is_on_beats_and_the_workers_loggers_once_celery_sets_up_logging():
    quiet_sweeps()  # what Celery's after_setup_logger signal calls in the worker and in beat

    for name in ("celery.beat", "celery.app.trace", "celery.worker.strategy"):
        assert any(isinstance(f, QuietSweeps) for f in logging.getLogger(name).filters)
