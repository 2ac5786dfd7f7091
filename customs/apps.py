from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomsConfig(AppConfig):
    name = "customs"
    verbose_name = _("Customs")

    def ready(self):
        # The port loads only released containers (pre-release); loading lists show each one's customs state.
        from bookings import bill_of_lading, figures, journey
        from customs.figures import customs_figures
        from customs.selectors import customs_labels
        from customs.services import bill_of_lading_customs_check, bill_of_lading_goods, vessel_loading_customs_check

        journey.vessel_loading_check(vessel_loading_customs_check)
        if customs_labels not in journey.CUSTOMS_STATUS_PROVIDERS:
            journey.CUSTOMS_STATUS_PROVIDERS.append(customs_labels)
        # Clearance time and the cargo mix by HS chapter join the network's figures.
        figures.figure_provider(customs_figures)
        # The station issues a B/L only for released containers, and lists the declared goods on it.
        bill_of_lading.issue_check(bill_of_lading_customs_check)
        bill_of_lading.goods_provider(bill_of_lading_goods)
