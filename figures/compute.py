"""The figures the network is judged by (DESIGN.md section 5), for a period and the caller's part of it
(figures/query.py says who sees what).

Every figure is one aggregate query (grouped by month or station where a chart needs it), never a loop over
rows in Python, so a year of data costs a handful of index-backed scans. Past days are read from daily rollups
(figures/rollups.py), today's from the rows. Customs' figures (clearance time, cargo mix) are in
figures/customs.py.
"""

from datetime import date

from django.db.models import (
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from bookings.models import (
    Booking,
    BookingDay,
    BookingLine,
    Container,
    ContainerDay,
    EmptyRequest,
    EmptyWait,
)
from figures import imports, rollups
from figures.customs import CARGO, CLEARANCES, customs_figures
from figures.query import (
    LOADED_ON_VESSEL,
    ON_SCHEDULE_GOAL,
    TRAVELLING,
    FigureQuery,
    _by_month,
    _hours,
    _month,
    _percent,
)
from intermodal.aggregates import Seconds
from stations.models import Departure, DepartureStatus, Direction

# --- The figures -----------------------------------------------------------------------------------------


CONTAINERS = (rollups.Rollup(
    model=ContainerDay,
    rows=lambda: Container.objects.filter(booking__direction=Direction.EXPORT, booking__status__in=TRAVELLING),
    direction=Direction.EXPORT,
    dated_by="booking__original_vessel_call__actual_departure",
    station="booking__departure__service__station", service="booking__departure__service", shipper="booking__shipper",
    measures={
        "containers": lambda: Count("id"),
        "on_schedule": lambda: Count("id", filter=Q(status__in=LOADED_ON_VESSEL,
                                                    booking__vessel_call=F("booking__original_vessel_call"))),
    },
))


def _containers_per_booking():
    lines = BookingLine.objects.filter(booking=OuterRef("pk")).values("booking").annotate(n=Sum("quantity"))
    return Subquery(lines.values("n")[:1], output_field=IntegerField())


BOOKINGS = (rollups.Rollup(
    model=BookingDay,
    rows=lambda: Booking.objects.filter(status__in=TRAVELLING),
    dated_by="departure__planned_departure",
    station="departure__service__station", service="departure__service", shipper="shipper",
    columns={"currency": lambda: F("currency")},
    measures={
        "bookings": lambda: Count("id"), "teu": lambda: Sum("teu"),
        "containers": lambda: Coalesce(Sum(_containers_per_booking()), 0),
        "sea_rail": lambda: Sum("quote_total"), "road": lambda: Sum("quote_road_haulage"),
        "saving": lambda: Sum("quote_saving"),
    },
))


def _wait():
    return Seconds("picked_up_at", "requested_at")


EMPTY_WAITS = (rollups.duration_rollup(
    model=EmptyWait,
    rows=lambda: EmptyRequest.objects.filter(picked_up_at__isnull=False),
    dated_by="requested_at",
    station="booking__departure__service__station", service="booking__departure__service", shipper="booking__shipper",
    seconds=_wait, count="requests", direction=Direction.EXPORT,  # empties are handed out for exports
))


def on_schedule(query: FigureQuery) -> dict:
    """Exports: of the containers whose first-booked vessel sailed in the period, the share loaded on that vessel.
    Imports: of the containers due at their inland station in the period (figures/imports.py), the share
    available for pick-up there by the promised day. Both together unless one direction is asked for; each
    apart in `by_direction`."""
    months = _by_month(query, [], total=0, on_schedule=0)
    by_direction = {}
    for direction, rollup in ((Direction.EXPORT, CONTAINERS), (Direction.IMPORT, imports.IMPORT_CONTAINERS)):
        total = on_time = 0
        for row in rollups.sums(rollup, query, ("month",)):
            month = next(m for m in months if m["month"] == rollups._as_date(row["month"]))
            month["total"] += row["containers"]
            month["on_schedule"] += row["on_schedule"]
            total, on_time = total + row["containers"], on_time + row["on_schedule"]
        by_direction[direction] = {"containers": total, "on_schedule": on_time, "rate": _percent(on_time, total)}
    for row in months:
        row["rate"] = _percent(row["on_schedule"], row["total"])
    total = sum(row["total"] for row in months)
    on_time_total = sum(row["on_schedule"] for row in months)
    return {"containers": total, "on_schedule": on_time_total, "rate": _percent(on_time_total, total),
            "goal": ON_SCHEDULE_GOAL, "by_month": months, "by_direction": by_direction}


def empty_wait(query: FigureQuery) -> dict:
    """From an empty-container request to the last of its empties handed out at the station."""
    summary, by_month = rollups.durations(EMPTY_WAITS, query, "requests")
    monthly = [{"month": month, "requests": row["count"], "median": row[0.5], "p90": row[0.9]}
               for month, row in by_month.items()]
    months = _by_month(query, monthly, requests=0, median=None, p90=None)
    return {
        "requests": summary["count"],
        "median_hours": _hours(summary[0.5]),
        "p90_hours": _hours(summary[0.9]),
        "mean_hours": _hours(summary["mean"]),
        "by_month": [{"month": row["month"], "requests": row["requests"], "median_hours": _hours(row["median"]),
                      "p90_hours": _hours(row["p90"])} for row in months],
    }


STATION = ("station_code", "station_name", "station_name_zh")
MONEY = ("containers", "sea_rail", "road", "saving")


def _station_row(row: dict, *measures: str) -> dict:
    return {"code": row["station_code"], "name": row["station_name"], "name_zh": row["station_name_zh"],
            **{name: row[name] for name in measures}}


def throughput(query: FigureQuery) -> dict:
    """TEU booked on departures of the period, by station and by month (cancelled and drafts left out)."""
    by_station = sorted((_station_row(row, "teu", "bookings") for row in rollups.sums(BOOKINGS, query, STATION)),
                        key=lambda row: (-row["teu"], row["code"]))
    monthly = [{"month": row["month"], "teu": row["teu"]} for row in rollups.sums(BOOKINGS, query, ("month",))]
    months = _by_month(query, monthly, teu=0)
    return {"teu": sum(row["teu"] for row in months), "by_station": by_station, "by_month": months}


def load_factor(query: FigureQuery) -> dict | None:
    """TEU booked over TEU offered, on the departures that have left (or should have) in the period."""
    if not query.sees_load_factor:
        return None
    departures = Departure.objects.filter(
        query.scope(station="service__station", service="service"),
        query.within("planned_departure"),
        planned_departure__lte=timezone.now(),
    ).exclude(status=DepartureStatus.CANCELLED)
    monthly = (
        departures.values(month=_month("planned_departure"))
        .annotate(departures=Count("id"), booked=Sum("booked_teu"), capacity=Sum("capacity_teu"))
        .order_by("month")
    )
    months = _by_month(query, monthly, departures=0, booked=0, capacity=0)
    for row in months:
        row["rate"] = _percent(row["booked"], row["capacity"])
    booked = sum(row["booked"] for row in months)
    capacity = sum(row["capacity"] for row in months)
    return {"departures": sum(row["departures"] for row in months), "booked_teu": booked, "capacity_teu": capacity,
            "rate": _percent(booked, capacity), "by_month": months}


def cost(query: FigureQuery) -> dict | None:
    """Per container, the sea-rail price quoted against the road-haulage alternative, and the saving."""
    if not query.sees_prices:
        return None
    rows = rollups.sums(BOOKINGS, query, (*STATION, "currency"))
    by_code: dict[str, dict] = {}
    for row in rows:  # a station's rows in each currency quoted (one: CNY)
        station = by_code.setdefault(row["station_code"], _station_row(row) | dict.fromkeys(MONEY, 0))
        for key in MONEY:
            station[key] += row[key]
    by_station = sorted(by_code.values(), key=lambda row: row["code"])
    total = dict.fromkeys(MONEY, 0)
    for row in by_station:
        for key in total:
            total[key] += row[key]
        _per_container(row)
    _per_container(total)
    currency = rows[0]["currency"] if rows else "CNY"
    return {**total, "currency": currency, "by_station": by_station}


def _per_container(row: dict) -> None:
    n = row["containers"]
    for key in ("sea_rail", "road", "saving"):
        row[f"{key}_per_container"] = round(float(row[key]) / n, 2) if n else None
        row[key] = round(float(row[key]), 2)


# Every rollup of the figures, in the order a refresh rewrites them.
ROLLUPS = (CONTAINERS, BOOKINGS, EMPTY_WAITS, CLEARANCES, CARGO, *imports.ROLLUPS)


def figures_refresh(*, full: bool = False, today: date | None = None,
                    lookback_days: int | None = None) -> rollups.Refreshed:
    """Roll up the figures of past days: the recent ones (hourly), or every day (`full`, nightly)."""
    return rollups.refresh(ROLLUPS, full=full, today=today, lookback_days=lookback_days)


def figures_compute(query: FigureQuery) -> dict:
    figures = {
        "period": {"date_from": query.date_from, "date_to": query.date_to},
        "station": query.station.code if query.station else None,
        "service": query.service.code if query.service else None,
        "direction": query.direction,
        "on_schedule": on_schedule(query),
        "empty_wait": empty_wait(query),
        "throughput": throughput(query),
        "load_factor": load_factor(query),
        "cost": cost(query),
    }
    figures.update(customs_figures(query))
    figures.update(imports.import_figures(query))
    return figures
