from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EdiConfig(AppConfig):
    name = "edi"
    verbose_name = _("UN/EDIFACT")
