"""The Celery app: configured from Django settings (CELERY_*), tasks found in every installed app."""

import logging
import os

from celery import Celery
from celery.signals import after_setup_logger, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "intermodal.settings")

app = Celery("intermodal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class QuietSweeps(logging.Filter):
    """The sweeps beat sends every few seconds or minutes are logged at DEBUG level only: at INFO, beat's "Sending
    due task" and the worker's "received" / "succeeded" lines for them would drown everything else in `make run`.
    Failures of a sweep are logged at their own level (ERROR) and pass."""

    def __init__(self, tasks):
        super().__init__()
        self.tasks = tuple(tasks)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO or logging.getLogger().isEnabledFor(logging.DEBUG):
            return True
        message = record.getMessage()
        return not any(task in message for task in self.tasks)


def frequent_tasks(schedule: dict) -> list[str]:
    """The tasks beat sends more often than hourly: the sweeps."""
    return [entry["task"] for entry in schedule.values()
            if isinstance(entry["schedule"], int | float) and entry["schedule"] < 3600]


@after_setup_logger.connect
def quiet_sweeps(**_kwargs) -> None:
    """Once the worker or beat has set up its logging."""
    quiet = QuietSweeps(frequent_tasks(app.conf.beat_schedule))
    for name in ("celery.beat", "celery.app.trace", "celery.worker.strategy"):
        logging.getLogger(name).addFilter(quiet)


@worker_process_init.connect
def settle_heap(**_kwargs) -> None:
    """Each worker process, once forked with the app loaded (intermodal/heap.py)."""
    from intermodal import heap

    heap.settle()
