"""Celery tasks of the relay, the deliveries and the people's notifications. Every task is safe to run twice
(acks late: a worker lost mid-task means the task runs again)."""

from celery import shared_task

from intermodal.notifications import delivery, people, relay


@shared_task(name="notifications.outbox_relay")
def outbox_relay_task(ids: list[int] | None = None) -> int:
    """Relay the given outbox rows. A big transaction's rows are split: the other batches go to other worker
    processes, so deliveries of the first batch are on their way while the rest is relayed."""
    if ids and len(ids) > relay.BATCH:
        try:
            for start in range(relay.BATCH, len(ids), relay.BATCH):
                outbox_relay_task.apply_async(kwargs={"ids": ids[start:start + relay.BATCH]})
        except Exception:  # noqa: BLE001 - the broker failed: relay them here instead
            return relay.outbox_relay(ids=ids, batch=len(ids))
        ids = ids[:relay.BATCH]
    total = 0
    while True:
        done = relay.outbox_relay(ids=ids)
        total += done
        if done < relay.BATCH:
            return total


@shared_task(name="notifications.outbox_sweep")
def outbox_sweep_task() -> int:
    return relay.outbox_sweep()


@shared_task(name="notifications.delivery_send")
def delivery_send_task(delivery_ids: list[int] | int) -> list[str]:
    return delivery.deliveries_send(delivery_ids if isinstance(delivery_ids, list) else [delivery_ids])


@shared_task(name="notifications.deliveries_sweep")
def deliveries_sweep_task() -> int:
    return delivery.deliveries_sweep()


@shared_task(name="notifications.notification_email")
def notification_email_task(notification_id: int) -> bool:
    return people.notification_email(notification_id)


@shared_task(name="notifications.emails_sweep")
def emails_sweep_task() -> int:
    return people.emails_sweep()


@shared_task(name="notifications.at_risk_alerts")
def at_risk_alerts_task() -> int:
    return people.at_risk_alerts()


@shared_task(name="notifications.last_free_day_reminders")
def last_free_day_reminders_task() -> int:
    return people.last_free_day_reminders()
