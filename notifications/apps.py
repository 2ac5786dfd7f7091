from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    label = "notifications"
    verbose_name = _("Notifications and webhooks")

    def ready(self):
        from intermodal.events import outbox_committed
        from intermodal.models import OutboxMessage
        from notifications.relay import relay_trigger

        outbox_committed.connect(relay_trigger, sender=OutboxMessage, dispatch_uid="notifications.relay")
