from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BookingsConfig(AppConfig):
    name = "bookings"
    verbose_name = _("Bookings")

    def ready(self):
        from bookings.tracking_cache import forget_events
        from intermodal.events import events_on_record

        events_on_record(forget_events)
