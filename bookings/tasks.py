"""Workers' jobs on bookings: bulk imports from CSV, and the figures' rollups."""

from celery import shared_task

from bookings.imports import booking_import_run as run


@shared_task(name="bookings.tasks.booking_import_run")
def booking_import_run(job_id: int) -> str:
    return run(job_id=job_id).status


@shared_task(name="bookings.tasks.figures_refresh")
def figures_refresh(full: bool = False) -> dict:
    """Roll up the figures of past days (hourly: the last days; nightly: everything)."""
    from bookings import rollups

    outcome = rollups.refresh(full=full)
    return {"through_day": outcome.through_day.isoformat(), "rows": outcome.rows, "seconds": round(outcome.seconds, 2)}
