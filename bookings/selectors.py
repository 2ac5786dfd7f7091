"""Reads on bookings, always through the caller: another organisation's booking does not exist for them."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from bookings.models import (
    HOLDS_CAPACITY,
    SIZE_TYPES,
    Booking,
    BookingChange,
    BookingStatus,
    Container,
    ContainerStatus,
)
from bookings.services import Quote, connection_problems, quote_build, validate_lines
from intermodal.access import Actor
from intermodal.errors import NotFound
from intermodal.models import PartyKind
from stations.models import Departure, DepartureStatus, Direction, Location, Station, VesselCall
from stations.selectors import departure_list, departures_connecting_to

# Parties that see a booking's prices: its shipper and the platform's admins.
PRICE_VIEWERS = (PartyKind.ENTERPRISE, PartyKind.PLATFORM_ADMIN)


def booking_scope(actor: Actor) -> Q | None:
    """The bookings an actor may see, as a filter; None for all, Q(pk__in=[]) for none."""
    organisation = actor.organisation
    if organisation is None:
        return Q(pk__in=[])
    kind = organisation.kind
    if kind == PartyKind.PLATFORM_ADMIN:
        return None
    if kind == PartyKind.ENTERPRISE:
        return Q(shipper=organisation)
    if kind == PartyKind.STATION_OPERATOR:
        return Q(departure__service__station__operator=organisation)
    if kind == PartyKind.RAILWAY:
        return Q(departure__service__operator=organisation)
    if kind == PartyKind.PORT:
        # Its terminals' vessel calls, or trains to its terminals: each side a subquery of the rows it names, which
        # the bookings' indexes on vessel_call and departure find; an OR across the two joins (outer joins, as one
        # side may be empty) made PostgreSQL read every booking of the year for a page of them.
        return Q(vessel_call__in=VesselCall.objects.filter(terminal__operator=organisation).values("pk")) | Q(
            departure__in=Departure.objects.filter(service__terminal__operator=organisation).values("pk"))
    return Q(pk__in=[])


def booking_list(*, actor: Actor) -> QuerySet[Booking]:
    scope = booking_scope(actor)
    queryset = Booking.objects.all() if scope is None else Booking.objects.filter(scope)
    return (
        queryset.select_related(
            "shipper",
            "departure__service__station",
            "departure__service__terminal",
            "vessel_call__terminal",
            "original_vessel_call",
            "destination",
        )
        .prefetch_related("lines")
    )


def booking_get(*, actor: Actor, reference: str) -> Booking:
    booking = (
        booking_list(actor=actor)
        .prefetch_related(
            Prefetch("containers", queryset=Container.objects.order_by("number")),
            Prefetch("changes", queryset=BookingChange.objects.select_related("user", "organisation")),
        )
        .filter(reference=reference)
        .first()
    )
    if booking is None:
        raise NotFound()
    return booking


def travelling_containers() -> QuerySet[Container]:
    """The containers that travel (or travelled) with their booking: the active ones of live bookings, and those
    that sailed; an import's until its empty is back. What a train's manifest and a vessel's loading list hold."""
    return Container.objects.filter(Q(is_active=True) | Q(status=ContainerStatus.SAILED),
                                    booking__status__in=[*HOLDS_CAPACITY, BookingStatus.SAILED,
                                                         BookingStatus.AT_STATION, BookingStatus.DELIVERED])


def sees_prices(actor: Actor) -> bool:
    return actor.kind in PRICE_VIEWERS


@dataclass(frozen=True)
class Connection:
    departure: Departure
    vessel_call: VesselCall
    quote: Quote

    @property
    def transit_hours(self) -> int:
        return self.departure.service.transit_hours

    @property
    def teu_free(self) -> int:
        return self.departure.teu_free


def _candidates(station: Station, vessel_call: VesselCall | None, destination: Location | None,
                latest_sailing: datetime | None, limit: int, now: datetime):
    """(vessel call, departure) pairs: the departures from the station, open and on time for the call's CY cut-off
    (less the handling buffer), for the vessel asked or the vessels to the destination; room is not checked."""
    if vessel_call is not None:
        calls = [vessel_call]
    else:
        calls_qs = (
            VesselCall.objects.select_related("terminal")
            .filter(
                etd__gt=now,
                actual_departure__isnull=True,
                destinations=destination,
                terminal__services__station=station,
            )
            .distinct()
        )
        if latest_sailing is not None:
            calls_qs = calls_qs.filter(etd__lte=latest_sailing)
        calls = list(calls_qs.order_by("etd")[:limit])
    open_departures = departure_list().filter(
        service__station=station,
        status=DepartureStatus.SCHEDULED,
        closing_time__gt=now,
        service__is_active=True,
    )
    for call in calls:
        for departure in departures_connecting_to(open_departures, call).order_by("planned_departure"):
            if not connection_problems(departure=departure, vessel_call=call, now=now):
                yield call, departure


def routes_between(*, stations: list[Station], destination: Location, now: datetime | None = None
                   ) -> list[tuple[VesselCall, Departure]]:
    """What a schedule offers from these stations to the destination (DCSA Commercial Schedules): every pair of a
    departure still open at its station, with room for a container, and a vessel call to the destination whose CY
    cut-off it makes - the rules of connections_search, without a quote. Earliest sailing first, then earliest
    departure. Two queries, whatever the number of calls."""
    now = now or timezone.now()
    calls = list(
        VesselCall.objects.select_related("terminal")
        .filter(etd__gt=now, actual_departure__isnull=True, destinations=destination,
                terminal__services__station__in=stations)
        .distinct()
    )
    departures = list(
        departure_list().filter(
            service__station__in=stations, service__terminal__in={call.terminal_id for call in calls},
            service__direction=Direction.EXPORT,
            status=DepartureStatus.SCHEDULED, closing_time__gt=now, service__is_active=True, free_teu__gt=0,
        )
    )
    pairs = [
        (call, departure)
        for call in calls
        for departure in departures
        if departure.service.terminal_id == call.terminal_id
        and not connection_problems(departure=departure, vessel_call=call, now=now)
    ]
    pairs.sort(key=lambda pair: (pair[0].etd, pair[0].reference, pair[1].planned_departure, pair[1].reference))
    return pairs


@dataclass
class SplitOffer:
    """Containers no single departure has room for, spread over the departures that make one vessel: each part is
    a booking of its own (and its own capacity check when it is made)."""

    vessel_call: VesselCall
    parts: list[tuple[Departure, dict[str, int]]]


def split_offers(
    *,
    station: Station,
    lines: dict[str, int],
    vessel_call: VesselCall | None = None,
    destination: Location | None = None,
    latest_sailing: datetime | None = None,
    limit: int = 3,
) -> list[SplitOffer]:
    """For each vessel (earliest first, at most `limit`), the fewest departures, earliest first, whose free TEU
    together take all the containers: the larger containers first, each departure filled before the next."""
    validate_lines(lines)
    by_call: dict[int, tuple[VesselCall, list[Departure]]] = {}
    for call, departure in _candidates(station, vessel_call, destination, latest_sailing, 50, timezone.now()):
        if departure.teu_free > 0:
            by_call.setdefault(call.pk, (call, []))[1].append(departure)
    offers = []
    for call, departures in by_call.values():
        parts = _spread(lines, departures)
        if parts is not None and len(parts) > 1:
            offers.append(SplitOffer(vessel_call=call, parts=parts))
        if len(offers) == limit:
            break
    return offers


def _spread(lines: dict[str, int], departures: list[Departure]) -> list[tuple[Departure, dict[str, int]]] | None:
    left = dict(lines)
    parts = []
    for departure in departures:
        room, part = departure.teu_free, {}
        for size_type in sorted(left, key=lambda code: -SIZE_TYPES[code].teu):
            fits = min(left[size_type], room // SIZE_TYPES[size_type].teu)
            if fits:
                part[size_type] = fits
                left[size_type] -= fits
                room -= fits * SIZE_TYPES[size_type].teu
        if part:
            parts.append((departure, part))
        if not any(left.values()):
            return parts
    return None


def connections_search(
    *,
    station: Station,
    lines: dict[str, int],
    vessel_call: VesselCall | None = None,
    destination: Location | None = None,
    latest_sailing: datetime | None = None,
    limit: int = 50,
) -> list[Connection]:
    """Departures from the station that make the vessel's CY cut-off (less the handling buffer), are still
    open at the station and have room for the containers, each with its quote and the saving against road."""
    validate_lines(lines)
    now = timezone.now()
    quotes: dict[int, Quote] = {}
    found: list[Connection] = []
    for call, departure in _candidates(station, vessel_call, destination, latest_sailing, limit, now):
        if departure.service_id not in quotes:
            quotes[departure.service_id] = quote_build(service=departure.service, lines=lines)
        quote = quotes[departure.service_id]
        if departure.teu_free < quote.teu:
            continue
        found.append(Connection(departure=departure, vessel_call=call, quote=quote))
    found.sort(key=lambda c: (c.vessel_call.etd, c.departure.planned_departure))
    return found[:limit]
