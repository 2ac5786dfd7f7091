"""Create the departures of the coming weeks from the services' timetables (idempotent)."""

from django.conf import settings

from audit.context import ActingCommand
from stations.services import departures_generate


class Command(ActingCommand):
    help = "Generate departures from the timetables for the coming days; existing departures are kept."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=settings.DEPARTURE_HORIZON_DAYS,
                            help="How many days ahead, counted from each station's today.")

    def handle(self, *args, days, **options):
        created = departures_generate(days=days)
        self.stdout.write(f"{created} departures created for the next {days} days.")
