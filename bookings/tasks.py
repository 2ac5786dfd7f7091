"""Workers' jobs on bookings: bulk imports from CSV (the task lives beside the job it runs)."""

from bookings.imports import booking_import_task

__all__ = ["booking_import_task"]
