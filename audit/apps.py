from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    label = "audit"
    verbose_name = _("Audit trail")

    def ready(self):
        from audit import context, receivers, triggers

        receivers.connect()
        context.connect()  # Celery tasks act as `task:<name>`
        # The trigger functions live in triggers.py, not in a migration: every migrate brings them up to date.
        post_migrate.connect(triggers.reinstall_after_migrate, sender=self)
