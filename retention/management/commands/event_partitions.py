"""The events table's monthly partitions: list them, make those ahead (beat does daily), detach a past month.

    manage.py event_partitions                  list the attached months and their rows
    manage.py event_partitions --ensure         make this month's and the next months' (and any month waiting in
                                                the default partition)
    manage.py event_partitions --detach 2025-01 detach that month for archiving (then, e.g.,
                                                pg_dump -t intermodal_event_p202501, and DROP TABLE it)
"""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from retention.partitions import PartitionRefused, partition_detach, partitions, partitions_ensure


def _month(value: str) -> date:
    try:
        year, month = value.split("-")
        return date(int(year), int(month), 1)
    except ValueError as error:
        raise CommandError(f"--detach takes a month as YYYY-MM, not {value!r}.") from error


class Command(BaseCommand):
    help = "List, make ahead or detach the events table's monthly partitions."

    def add_arguments(self, parser):
        parser.add_argument("--ensure", action="store_true", help="make the partitions of the months ahead")
        parser.add_argument("--detach", metavar="YYYY-MM", help="detach a past month's partition for archiving")

    def handle(self, *args, ensure=False, detach=None, **options):
        if ensure:
            made = partitions_ensure()
            self.stdout.write(f"Made: {', '.join(made)}" if made else "Every partition ahead was there already.")
        if detach:
            try:
                name = partition_detach(_month(detach))
            except PartitionRefused as refusal:
                raise CommandError(str(refusal)) from refusal
            self.stdout.write(f"Detached {name}: archive it (pg_dump -t {name}), then DROP TABLE {name}.")
        if not ensure and not detach:
            for partition in partitions():
                self.stdout.write(f"{partition.month:%Y-%m}  {partition.name}  {partition.rows} events")
