"""The demo network's import traffic (run by seed_demo; safe to run again)."""

from audit.context import ActingCommand
from journey.demo_imports import demo_imports_create


class Command(ActingCommand):
    help = "Write the demo's import traffic through the services: arrivals and import bookings in every state."

    def handle(self, *args, **options):
        made = demo_imports_create()
        if options.get("verbosity", 1):
            if made:
                self.stdout.write(f"Import traffic: {made} import bookings and their containers' journeys.")
            else:
                self.stdout.write("Import traffic already there (or no demo network): nothing written.")
