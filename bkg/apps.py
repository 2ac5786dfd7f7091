from django.apps import AppConfig


class BkgConfig(AppConfig):
    """DCSA Booking 2.0.5: the platform as booking provider for partner systems."""

    name = "bkg"
    verbose_name = "DCSA booking requests"
