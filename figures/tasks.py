"""Workers' jobs on the figures: the rollups of past days."""

from celery import shared_task

from figures.compute import figures_refresh as refresh


@shared_task(name="figures.tasks.figures_refresh")
def figures_refresh(full: bool = False) -> dict:
    """Roll up the figures of past days (hourly: the last days; nightly: everything)."""
    outcome = refresh(full=full)
    return {"through_day": outcome.through_day.isoformat(), "rows": outcome.rows, "seconds": round(outcome.seconds, 2)}
