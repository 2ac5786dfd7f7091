"""The database connections of Celery workers, kept from task to task as Django keeps a server's from request to
request.

Celery's Django fix-up closes every connection before and after each task unless CELERY_DB_REUSE_MAX is set (then
every 2 x that many tasks): a new PostgreSQL backend for each task, its catalogue caches cold - the relay's
connecting cost it more than its queries of a small batch (P6, docs/PERFORMANCE.md). With the setting, these
handlers do what Django does around each request: a connection older than CONN_MAX_AGE, or broken, is closed, the
others kept for the next task. With CONN_MAX_AGE=0 (the threads pool's workers, docker-compose.yml) each task's
connections still close after it.
"""

from celery.signals import task_postrun, task_prerun
from django.db import close_old_connections


@task_prerun.connect
@task_postrun.connect
def connections_kept(sender=None, **_kwargs) -> None:
    """A task run eagerly runs in its caller's request or transaction, on the caller's connection: left alone."""
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return
    close_old_connections()
