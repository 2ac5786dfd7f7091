from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "intermodal.notifications"
    label = "notifications"
    verbose_name = _("Notifications and webhooks")

    def ready(self):
        from intermodal.events import outbox_on_commit
        from intermodal.notifications.relay import relay_trigger

        outbox_on_commit(relay_trigger)
