"""Four months of past traffic on the demo network, for the figures (after seed_demo; safe to run again)."""

from django.core.management import call_command

from audit.context import ActingCommand
from customs.demo_history import demo_history_create


class Command(ActingCommand):
    help = "Write four months of past bookings, containers, empties and declarations on the demo network."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=120)

    def handle(self, *args, days: int, **options):
        made = demo_history_create(days=days)
        if made:
            self.stdout.write(f"{made} past bookings written for the figures.")
        else:
            self.stdout.write("Demo history already there (or no demo shippers): nothing written.")
        # The dashboard reads past days from the rollups (Celery beat refreshes them hourly).
        call_command("figures_refresh", full=True, stdout=self.stdout)
