"""Beat's hourly retention run (retention/pruning.py)."""

from celery import shared_task

from retention.partitions import partitions_ensure
from retention.pruning import prune_all


@shared_task(name="retention.tasks.retention_prune")
def retention_prune_task() -> dict[str, int]:
    return prune_all()


@shared_task(name="retention.tasks.event_partitions_ensure")
def event_partitions_ensure_task() -> list[str]:
    """The events table's partitions of the months ahead (retention/partitions.py)."""
    return partitions_ensure()
