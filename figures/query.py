"""What a figure is asked for: the period, the caller's part of the network (and a station or service in it),
the months of the period; and the small helpers every figure shares. Who sees what:

- an enterprise its own bookings, containers and empty requests (with its prices);
- a station operator its stations; a railway its services; the port and the officers the network;
- a local government the stations of its city (or province), without prices and without party names.

Every figure can be asked for one direction: exports (inland station -> vessel) or imports (vessel -> inland
station). A row's direction is its service's (an import booking travels on an import service: bookings.services),
so the rollups, kept per service, answer it without a column of their own.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from django.db.models import (
    DateField,
    Q,
    QuerySet,
)
from django.db.models.functions import TruncMonth
from django.utils import timezone

from bookings.models import (
    BookingStatus,
    ContainerStatus,
)
from figures import rollups
from intermodal.access import Actor
from intermodal.errors import InvalidInput, NotAllowed
from intermodal.models import PartyKind
from stations.models import Direction, Service, Station

SHANGHAI = ZoneInfo("Asia/Shanghai")
ON_SCHEDULE_GOAL = 95.0  # percent: the network reports on-schedule shipment above 95%
MAX_PERIOD_DAYS = 3 * 366

NETWORK_VIEWERS = (
    PartyKind.PORT, PartyKind.CUSTOMS, PartyKind.BORDER_INSPECTION, PartyKind.MARITIME_SAFETY,
    PartyKind.PLATFORM_ADMIN,
)
FIGURE_VIEWERS = (*NETWORK_VIEWERS, PartyKind.ENTERPRISE, PartyKind.STATION_OPERATOR, PartyKind.RAILWAY,
                  PartyKind.LOCAL_GOVERNMENT)
# Bookings that hold (or held) slots: drafts were never reserved, cancelled ones never travelled. Imports end at
# the station and with their consignee.
TRAVELLING = (BookingStatus.CONFIRMED, BookingStatus.IN_TRANSIT, BookingStatus.AT_PORT, BookingStatus.LOADED,
              BookingStatus.SAILED, BookingStatus.AT_STATION, BookingStatus.DELIVERED)
LOADED_ON_VESSEL = (ContainerStatus.ON_VESSEL, ContainerStatus.SAILED)


def default_period(today: date | None = None) -> tuple[date, date]:
    """The default period: twelve calendar months up to `today` - the current month so far and the eleven before
    it, from the first day of the earliest. The dashboard, its exports, the API and README say the same."""
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
    # Direction.EXPORT or IMPORT; None: both.
    direction: str | None = None
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

    @cached_property
    def region_stations(self) -> list[int]:
        """A local government's stations, by id: read once for all of a page's figures. As ids the planner knows
        how many rows each station has; `province ILIKE` it guessed at one station in two hundred, and walked a
        province's year of bookings to find a day's containers (P7, docs/PERFORMANCE.md)."""
        return list(Station.objects.filter(_region_q(self.actor.organisation)).values_list("pk", flat=True))

    @cached_property
    def _remembered(self) -> dict:
        return {}

    def remembered(self, key, make):
        """What `make()` gives, read once for this query (a page's figures that share rows)."""
        if key not in self._remembered:
            self._remembered[key] = make()
        return self._remembered[key]

    def covers(self, direction: str) -> bool:
        """Whether the figures asked for include this direction's."""
        return self.direction in (None, direction)

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
            q = Q(**{f"{station}__in": self.region_stations})
        else:
            q = Q(pk__in=[])
        if self.station is not None:
            q &= Q(**{station: self.station})
        if self.service is not None:
            q &= Q(**{service: self.service})
        if self.direction is not None:
            q &= Q(**{f"{service}__direction": self.direction})
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
    service: str = "", direction: str = "",
) -> FigureQuery:
    """Check the filters against what the caller may see; refusals name the field (400)."""
    if actor.kind not in FIGURE_VIEWERS:
        raise NotAllowed(_no_figures_message(), code="no_figures")
    date_to = date_to or timezone.localdate()
    date_from = date_from or default_period(date_to)[0]
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
    if direction and direction not in Direction.values:
        errors["direction"] = [_t("Choose export or import (or neither, for both).")]
    if errors:
        raise InvalidInput(errors=errors)
    return FigureQuery(actor=actor, date_from=date_from, date_to=date_to, station=station_obj,
                       service=service_obj, direction=direction or None, months=months_between(date_from, date_to),
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
