from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DatabasesConfig(AppConfig):
    """Where the data lives, importing nothing of the platform: `make run`'s embedded PostgreSQL (embedded_db.py),
    the router that sends stale-tolerant reads to a streaming replica (replicas.py), the workers' connections
    kept from task to task (workers.py), what every session sets as it opens (sessions.py), and the Redis cache
    keeping its clients (redis_cache.py)."""

    name = "databases"
    verbose_name = _("Databases")

    def ready(self):
        from databases import sessions, workers  # noqa: F401 - connect their signal handlers
