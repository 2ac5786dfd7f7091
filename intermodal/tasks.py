"""The shared core's upkeep on Celery."""

from celery import shared_task

from intermodal.access import api_key_uses_write


@shared_task(name="intermodal.tasks.api_key_uses_write")
def api_key_uses_write_task() -> int:
    """The API keys' uses the requests noted, written to the keys and the audit trail (beat, every minute)."""
    return api_key_uses_write()
