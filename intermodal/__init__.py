"""The platform's project package: settings, URLs, the Celery app, and the shared pieces every app uses."""

from intermodal.celery import app as celery_app

__all__ = ["celery_app"]
