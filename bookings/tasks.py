"""Workers' jobs on bookings: bulk imports from CSV."""

from celery import shared_task

from bookings.imports import booking_import_run as run


@shared_task(name="bookings.tasks.booking_import_run")
def booking_import_run(job_id: int) -> str:
    return run(job_id=job_id).status
