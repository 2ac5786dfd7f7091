"""Reads of the import pages, scoped to the signed-in organisation: arriving containers, import containers with
their holds, availability and free time, a station's import yard, the port's arriving vessels and rail-outbound
lists. Each in a fixed number of queries however many rows."""

from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from bookings.models import HOLDS_CAPACITY, Container, ContainerStatus
from inbound import services as inbound
from inbound.api import arrivals_visible
from inbound.models import ArrivingContainer, HoldKind, ReturnedEmpty
from intermodal.access import Actor
from intermodal.models import PartyKind
from journey.imports import with_holds_and_free_time
from journey.imports_api import import_containers_visible
from stations.models import Departure, DepartureStatus, Direction, Station, VesselCall
from stations.selectors import departure_list

S = ContainerStatus
# A consignee's arriving containers stay on its page this long after the vessel's arrival, booked or not.
ARRIVALS_KEPT = timedelta(days=21)
# Import containers whose empty came back stay on the consignee's page (and in the yard's list) this long.
RETURNED_KEPT = timedelta(days=7)
# The port's arriving vessels: due in the next days, or arrived lately with containers still aboard.
PORT_ARRIVALS_DAYS = 14
OUTBOUND_DAYS = 3
AT_THE_PORT = (S.ARRIVING, S.AT_TERMINAL, S.ON_TRAIN)


def _import_containers() -> QuerySet[Container]:
    return Container.objects.filter(booking__direction=Direction.IMPORT).select_related(
        "booking__departure__service__station", "booking__departure__service__terminal", "booking__vessel_call")


# --- The consignee ---------------------------------------------------------------------------------------


def consignee_arrivals(actor: Actor, *, now: datetime | None = None) -> list[ArrivingContainer]:
    """The containers announced for the consignee on vessels due or arrived lately, by vessel, B/L and number."""
    now = now or timezone.now()
    return list(arrivals_visible(actor).select_related("vessel_call__terminal", "booking")
                .filter(Q(vessel_call__eta__gte=now - ARRIVALS_KEPT) | Q(booking__isnull=True,
                                                                          vessel_call__actual_departure__isnull=True))
                .order_by("vessel_call__eta", "vessel_call__reference", "bl_number", "number")[:inbound.MAX_ANNOUNCED])


def consignee_containers(actor: Actor, *, now: datetime | None = None) -> list[Container]:
    """The import containers of the consignee's bookings still on their way, waiting or out, and those returned
    lately; with their holds and free time."""
    now = now or timezone.now()
    rows = (import_containers_visible(actor).select_related("booking__departure__service__terminal")
            .filter(Q(is_active=True) | Q(returned_at__gte=now - RETURNED_KEPT))
            .order_by("booking__reference", "number"))
    return with_holds_and_free_time(list(rows), now=now)


# --- The station -----------------------------------------------------------------------------------------


def station_import_yard(station: Station, *, now: datetime | None = None) -> dict:
    """The station's import yard: on the track, at the station (available or on hold), gated out to the consignees
    (detention running), returned lately; and the returned empties still in stock."""
    now = now or timezone.now()
    containers = with_holds_and_free_time(list(
        _import_containers().filter(booking__departure__service__station=station)
        .filter(Q(is_active=True, status__in=[S.AT_STATION_TRACK, S.AT_STATION, S.DELIVERED])
                | Q(status=S.RETURNED, returned_at__gte=now - RETURNED_KEPT))
        .order_by("last_event_at", "number")), now=now)
    by_status = {status: [c for c in containers if c.status == status]
                 for status in (S.AT_STATION_TRACK, S.AT_STATION, S.DELIVERED, S.RETURNED)}
    return {
        "on_track": by_status[S.AT_STATION_TRACK],
        "available": [c for c in by_status[S.AT_STATION] if c.available],
        "on_hold": [c for c in by_status[S.AT_STATION] if not c.available],
        "waiting_count": len(by_status[S.AT_STATION]),
        "delivered": by_status[S.DELIVERED],
        "returned": by_status[S.RETURNED],
        "stock": returned_stock(station),
    }


def returned_stock(station: Station) -> list[ReturnedEmpty]:
    """The import empties returned at the station and not yet handed out again, oldest first."""
    return list(ReturnedEmpty.objects.filter(station=station, used_at__isnull=True).order_by("returned_at", "id"))


# --- The port --------------------------------------------------------------------------------------------


def _terminals_of(actor: Actor) -> Q:
    return Q() if actor.kind == PartyKind.PLATFORM_ADMIN else Q(terminal__operator=actor.organisation)


def port_arriving_calls(actor: Actor, *, now: datetime | None = None) -> QuerySet[VesselCall]:
    """The vessels calling at the port's terminals that bring imports: due in the next days, or arrived and with
    announced containers not yet discharged; with their announced, discharged and booked counts."""
    now = now or timezone.now()
    aboard = Q(pk__in=ArrivingContainer.objects.filter(discharged_at__isnull=True).values("vessel_call"))
    discharged = Q(arriving_containers__discharged_at__isnull=False)
    return (VesselCall.objects.select_related("terminal")
            .filter(_terminals_of(actor))
            .filter(Q(eta__gte=now - timedelta(days=2), eta__lte=now + timedelta(days=PORT_ARRIVALS_DAYS),
                      actual_departure__isnull=True) | (Q(actual_arrival__isnull=False) & aboard))
            .annotate(announced=Count("arriving_containers"),
                      discharged=Count("arriving_containers", filter=discharged),
                      booked=Count("arriving_containers", filter=Q(arriving_containers__booking__isnull=False)))
            .order_by("eta", "reference"))


def port_call(actor: Actor, reference: str) -> VesselCall | None:
    return VesselCall.objects.select_related("terminal").filter(_terminals_of(actor), reference=reference).first()


def call_arrivals(call: VesselCall) -> list[ArrivingContainer]:
    """A vessel call's announced containers, with the status of the container each booking took inland."""
    rows = list(ArrivingContainer.objects.filter(vessel_call=call)
                .select_related("consignee", "port_of_loading", "booking__departure")
                .order_by("bl_number", "number"))
    statuses = dict(Container.objects.filter(booking_id__in={r.booking_id for r in rows if r.booking_id},
                                             number__in=[r.number for r in rows], is_active=True)
                    .values_list("number", "status"))
    for row in rows:
        row.container_status = statuses.get(row.number) if row.booking_id else None
        row.container_status_label = S(row.container_status).label if row.container_status else ""
        row.holds = [kind for kind in (HoldKind.FREIGHT, HoldKind.TERMINAL) if getattr(row, f"{kind}_hold")]
    return rows


def port_outbound_departures(actor: Actor, *, now: datetime | None = None) -> list[Departure]:
    """The import departures from the port's terminals of the next days, and any earlier still open: each with
    `outbound` (its booked containers at the terminal or loaded) and `ready_count` (discharged, not loaded)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    departures = list(
        departure_list().filter(service__direction=Direction.IMPORT)
        .filter(Q() if actor.kind == PartyKind.PLATFORM_ADMIN else Q(service__terminal__operator=actor.organisation))
        .filter(status__in=[DepartureStatus.SCHEDULED, DepartureStatus.CLOSED])
        .filter(Q(service_date__lte=today + timedelta(days=OUTBOUND_DAYS))
                & (Q(service_date__gte=today) | Q(bookings__containers__is_active=True)))
        .distinct().order_by("planned_departure", "reference"))
    on_departure: dict[int, list[Container]] = {d.pk: [] for d in departures}
    for container in (Container.objects.filter(booking__departure__in=departures, is_active=True,
                                               booking__status__in=HOLDS_CAPACITY, status__in=AT_THE_PORT)
                      .select_related("booking").order_by("booking__reference", "number")):
        on_departure[container.booking.departure_id].append(container)
    for departure in departures:
        departure.outbound = on_departure[departure.pk]
        departure.ready_count = sum(1 for c in departure.outbound if c.status == S.AT_TERMINAL)
    return departures


def port_departure(actor: Actor, reference: str) -> Departure | None:
    """A departure from one of the port's terminals (the import steps refuse an export's containers)."""
    return (Departure.objects.select_related("service__terminal", "service__station")
            .filter(Q() if actor.kind == PartyKind.PLATFORM_ADMIN
                    else Q(service__terminal__operator=actor.organisation), reference=reference).first())
