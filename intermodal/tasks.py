"""Periodic upkeep of the shared pieces: forget idempotency keys after 24 hours."""

from celery import shared_task

from intermodal.idempotency import idempotency_purge


@shared_task(name="intermodal.tasks.idempotency_purge_task")
def idempotency_purge_task() -> int:
    return idempotency_purge()
