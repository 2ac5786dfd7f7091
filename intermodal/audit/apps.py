from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "intermodal.audit"
    label = "audit"
    verbose_name = _("Audit trail")

    def ready(self):
        from intermodal.audit import context, receivers, triggers

        receivers.connect()
        context.connect()
        # SQLite rebuilds a table to alter it, dropping its triggers: put them back after every migrate.
        post_migrate.connect(triggers.reinstall_after_migrate, sender=self)
