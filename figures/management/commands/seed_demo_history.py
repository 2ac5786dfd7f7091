"""Four months of past traffic on the demo network both ways, for the figures (after seed_demo; safe to run again)."""

from django.core.management import call_command
from django.core.management.base import CommandError

from audit.context import ActingCommand
from customs.demo_history import IMPORT_SHARE, demo_history_create


class Command(ActingCommand):
    help = ("Write four months of past bookings both ways, containers, empties and declarations on the demo "
            "network.")

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=120)
        parser.add_argument("--import-share", type=float, default=IMPORT_SHARE,
                            help="the share of the containers that are imports, 0 to 1 (default a third)")

    def handle(self, *args, days: int, import_share: float, **options):
        if not 0 <= import_share <= 1:
            raise CommandError("--import-share is between 0 and 1.")
        made = demo_history_create(days=days, import_share=import_share)
        if made:
            self.stdout.write(f"{made} past bookings written for the figures.")
        else:
            self.stdout.write("Demo history already there (or no demo shippers): nothing written.")
        # The dashboard reads past days from the rollups (Celery beat refreshes them hourly).
        call_command("figures_refresh", full=True, stdout=self.stdout)
