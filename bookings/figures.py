"""The figures the network is judged by (DESIGN.md section 5), for a period and the caller's part of it.

Every figure is one aggregate query (grouped by month or station where a chart needs it), never a loop over
rows in Python, so a year of data costs a handful of index-backed scans. Who sees what:

- an enterprise its own bookings, containers and empty requests (with its prices);
- a station operator its stations; a railway its services; the port and the officers the network;
- a local government the stations of its city (or province), without prices and without party names.

Other apps add figures of their own through `FIGURE_PROVIDERS` (customs: clearance time, cargo mix).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import (
    Count,
    DateField,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from bookings import rollups
from bookings.models import (
    Booking,
    BookingDay,
    BookingLine,
    BookingStatus,
    Container,
    ContainerDay,
    ContainerStatus,
    EmptyRequest,
    EmptyWait,
)
from intermodal.access import Actor
from intermodal.aggregates import Seconds
from intermodal.errors import InvalidInput
from intermodal.models import PartyKind
from stations.models import Departure, DepartureStatus, Service, Station

SHANGHAI = ZoneInfo("Asia/Shanghai")
ON_SCHEDULE_GOAL = 95.0  # percent: the network reports on-schedule shipment above 95%
MAX_PERIOD_DAYS = 3 * 366

NETWORK_VIEWERS = (
    PartyKind.PORT, PartyKind.CUSTOMS, PartyKind.BORDER_INSPECTION, PartyKind.MARITIME_SAFETY,
    PartyKind.PLATFORM_ADMIN,
)
FIGURE_VIEWERS = (*NETWORK_VIEWERS, PartyKind.ENTERPRISE, PartyKind.STATION_OPERATOR, PartyKind.RAILWAY,
                  PartyKind.LOCAL_GOVERNMENT)
# Bookings that hold (or held) slots: drafts were never reserved, cancelled ones never travelled.
TRAVELLING = (BookingStatus.CONFIRMED, BookingStatus.IN_TRANSIT, BookingStatus.AT_PORT, BookingStatus.LOADED,
              BookingStatus.SAILED)
LOADED_ON_VESSEL = (ContainerStatus.ON_VESSEL, ContainerStatus.SAILED)


def default_period(today: date | None = None) -> tuple[date, date]:
    """The last twelve months, whole months, up to today."""
    today = today or timezone.localdate()
    first = today.replace(day=1)
    for _ in range(11):
        first = (first - timedelta(days=1)).replace(day=1)
    return first, today


def months_between(start: date, end: date) -> list[date]:
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


@dataclass(frozen=True)
class FigureQuery:
    """Who asks, about which period, station and service: builds the filter every figure applies."""

    actor: Actor
    date_from: date
    date_to: date
    station: Station | None = None
    service: Service | None = None
    months: list[date] = field(default_factory=list)
    # The last day the rollups hold (None: read every day from the rows). See bookings/rollups.py.
    rolled_through: date | None = None

    @property
    def kind(self) -> str | None:
        return self.actor.kind

    @property
    def start(self) -> datetime:
        return datetime.combine(self.date_from, time.min, tzinfo=SHANGHAI)

    @property
    def end(self) -> datetime:  # exclusive: the day after date_to, 00:00 in Shanghai
        return datetime.combine(self.date_to + timedelta(days=1), time.min, tzinfo=SHANGHAI)

    @property
    def sees_prices(self) -> bool:
        return self.kind != PartyKind.LOCAL_GOVERNMENT

    @property
    def sees_load_factor(self) -> bool:
        # Departures carry every shipper's slots: not an enterprise's own figure.
        return self.kind != PartyKind.ENTERPRISE

    def within(self, path: str) -> Q:
        return Q(**{f"{path}__gte": self.start, f"{path}__lt": self.end})

    def scope(self, *, station: str, service: str, shipper: str | None = None) -> Q:
        """The caller's part of the network and the chosen station/service, for a model whose station,
        service and shipper are reached by these lookup paths."""
        organisation = self.actor.organisation
        kind = self.kind
        if kind in NETWORK_VIEWERS:
            q = Q()
        elif kind == PartyKind.ENTERPRISE and shipper is not None:
            q = Q(**{shipper: organisation})
        elif kind == PartyKind.STATION_OPERATOR:
            q = Q(**{f"{station}__operator": organisation})
        elif kind == PartyKind.RAILWAY:
            q = Q(**{f"{service}__operator": organisation})
        elif kind == PartyKind.LOCAL_GOVERNMENT:
            q = _region_q(organisation, station)
        else:
            q = Q(pk__in=[])
        if self.station is not None:
            q &= Q(**{station: self.station})
        if self.service is not None:
            q &= Q(**{service: self.service})
        return q


def _region_q(organisation, station_path: str = "") -> Q:
    """The stations of a local government's city, or of its province when it names no city."""
    prefix = f"{station_path}__" if station_path else ""
    if organisation.city:
        return Q(**{f"{prefix}city__iexact": organisation.city})
    if organisation.province:
        return Q(**{f"{prefix}province__iexact": organisation.province})
    return Q(pk__in=[])


def stations_in_scope(actor: Actor) -> QuerySet[Station]:
    kind, organisation = actor.kind, actor.organisation
    stations = Station.objects.order_by("province", "city", "code")
    if kind == PartyKind.STATION_OPERATOR:
        return stations.filter(operator=organisation)
    if kind == PartyKind.RAILWAY:
        return stations.filter(services__operator=organisation).distinct()
    if kind == PartyKind.LOCAL_GOVERNMENT:
        return stations.filter(_region_q(organisation))
    if kind in FIGURE_VIEWERS:
        return stations
    return stations.none()


def services_in_scope(actor: Actor) -> QuerySet[Service]:
    kind, organisation = actor.kind, actor.organisation
    services = Service.objects.select_related("station").order_by("station__code", "code")
    if kind == PartyKind.RAILWAY:
        return services.filter(operator=organisation)
    if kind in (PartyKind.STATION_OPERATOR, PartyKind.LOCAL_GOVERNMENT):
        return services.filter(station__in=stations_in_scope(actor))
    if kind in FIGURE_VIEWERS:
        return services
    return services.none()


def figure_query(
    *, actor: Actor, date_from: date | None = None, date_to: date | None = None, station: str = "",
    service: str = "",
) -> FigureQuery:
    """Check the filters against what the caller may see; refusals name the field (400)."""
    if actor.kind not in FIGURE_VIEWERS:
        raise InvalidInput(_no_figures_message(), status=403, code="no_figures")
    default_from, default_to = default_period()
    date_from, date_to = date_from or default_from, date_to or default_to
    errors: dict[str, list[str]] = {}
    if date_from > date_to:
        errors["date_to"] = [_t("The period ends before it starts.")]
    elif (date_to - date_from).days > MAX_PERIOD_DAYS:
        errors["date_to"] = [_t("Choose a period of at most three years.")]
    station_obj = service_obj = None
    if station:
        station_obj = stations_in_scope(actor).filter(code=station).first()
        if station_obj is None:
            errors["station"] = [_t("%(code)s is not a station whose figures you can see.") % {"code": station}]
    if service:
        service_obj = services_in_scope(actor).filter(code=service).first()
        if service_obj is None:
            errors["service"] = [_t("%(code)s is not a service whose figures you can see.") % {"code": service}]
    if errors:
        raise InvalidInput(errors=errors)
    return FigureQuery(actor=actor, date_from=date_from, date_to=date_to, station=station_obj,
                       service=service_obj, months=months_between(date_from, date_to),
                       rolled_through=rollups.rolled_through(actor.kind))


def _t(message: str) -> str:
    from django.utils.translation import gettext

    return gettext(message)


def _no_figures_message() -> str:
    return _t("Figures are for the parties of the network; your organisation has none to see.")


def _month(path: str):
    return TruncMonth(path, tzinfo=SHANGHAI, output_field=DateField())


def _percent(part, whole) -> float | None:
    return round(100.0 * float(part) / float(whole), 1) if whole else None


def _hours(value: timedelta | None) -> float | None:
    return round(value.total_seconds() / 3600, 1) if value is not None else None


def _by_month(query: FigureQuery, rows, **fill) -> list[dict]:
    """One row per month of the period, in order; months without data carry `fill`."""
    found = {row["month"]: row for row in rows}
    return [found.get(month, {"month": month, **fill}) | {"month": month} for month in query.months]


# --- The figures -----------------------------------------------------------------------------------------


CONTAINERS = rollups.register(rollups.Rollup(
    model=ContainerDay,
    rows=lambda: Container.objects.filter(booking__status__in=TRAVELLING),
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


BOOKINGS = rollups.register(rollups.Rollup(
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


EMPTY_WAITS = rollups.register(rollups.Rollup(
    model=EmptyWait,
    rows=lambda: EmptyRequest.objects.filter(picked_up_at__isnull=False),
    dated_by="requested_at",
    station="booking__departure__service__station", service="booking__departure__service", shipper="booking__shipper",
    columns={"wait_seconds": _wait},
))


def on_schedule(query: FigureQuery) -> dict:
    """Of the containers whose first-booked vessel sailed in the period, the share loaded on that vessel."""
    monthly = [{"month": row["month"], "total": row["containers"], "on_schedule": row["on_schedule"]}
               for row in rollups.sums(CONTAINERS, query, ("month",))]
    months = _by_month(query, monthly, total=0, on_schedule=0)
    for row in months:
        row["rate"] = _percent(row["on_schedule"], row["total"])
    total = sum(row["total"] for row in months)
    on_time_total = sum(row["on_schedule"] for row in months)
    return {"containers": total, "on_schedule": on_time_total, "rate": _percent(on_time_total, total),
            "goal": ON_SCHEDULE_GOAL, "by_month": months}


def empty_wait(query: FigureQuery) -> dict:
    """From an empty-container request to the last of its empties handed out at the station."""
    summary, by_month = rollups.durations(EMPTY_WAITS, query, "wait_seconds")
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


# Other apps' figures: each takes the FigureQuery and returns {section name: figures}.
FIGURE_PROVIDERS: list[Callable[[FigureQuery], dict]] = []


def figure_provider(provider: Callable[[FigureQuery], dict]) -> Callable[[FigureQuery], dict]:
    if provider not in FIGURE_PROVIDERS:
        FIGURE_PROVIDERS.append(provider)
    return provider


def figures_compute(query: FigureQuery) -> dict:
    figures = {
        "period": {"date_from": query.date_from, "date_to": query.date_to},
        "station": query.station.code if query.station else None,
        "service": query.service.code if query.service else None,
        "on_schedule": on_schedule(query),
        "empty_wait": empty_wait(query),
        "throughput": throughput(query),
        "load_factor": load_factor(query),
        "cost": cost(query),
    }
    for provider in FIGURE_PROVIDERS:
        figures.update(provider(query))
    return figures
