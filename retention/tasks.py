"""Beat's hourly retention run (retention/pruning.py)."""

from celery import shared_task

from retention.pruning import prune_all


@shared_task(name="retention.tasks.retention_prune")
def retention_prune_task() -> dict[str, int]:
    return prune_all()
