"""The Celery app: configured from Django settings (CELERY_*), tasks found in every installed app."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "intermodal.settings")

app = Celery("intermodal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
