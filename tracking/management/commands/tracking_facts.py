"""The tracking read model (tracking/facts.py) against the events it is made from.

    manage.py tracking_facts --check     count the containers, bookings, departures and vessel calls whose kept
                                         facts are not what their events say (exit status 1 if any); changes nothing
    manage.py tracking_facts --rebuild   make every one's facts again from the events (after a bulk load written
                                         with `SET tracking.facts = 'off'`)

Both read every event: run them while every month's partition is attached (retention), else the steps of a
detached month are missing from what the events say.
"""

from django.core.management.base import CommandError

from audit.context import ActingCommand
from tracking.facts import facts_rebuild


class Command(ActingCommand):
    help = "Check the tracking read model against the events, or make it again from them."

    def add_arguments(self, parser):
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument("--check", action="store_true", help="count the rows whose facts are not their events'")
        action.add_argument("--rebuild", action="store_true", help="make every row's facts again from the events")

    def handle(self, *args, check=False, rebuild=False, **options):
        changed = facts_rebuild(keep=rebuild)
        counts = ", ".join(f"{count} {subject}" for subject, count in changed.items())
        if rebuild:
            self.stdout.write(f"Made again: {counts}.")
        elif any(changed.values()):
            raise CommandError(f"Facts not what their events say: {counts}.")
        else:
            self.stdout.write("Every row's facts are what its events say.")
