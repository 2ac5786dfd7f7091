"""Periodic network upkeep, run by Celery beat."""

from celery import shared_task

from stations.services import departures_generate


@shared_task(name="stations.tasks.departures_generate_task")
def departures_generate_task(days: int | None = None) -> int:
    return departures_generate(days=days)
