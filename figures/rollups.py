"""Figures of past days rolled up, so a dashboard over a year reads a few thousand rows, not every booking.

A rollup is a table of one row per day (Asia/Shanghai) and service (with its station) holding the sums of a
figure's measures over the rows dated that day: containers due and on schedule by their vessel's departure,
bookings' TEU and prices by their departure, goods by chapter by their declaration. Durations, whose
percentiles cannot be summed, are kept one narrow row each (the empty-container waits, the clearance times).

`refresh()` (Celery beat: every hour the last days, every night everything) rewrites the rollups up to
yesterday with `INSERT ... SELECT`, the same aggregate queries the figures would run, and records the last
day it covers (`FigureRollup.through_day`). A figure then reads the rollup for the days up to that day and the
rows themselves for the days after it (today, usually): always live, and a year costs 365 days x services.
Nothing is rolled up for an enterprise (the rollups have no shipper): its figures read its own rows, which
do not grow with the network. Before the first refresh every figure reads the rows.
"""

from __future__ import annotations

import time as clock
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection, models, transaction
from django.db.models import DateField, F, QuerySet, Sum
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone

from bookings.models import FigureRollup
from intermodal.aggregates import percentile_sql
from intermodal.models import PartyKind

LIVE, ROLLED = "live", "rolled"


@dataclass(frozen=True)
class Rollup:
    """How a rollup table is made from the rows: which rows, dated by what, and what is summed (or kept)."""

    model: type[models.Model]
    rows: Callable[[], QuerySet]
    dated_by: str
    station: str
    service: str
    shipper: str
    measures: dict[str, Callable[[], models.Aggregate]] = field(default_factory=dict)
    # Extra columns: a dimension of a summed rollup (an HS chapter), or the values of a per-row one (a duration).
    columns: dict[str, Callable[[], models.Expression]] = field(default_factory=dict)

    @property
    def per_row(self) -> bool:
        return not self.measures

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    def live(self, start: datetime | None, end: datetime) -> QuerySet:
        rows = self.rows().filter(**{f"{self.dated_by}__lt": end})
        return rows if start is None else rows.filter(**{f"{self.dated_by}__gte": start})

    def month(self) -> TruncMonth:
        """The first day of a row's month (Asia/Shanghai), from its date."""
        return TruncMonth(self.dated_by, tzinfo=timezone.get_default_timezone(), output_field=DateField())

    def day_rows(self, start: datetime | None, end: datetime) -> QuerySet:
        """The rollup's rows for the days in [start, end), computed from the rows, with the table's columns."""
        queryset = self.live(start, end).values(
            r_day=TruncDate(self.dated_by, tzinfo=timezone.get_default_timezone()),
            r_month=self.month(),
            r_station=F(self.station), r_service=F(self.service),
            **{f"r_{name}": expression() for name, expression in self.columns.items()},
        )
        if not self.per_row:
            queryset = queryset.annotate(**{f"r_{name}": measure() for name, measure in self.measures.items()})
        return queryset.order_by()

    def insert_sql(self, start: datetime | None, end: datetime) -> tuple[str, tuple]:
        names = ["day", "month", "station", "service", *self.columns, *self.measures]
        columns = ", ".join(connection.ops.quote_name(self._column(name)) for name in names)
        selected = ", ".join(f"rows.r_{name}" for name in names)
        sql, params = self.day_rows(start, end).query.sql_with_params()
        table = connection.ops.quote_name(self.table)
        return f"INSERT INTO {table} ({columns}) SELECT {selected} FROM ({sql}) rows", params  # noqa: S608 - ORM SQL

    def _column(self, name: str) -> str:
        return self.model._meta.get_field(name).column


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
    since the last refresh (late reports and corrections of recent days are picked up)."""
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
        for rollup in rollups:
            table = connection.ops.quote_name(rollup.table)
            with connection.cursor() as cursor:
                if day_from is None:
                    cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - a model's table name
                else:
                    cursor.execute(f"DELETE FROM {table} WHERE day >= %s", [day_from])  # noqa: S608 - as above
                cursor.execute(*rollup.insert_sql(start, end))
                counts[rollup.table] = cursor.rowcount
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


def _sources(rollup: Rollup, query) -> list[tuple[str, QuerySet]]:
    """Where the query's period is read: the rollup table for the days it holds, the rows for the others, each
    scoped to the caller's part of the network."""
    parts = split(query)
    sources = []
    if parts.rolled:
        sources.append((ROLLED, rollup.model.objects.filter(query.scope(station="station", service="service"),
                                                            day__range=parts.rolled)))
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


def sums(rollup: Rollup, query, group: tuple[str, ...] = ()) -> list[dict]:
    """The rollup's measures summed over the query's period and scope, grouped by `group`: the rolled days
    and the live ones, one aggregate query each, added together."""
    merged: dict[tuple, dict] = {}
    for side, queryset in _sources(rollup, query):
        grouping = _group(rollup, group, side)
        measures = ({name: Sum(name) for name in rollup.measures} if side == ROLLED
                    else {name: measure() for name, measure in rollup.measures.items()})
        rows = (queryset.values(**grouping).annotate(**measures).order_by() if grouping
                else [queryset.aggregate(**measures)])
        for row in rows:
            key = tuple(row[f"g_{name}"] for name in group)
            total = merged.setdefault(key, dict(zip(group, key, strict=True)) | dict.fromkeys(rollup.measures, 0))
            for name in rollup.measures:
                total[name] += row[name] or 0
    if not group and not merged:
        merged[()] = dict.fromkeys(rollup.measures, 0)
    return list(merged.values())


FRACTIONS = (0.5, 0.9)
REPORT_WORK_MEM = "32MB"


def durations(rollup: Rollup, query, value: str, *, flag: str | None = None) -> tuple[dict, dict[date, dict]]:
    """Count, mean, median and 90th percentile of a per-row rollup's `value` (a duration) over the period and
    scope, in all and by month: the rolled days and the live ones in one query, as a percentile cannot be added
    up. `flag` also counts the rows whose boolean column is true. The total and the months come in one pass
    (GROUP BY ROLLUP)."""
    union, params = [], []
    for side, queryset in _sources(rollup, query):
        values = {f"v_{n}": F(n) if side == ROLLED else rollup.columns[n]() for n in (value, flag) if n}
        member = queryset.values(**_group(rollup, ["month"], side), **values)
        try:
            sql, member_params = member.order_by().query.sql_with_params()
        except EmptyResultSet:  # a scope that holds nothing (a local government naming no place)
            continue
        union.append(f"SELECT * FROM ({sql}) AS m{len(union)}")  # noqa: S608 - the ORM's SQL, its parameters apart
        params.extend(member_params)
    column = f"u.v_{value}"
    selected = [f"COUNT({column})", f"AVG({column})",
                *(percentile_sql(column, fraction) for fraction in FRACTIONS),
                f"SUM(CASE WHEN u.v_{flag} THEN 1 ELSE 0 END)" if flag else "0"]
    total, months = _stats((0, None, None, None, 0)), {}
    if not union:
        return total, months
    source = f"FROM ({' UNION ALL '.join(union)}) AS u"
    with transaction.atomic(), connection.cursor() as cursor:
        # The percentiles sort a year of values by month: in memory (the default 4 MB spills to disk).
        cursor.execute("SET LOCAL work_mem = %s", [REPORT_WORK_MEM])
        cursor.execute(f"SELECT u.g_month, {', '.join(selected)} {source} GROUP BY ROLLUP (u.g_month)",  # noqa: S608
                       params)
        for month, *stats in cursor.fetchall():
            if month is None:  # ROLLUP's row of the whole period
                total = _stats(stats)
            else:
                months[_as_date(month)] = _stats(stats)
    return total, months


def _stats(row) -> dict:
    count, mean, median, p90, flagged = row
    return {"count": count or 0, "mean": _as_duration(mean), 0.5: _as_duration(median), 0.9: _as_duration(p90),
            "flagged": int(flagged or 0)}


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

