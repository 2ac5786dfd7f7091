from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DatabasesConfig(AppConfig):
    """Where the data lives, importing nothing of the platform: `make run`'s embedded PostgreSQL (embedded_db.py)
    and the router that sends stale-tolerant reads to a streaming replica (replicas.py)."""

    name = "databases"
    verbose_name = _("Databases")
