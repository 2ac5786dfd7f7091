"""The events table's monthly partitions (intermodal migration 0011): made ahead of time, and detached for archiving.

    partitions_ensure(today=None, since=None)    the partitions of this month and EVENT_PARTITIONS_AHEAD_MONTHS
        -> list[str]                              ahead (from `since` on, for a bulk load of past months), and of
                                                  any month whose rows wait in the default partition (a back-dated
                                                  load); returns those it made. Beat runs it daily.
    partitions() -> list[Partition]              the attached month partitions, oldest first, with their rows
    partition_detach(month) -> str               detaches a past month's partition for archiving: the table stays
                                                  (intermodal_event_pYYYYMM, no longer read by anything) until an
                                                  operator dumps and drops it

A month's partition is made by the database function intermodal_event_partition_ensure: an empty table attached
with ATTACH PARTITION, which lets writers go on (CREATE ... PARTITION OF would lock the whole table), after moving
in that month's rows from the default partition, if any. Nothing is ever inserted into a missing month: rows of a
month without partition go to the default one until its partition is made.

A month is detached only when it is older than the current month and no outbox row or webhook delivery still
names one of its events (they are pruned after RETENTION_OUTBOX_DAYS and RETENTION_DELIVERIES_DAYS): nothing is
left pointing at an event that is gone. Timelines keep a detached month's steps: they read the facts kept with
their rows (tracking.facts), not the events. Detaching takes a short exclusive lock on the events table; it waits at
most PARTITION_LOCK_TIMEOUT for it, and fails (to be run again) rather than hold up the writers behind it.
"""

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

PARENT = "intermodal_event"
DEFAULT = "intermodal_event_default"
PARTITION_LOCK_TIMEOUT = "5s"


class PartitionRefused(Exception):
    """A partition that may not be detached, and why."""


@dataclass(frozen=True)
class Partition:
    name: str
    month: date
    rows: int


def _month(day: date) -> date:
    return day.replace(day=1)


def _add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"{PARENT}_p{month:%Y%m}"


def partitions_ensure(today: date | None = None, since: date | None = None) -> list[str]:
    """The partitions of this month and the months ahead (and from `since` on: a bulk load of past months makes
    theirs first), and of the months waiting in the default partition."""
    this_month = _month(today or timezone.now().date())
    months = {_add_months(this_month, ahead) for ahead in range(settings.EVENT_PARTITIONS_AHEAD_MONTHS + 1)}
    month = _month(since) if since else this_month
    while month < this_month:
        months.add(month)
        month = _add_months(month, 1)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT date_trunc('month', created_at AT TIME ZONE 'UTC')::date FROM {DEFAULT}")  # noqa: S608
        months.update(row[0] for row in cursor.fetchall())
    made = []
    for month in sorted(months):
        name = partition_name(month)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass(%s) IS NULL", [name])
            (missing,) = cursor.fetchone()
            if missing:
                cursor.execute("SELECT intermodal_event_partition_ensure(%s)", [month])
                made.append(name)
    return made


def _attached() -> list[str]:
    """The attached month partitions' names, oldest first."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass AND c.relname <> %s ORDER BY c.relname", [PARENT, DEFAULT])
        return [row[0] for row in cursor.fetchall()]


def partitions() -> list[Partition]:
    with connection.cursor() as cursor:
        found = []
        for name in _attached():
            cursor.execute(f'SELECT count(*) FROM "{name}"')  # noqa: S608 - a partition's own name
            found.append(Partition(name=name, month=date(int(name[-6:-2]), int(name[-2:]), 1),
                                   rows=cursor.fetchone()[0]))
    return found


def partition_detach(month: date) -> str:
    month = _month(month)
    name = partition_name(month)
    if month >= _month(timezone.now().date()):
        raise PartitionRefused(f"{name}: only a past month is detached (this month and later still take events).")
    if name not in _attached():
        raise PartitionRefused(f"{name}: no such attached partition.")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{PARTITION_LOCK_TIMEOUT}'")
        cursor.execute(f'LOCK TABLE "{name}" IN SHARE MODE')  # noqa: S608 - no new row while it is checked
        for table in ("intermodal_outboxmessage", "notifications_delivery"):
            cursor.execute(
                f'SELECT count(*) FROM {table} t JOIN "{name}" e ON e.id = t.event_id')  # noqa: S608
            (named,) = cursor.fetchone()
            if named:
                raise PartitionRefused(
                    f"{name}: {named} rows of {table} still name its events; they go with retention first.")
        cursor.execute(f'ALTER TABLE {PARENT} DETACH PARTITION "{name}"')
    return name
