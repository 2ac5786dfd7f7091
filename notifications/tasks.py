"""The Celery tasks of the relay, the deliveries and the people's notifications, for the worker to find: each
is defined beside the job it runs (relay.py, delivery.py, people.py). Every task is safe to run twice (acks late:
a worker lost mid-task means the task runs again)."""

from notifications.delivery import deliveries_sweep_task, delivery_send_task
from notifications.people import (
    at_risk_alerts_task,
    emails_sweep_task,
    free_time_reminders_task,
    last_free_day_reminders_task,
    notification_email_task,
)
from notifications.relay import outbox_relay_task, outbox_sweep_task

__all__ = [
    "at_risk_alerts_task",
    "deliveries_sweep_task",
    "delivery_send_task",
    "emails_sweep_task",
    "free_time_reminders_task",
    "last_free_day_reminders_task",
    "notification_email_task",
    "outbox_relay_task",
    "outbox_sweep_task",
]
