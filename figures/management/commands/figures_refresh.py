"""Roll up the figures of past days now (Celery beat does it hourly, and rebuilds everything nightly)."""

from audit.context import ActingCommand
from figures.compute import figures_refresh


class Command(ActingCommand):
    help = "Roll up the figures of past days: the last days since the previous refresh, or everything (--full)."

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="rebuild every day, not only the recent ones")

    def handle(self, *args, full: bool, **options):
        outcome = figures_refresh(full=full)
        rows = ", ".join(f"{table} {count:,}" for table, count in outcome.rows.items())
        since = f"from {outcome.day_from}" if outcome.day_from else "every day"
        self.stdout.write(
            f"Figures rolled up ({since}) through {outcome.through_day} in {outcome.seconds:.1f} s: {rows}")
