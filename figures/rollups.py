"""Figures of past days rolled up, so a dashboard over a year reads a few thousand rows, not every booking.

A rollup is a table of one row per day (Asia/Shanghai) and service (with its station) holding the sums of a
figure's measures over the rows dated that day: containers due and on schedule by their vessel's departure,
bookings' TEU and prices by their departure, goods by chapter by their declaration. Durations (the
empty-container waits, the clearance times), whose percentiles cannot be summed, are rolled up as histograms:
a row per day, service and bucket of the logarithmic scale, with the count, total, shortest and longest of the
durations in it. Beside the days, a row per month and service adds up the days rolled up in that month, so a
year is twelve rows per service and bucket.

`refresh()` (Celery beat: every hour the last days, every night everything) rewrites the rollups up to
yesterday with `INSERT ... SELECT`, the same aggregate queries the figures would run, then the months from the
days, and records the last day it covers (`FigureRollup.through_day`). A figure then reads the months the
period covers whole (the current one holds its days up to that day), the day rows of the period's other rolled
days and the rows themselves for the days after it (today, usually): always live, and a year costs 12 months x
services (x buckets). Nothing is rolled up for an enterprise (the rollups have no shipper): its figures read its
own rows, which do not grow with the network. Before the first refresh every figure reads the rows.

A percentile is read from a histogram, rolled and live buckets added together: the value at a rank is the
shortest of its bucket, the longest, or spread evenly between them - exact when the bucket holds one or two
values, otherwise within the bucket's own spread (at most 4.4 % of the value, DurationBucket).
"""

from __future__ import annotations

import math
import operator
import time as clock
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Count, DateField, F, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone

from bookings.models import FigureRollup, RollupSpan
from intermodal.aggregates import DurationBucket
from intermodal.models import PartyKind

LIVE, ROLLED = "live", "rolled"
# How a measure adds up over days (into a month), over rows (into a figure) and across the rolled and live days.
MERGES = {"sum": Sum, "min": Min, "max": Max}


@dataclass(frozen=True)
class Rollup:
    """How a rollup table is made from the rows: which rows, dated by what, and what is summed (or kept)."""

    model: type[models.Model]
    rows: Callable[[], QuerySet]
    dated_by: str
    station: str
    service: str
    shipper: str
    measures: dict[str, Callable[[], models.Aggregate]]
    # Extra columns, each a dimension of the rollup: an HS chapter, a duration's bucket.
    columns: dict[str, Callable[[], models.Expression]] = field(default_factory=dict)
    # The measures that do not add up as a sum: "min" or "max" by name.
    merged_by: dict[str, str] = field(default_factory=dict)
    # The rows are of one direction only (stations.models.Direction): nothing to read when the other is asked.
    direction: str | None = None

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    def merge(self, name: str) -> str:
        return self.merged_by.get(name, "sum")

    def live(self, start: datetime | None, end: datetime) -> QuerySet:
        rows = self.rows().filter(**{f"{self.dated_by}__lt": end})
        return rows if start is None else rows.filter(**{f"{self.dated_by}__gte": start})

    def month(self) -> TruncMonth:
        """The first day of a row's month (Asia/Shanghai), from its date."""
        return TruncMonth(self.dated_by, tzinfo=timezone.get_default_timezone(), output_field=DateField())

    def day_rows(self, start: datetime | None, end: datetime) -> QuerySet:
        """The rollup's rows for the days in [start, end), computed from the rows, with the table's columns."""
        return self.live(start, end).values(
            r_day=TruncDate(self.dated_by, tzinfo=timezone.get_default_timezone()),
            r_month=self.month(),
            r_station=F(self.station), r_service=F(self.service),
            **{f"r_{name}": expression() for name, expression in self.columns.items()},
        ).annotate(**{f"r_{name}": measure() for name, measure in self.measures.items()}).order_by()

    def insert_sql(self, start: datetime | None, end: datetime) -> tuple[str, tuple]:
        names = ["day", "month", "station", "service", *self.columns, *self.measures]
        columns = ", ".join(self._quoted(name) for name in names)
        selected = ", ".join(f"rows.r_{name}" for name in names)
        sql, params = self.day_rows(start, end).query.sql_with_params()
        table = connection.ops.quote_name(self.table)
        return (f"INSERT INTO {table} (span, {columns}) SELECT %s, {selected} FROM ({sql}) rows",  # noqa: S608
                (RollupSpan.DAY, *params))

    def months_insert_sql(self, month_from: date | None) -> tuple[str, tuple]:
        """The month rows from the day rows of the months from `month_from` (every month: None)."""
        keys = [self._quoted(name) for name in ("station", "service", *self.columns)]
        measures = [self._quoted(name) for name in self.measures]
        merged = [f"{self.merge(name).upper()}({column})" for name, column in zip(self.measures, measures, strict=True)]
        table = connection.ops.quote_name(self.table)
        since, params = ("AND month >= %s", [month_from]) if month_from else ("", [])
        return (f"INSERT INTO {table} (span, day, month, {', '.join(keys + measures)}) "  # noqa: S608 - names
                f"SELECT %s, month, month, {', '.join(keys + merged)} FROM {table} WHERE span = %s {since} "
                f"GROUP BY month, {', '.join(keys)}", (RollupSpan.MONTH, RollupSpan.DAY, *params))

    def _quoted(self, name: str) -> str:
        return connection.ops.quote_name(self.model._meta.get_field(name).column)


def duration_rollup(*, seconds: Callable[[], models.Expression], count: str,
                    extra: dict[str, Callable[[], models.Aggregate]] | None = None,
                    columns: dict[str, Callable[[], models.Expression]] | None = None, **rollup) -> Rollup:
    """A rollup of durations as histograms (bookings.models.DurationHistogram): per bucket of `seconds` (and of
    any other `columns`), the count (`count`), total, shortest and longest, and any `extra` sums."""
    return Rollup(
        columns={"bucket": lambda: DurationBucket(seconds()), **(columns or {})},
        measures={count: lambda: Count("pk"), "total_seconds": lambda: Sum(seconds()),
                  "shortest_seconds": lambda: Min(seconds()), "longest_seconds": lambda: Max(seconds()),
                  **(extra or {})},
        merged_by={"shortest_seconds": "min", "longest_seconds": "max"},
        **rollup,
    )


# --- Refreshing ------------------------------------------------------------------------------------------


@dataclass
class Refreshed:
    day_from: date | None
    through_day: date
    rows: dict[str, int]
    seconds: float


def refresh(rollups: Iterable[Rollup], *, full: bool = False, today: date | None = None,
            lookback_days: int | None = None) -> Refreshed:
    """Rewrite `rollups` up to yesterday: everything (`full`), or the last `lookback_days` days and any day
    since the last refresh (late reports and corrections of recent days are picked up); then the months of the
    days rewritten. `rows` counts the day rows written."""
    rollups = list(rollups)
    began = clock.perf_counter()
    zone = timezone.get_default_timezone()
    today = today or timezone.localdate(timezone=zone)
    through = today - timedelta(days=1)
    lookback = settings.FIGURES_ROLLUP_LOOKBACK_DAYS if lookback_days is None else lookback_days
    end = datetime.combine(today, time.min, tzinfo=zone)
    counts = {}
    with transaction.atomic():
        state, _created = FigureRollup.objects.select_for_update().get_or_create(pk=1)
        day_from = None
        if not full and state.through_day is not None:
            day_from = min(state.through_day + timedelta(days=1), through - timedelta(days=max(lookback, 1) - 1))
        start = datetime.combine(day_from, time.min, tzinfo=zone) if day_from else None
        month_from = day_from.replace(day=1) if day_from else None
        for rollup in rollups:
            table = connection.ops.quote_name(rollup.table)
            with connection.cursor() as cursor:
                if day_from is None:
                    cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - a model's table name
                else:
                    cursor.execute(f"DELETE FROM {table} WHERE (span = %s AND day >= %s) "  # noqa: S608 - as above
                                   "OR (span = %s AND day >= %s)",
                                   [RollupSpan.DAY, day_from, RollupSpan.MONTH, month_from])
                cursor.execute(*rollup.insert_sql(start, end))
                counts[rollup.table] = cursor.rowcount
                cursor.execute(*rollup.months_insert_sql(month_from))
        state.through_day, state.refreshed_at = through, timezone.now()
        state.save(update_fields=["through_day", "refreshed_at"])
    if day_from is None:
        with connection.cursor() as cursor:  # fresh statistics for the planner after a rebuild
            for rollup in rollups:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(rollup.table)}")
    return Refreshed(day_from=day_from, through_day=through, rows=counts, seconds=clock.perf_counter() - began)


# --- Reading ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    """The period of a figure query, split into the days read from the rollups and the rest read live."""

    rolled: tuple[date, date] | None
    live: tuple[datetime, datetime] | None


def split(query) -> Split:
    through = query.rolled_through
    if through is None or through < query.date_from:
        return Split(rolled=None, live=(query.start, query.end))
    last_rolled = min(through, query.date_to)
    if last_rolled >= query.date_to:
        return Split(rolled=(query.date_from, last_rolled), live=None)
    next_day = last_rolled + timedelta(days=1)
    live_start = datetime.combine(next_day, time.min, tzinfo=timezone.get_default_timezone())
    return Split(rolled=(query.date_from, last_rolled), live=(live_start, query.end))


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def rolled_rows(first: date, last: date, through: date) -> Q:
    """The rollup rows that hold the rolled days [first, last] (`through` the last day rolled up): the month rows
    of the months the days cover whole - a month's row holds its days up to `through` - and the day rows of the
    days at either end that no month row holds."""
    months, month = [], first.replace(day=1)
    while month <= last:
        if month >= first and min(_next_month(month) - timedelta(days=1), through) <= last:
            months.append(month)
        month = _next_month(month)
    if not months:
        return Q(span=RollupSpan.DAY, day__range=(first, last))
    rows = Q(span=RollupSpan.MONTH, day__in=months)
    if first < months[0]:
        rows |= Q(span=RollupSpan.DAY, day__range=(first, months[0] - timedelta(days=1)))
    held_to = min(_next_month(months[-1]) - timedelta(days=1), through)
    if held_to < last:
        rows |= Q(span=RollupSpan.DAY, day__range=(held_to + timedelta(days=1), last))
    return rows


def _sources(rollup: Rollup, query) -> list[tuple[str, QuerySet]]:
    """Where the query's period is read: the rollup table for the days it holds, the rows for the others, each
    scoped to the caller's part of the network."""
    if rollup.direction is not None and not query.covers(rollup.direction):
        return []
    parts = split(query)
    sources = []
    if parts.rolled:
        sources.append((ROLLED, rollup.model.objects.filter(
            rolled_rows(*parts.rolled, query.rolled_through), query.scope(station="station", service="service"))))
    if parts.live:
        sources.append((LIVE, rollup.live(*parts.live).filter(
            query.scope(station=rollup.station, service=rollup.service, shipper=rollup.shipper))))
    return sources


def _group(rollup: Rollup, names: Iterable[str], side: str) -> dict:
    """The grouping columns by name (as `g_<name>`, clear of the models' fields): `month`, `station_code` /
    `_name` / `_name_zh`, or a rollup column."""
    out = {}
    for name in names:
        if name == "month":
            out[f"g_{name}"] = F("month") if side == ROLLED else rollup.month()
        elif name.startswith("station_"):
            attribute = name.removeprefix("station_")
            out[f"g_{name}"] = F(f"station__{attribute}") if side == ROLLED else F(f"{rollup.station}__{attribute}")
        else:
            out[f"g_{name}"] = F(name) if side == ROLLED else rollup.columns[name]()
    return out


_COMBINE = {"sum": operator.add, "min": min, "max": max}


def _merged(how: str, total, value):
    if value is None or total is None:
        return total if value is None else value
    return _COMBINE[how](total, value)


def _empty(rollup: Rollup) -> dict:
    return {name: 0 if rollup.merge(name) == "sum" else None for name in rollup.measures}


def sums(rollup: Rollup, query, group: tuple[str, ...] = ()) -> list[dict]:
    """The rollup's measures added up over the query's period and scope, grouped by `group`: the rolled days
    and the live ones, one aggregate query each, added together."""
    merged: dict[tuple, dict] = {}
    for side, queryset in _sources(rollup, query):
        grouping = _group(rollup, group, side)
        measures = ({name: MERGES[rollup.merge(name)](name) for name in rollup.measures} if side == ROLLED
                    else {name: measure() for name, measure in rollup.measures.items()})
        rows = (queryset.values(**grouping).annotate(**measures).order_by() if grouping
                else [queryset.aggregate(**measures)])
        for row in rows:
            key = tuple(row[f"g_{name}"] for name in group)
            total = merged.setdefault(key, dict(zip(group, key, strict=True)) | _empty(rollup))
            for name in rollup.measures:
                total[name] = _merged(rollup.merge(name), total[name], row[name])
    if not group and not merged:
        merged[()] = _empty(rollup)
    return list(merged.values())


FRACTIONS = (0.5, 0.9)


@dataclass
class Histogram:
    """Durations by bucket: count, total, shortest and longest per bucket, and a flag's count."""

    buckets: dict[int, list] = field(default_factory=dict)
    flagged: int = 0

    def add(self, bucket: int, count: int, total: float, shortest: float, longest: float, flagged: int = 0):
        if not count:
            return
        held = self.buckets.get(bucket)
        if held is None:
            self.buckets[bucket] = [count, total, shortest, longest]
        else:
            held[0] += count
            held[1] += total
            held[2], held[3] = min(held[2], shortest), max(held[3], longest)
        self.flagged += flagged

    @property
    def count(self) -> int:
        return sum(held[0] for held in self.buckets.values())

    def value_at(self, rank: int) -> float:
        """The `rank`-th shortest value (from 0): exact at a bucket's ends, spread evenly between them."""
        for bucket in sorted(self.buckets):
            count, _total, shortest, longest = self.buckets[bucket]
            if rank < count:
                return shortest if count == 1 else shortest + (longest - shortest) * rank / (count - 1)
            rank -= count
        raise IndexError(rank)

    def percentile(self, fraction: float) -> float | None:
        """As PostgreSQL's `percentile_cont`: the value at rank fraction x (n - 1), between two ranks linearly."""
        count = self.count
        if not count:
            return None
        rank = fraction * (count - 1)
        below, above = math.floor(rank), min(math.ceil(rank), count - 1)
        low = self.value_at(below)
        return low + (rank - below) * (self.value_at(above) - low)

    def stats(self) -> dict:
        count = self.count
        mean = sum(held[1] for held in self.buckets.values()) / count if count else None
        return {"count": count, "mean": _as_duration(mean), "flagged": self.flagged,
                **{fraction: _as_duration(self.percentile(fraction)) for fraction in FRACTIONS}}


def durations(rollup: Rollup, query, count: str, *, flag: str | None = None,
              rows: list[dict] | None = None) -> tuple[dict, dict[date, dict]]:
    """Count, mean, median and 90th percentile of a duration rollup (duration_rollup) over the period and scope,
    in all and by month, from its histograms: one query of the buckets by month for the rolled days, one for the
    live ones. `flag` also counts the rows of an extra measure (declarations inspected). `rows`: the rollup's
    sums grouped by month, bucket and more, when the caller read them already (the rows of a bucket add up)."""
    total, months = Histogram(), {}
    for row in sums(rollup, query, ("month", "bucket")) if rows is None else rows:
        values = (row["bucket"], row[count], row["total_seconds"], row["shortest_seconds"], row["longest_seconds"],
                  row[flag] if flag else 0)
        total.add(*values)
        months.setdefault(_as_date(row["month"]), Histogram()).add(*values)
    return total.stats(), {month: histogram.stats() for month, histogram in months.items()}


def _as_duration(seconds) -> timedelta | None:
    return None if seconds is None else timedelta(seconds=float(seconds))


def _as_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def rolled_through(kind) -> date | None:
    """The last day the rollups cover, for a caller whose figures they can answer (not an enterprise's)."""
    if kind == PartyKind.ENTERPRISE:
        return None
    return FigureRollup.objects.values_list("through_day", flat=True).first()
