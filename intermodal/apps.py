from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntermodalConfig(AppConfig):
    name = "intermodal"
    verbose_name = _("Parties and events")

    def ready(self):
        from intermodal import schema  # noqa: F401 - registers the OpenAPI authentication extension
