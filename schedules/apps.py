from django.apps import AppConfig


class SchedulesConfig(AppConfig):
    """Schedules for partner systems in the industry's words: DCSA Commercial Schedules 1.0.3."""

    name = "schedules"
