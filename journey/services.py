"""The container journey (DESIGN.md section 4), one service function per step.

Each step checks the container's state and the actor's place (station staff at their stations, a railway
on its services, the port at its terminals), writes the new state, and records the event and its outbox row,
all in one transaction; a step that does not follow is refused (StateConflict -> 409) and writes nothing.
Departure- and vessel-level steps move every container on board. Lock order: departure or vessel call,
then containers, then bookings.
"""

import contextlib
from collections.abc import Collection, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Max, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings.models import (
    HOLDS_CAPACITY,
    Booking,
    BookingChange,
    BookingLine,
    BookingStatus,
    Container,
    ContainerStatus,
    EmptyRequest,
    EmptyRequestStatus,
)
from bookings.services import (
    CONTAINER_DETAILS,
    assignment_deferred,
    assignments_deferred,
    container_assign,
    container_check_loadable_on_vessel,
    container_details_set,
    container_update,
    station_place,
)
from customs.selectors import released_bookings
from customs.services import container_released, vessel_loading_customs_check
from databases import bulk
from databases.prepared import instances
from inbound.models import ArrivingContainer, ReturnedEmpty
from inbound.services import arrivals_of, returned_empties_locked, returned_empty_locked
from intermodal.access import Actor
from intermodal.codes import Classifier, EmptyIndicator, EventType, FacilityKind, ModeOfTransport
from intermodal.errors import ApplicationError, InvalidInput, NotAllowed, StateConflict
from intermodal.events import event_build, event_record, events_append
from intermodal.models import PartyKind
from journey.plausibility import before_previous, far_from_plan, require_plausible, too_fast
from stations.models import Departure, DepartureStatus, Direction, Service, Station, Terminal, VesselCall

S = ContainerStatus
# How far ahead of the clock a reported time may be (clocks at gates and in partners' systems drift).
FUTURE_TOLERANCE = timedelta(minutes=10)

# --- Who may act where -----------------------------------------------------------------------------------


def _refuse_actor(message: str) -> NotAllowed:
    return NotAllowed(message, code="not_your_place")


def _require_station_staff(actor: Actor, station: Station) -> None:
    if actor.kind == PartyKind.PLATFORM_ADMIN:
        return
    if actor.kind != PartyKind.STATION_OPERATOR or station.operator_id != getattr(actor.organisation, "pk", None):
        raise _refuse_actor(_("Only staff of station %(station)s can record this.") % {"station": station.code})


def _require_railway(actor: Actor, departure: Departure) -> None:
    if actor.kind == PartyKind.PLATFORM_ADMIN:
        return
    if actor.kind != PartyKind.RAILWAY or departure.service.operator_id != getattr(actor.organisation, "pk", None):
        raise _refuse_actor(
            _("Only the operator of service %(service)s can report on departure %(ref)s.")
            % {"service": departure.service.code, "ref": departure.reference}
        )


def _require_port(actor: Actor, terminal: Terminal) -> None:
    if actor.kind == PartyKind.PLATFORM_ADMIN:
        return
    if actor.kind != PartyKind.PORT or terminal.operator_id != getattr(actor.organisation, "pk", None):
        raise _refuse_actor(
            _("Only the port company of terminal %(terminal)s can record this.") % {"terminal": terminal.code}
        )


# --- Shared pieces ---------------------------------------------------------------------------------------

_CONTAINER_RELATED = (
    "booking__departure__service__station",
    "booking__departure__service__terminal",
    "booking__vessel_call__terminal",
)


def _routes_attach(bookings: list[Booking]) -> None:
    """What `_CONTAINER_RELATED` selects, for a run's bookings: their departures (with the service's station and
    terminal) and vessel calls (with the terminal), each read once and shared by the bookings that name it.
    Selected with every container, the same seven rows came again for each (150 columns a row, made into
    instances one by one): a third of what reading a run's containers cost in Python."""
    departures = {departure.pk: departure for departure in instances(
        Departure.objects.select_related("service__station", "service__terminal")
        .filter(pk__in=sorted({booking.departure_id for booking in bookings})))}
    calls = {call.pk: call for call in instances(VesselCall.objects.select_related("terminal").filter(
        pk__in=sorted({booking.vessel_call_id for booking in bookings})))}
    departure, vessel_call = Booking.departure.field, Booking.vessel_call.field
    for booking in bookings:
        departure.set_cached_value(booking, departures[booking.departure_id])
        vessel_call.set_cached_value(booking, calls[booking.vessel_call_id])


def _active_container(number: str, *, lock: bool = True) -> Container:
    number = (number or "").strip().upper().replace(" ", "")
    pending = _deferred.get()
    if pending is not None and number in pending.locked:
        return pending.locked[number]  # locked when the run began, and this step is its only one in the run
    queryset = Container.objects.select_related(*_CONTAINER_RELATED).filter(number=number, is_active=True)
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    container = queryset.first()
    if container is None:
        raise StateConflict(
            _("Container %(number)s is not in any active booking.") % {"number": number}, code="unknown_container"
        )
    return container


def active_container_found(number: str) -> Container | None:
    """The active container `number` as a step would take it, without locking: in a run, the row read and locked
    when it began (no query); else read with its booking, departure and vessel call. None if there is none."""
    try:
        return _active_container(number, lock=False)
    except StateConflict:
        return None


def _require_status(container: Container, allowed: Iterable[str], step: str) -> None:
    if container.status not in allowed:
        raise StateConflict(
            _("Container %(number)s is %(status)s: it cannot be %(step)s now.")
            % {"number": container.number, "status": container.get_status_display().lower(), "step": step},
            code="illegal_step",
        )


def _terminal_place(terminal: Terminal) -> dict:
    return {
        "facility_kind": FacilityKind.TERMINAL,
        "facility_code": terminal.code,
        "location_unlocode": terminal.unlocode,
    }


def _origin_place(service: Service) -> dict:
    """Where the service's trains leave: the station (exports) or the terminal (imports)."""
    return _terminal_place(service.terminal) if service.is_import else station_place(service.station)


def _destination_place(service: Service) -> dict:
    return station_place(service.station) if service.is_import else _terminal_place(service.terminal)


# --- A run of container steps written together ------------------------------------------------------------


@dataclass
class _Deferred:
    """What the container steps of a run wrote, kept to be written together (`steps_deferred`)."""

    events: list = field(default_factory=list)
    containers: dict = field(default_factory=dict)  # pk -> (container, the fields its step changed)
    bookings: set = field(default_factory=set)
    locked: dict = field(default_factory=dict)  # number -> the container, read and locked once for the run
    departures: dict = field(default_factory=dict)  # pk -> the departure, read and locked once for the run
    requests: dict = field(default_factory=dict)  # pk -> the empty request, read and locked once for the run
    requests_changed: dict = field(default_factory=dict)  # pk -> (request, the fields its hand-out changed)
    free_time_from: set = field(default_factory=set)  # bookings whose free time starts today at the latest
    matched: list = field(default_factory=list)  # (returned empty, the container it went out as): match-back
    # Import steps: the announcements to discharge from the vessel, read and locked once for the run (number ->
    # the latest undischarged one, None: none), those discharged, the empties returned, and what the run's steps
    # read once for all of them (run_memo).
    arrivals: dict = field(default_factory=dict)
    arrivals_changed: dict = field(default_factory=dict)  # pk -> arrival
    returned: list = field(default_factory=list)  # ReturnedEmpty rows to write
    memo: dict = field(default_factory=dict)
    # A run of trains' departures and arrivals (transports_deferred):
    departures_changed: dict = field(default_factory=dict)  # pk -> (departure, the fields its step changed)
    moves: dict = field(default_factory=dict)  # departure pk -> (status on board before, after, at)
    last_loaded: dict = field(default_factory=dict)  # departure pk -> its last container's loading
    left_at_station: dict = field(default_factory=dict)  # departure pk -> its gated-in containers, locked
    changes: list = field(default_factory=list)  # BookingChange rows (a gate-in's seal and VGM) to write
    numbers: list = field(default_factory=list)  # the containers the run's steps name


_deferred: ContextVar[_Deferred | None] = ContextVar("journey_deferred", default=None)


@contextlib.contextmanager
def steps_deferred(numbers: Iterable[str], *, trains_of: Iterable[str] = (), import_trains_only: bool = False,
                   discharges: Iterable[str] = (), requests: Iterable[int] = ()):
    """Container steps (gate-ins, loads, discharges, both directions) of the containers `numbers` run inside with
    every check as usual, on rows read and locked once for the run, in the services' order and by id: the
    departures of the containers `trains_of` (loaded on their trains; `import_trains_only`: of the imports among
    them, the port's loads being exports' onto the vessel), the announcements of the containers `discharges` not
    yet discharged from their vessel, then the containers. Their writes are kept and made together
    as the block ends: one INSERT of the events, one of their outbox rows, one UPDATE of the containers per set of
    changed fields, then the bookings' statuses in the order of their ids. Each step inside runs in
    `step_deferred`, so a refused one leaves nothing kept; a container takes one step per block (its next step
    reads what this one wrote). Raises what the writes raise: the caller's savepoint then undoes the whole run.

    Empties handed out (`requests`: the empty requests they serve) are read and locked once too, with their
    bookings (bookings.services.assignments_deferred); the new containers, their history rows, the requests' counts
    and the bookings' free time are written together as well."""
    pending = _Deferred()
    requests = sorted({pk for pk in requests if pk is not None})
    if requests:
        pending.requests = {
            request.pk: request for request in instances(EmptyRequest.objects.select_for_update(of=("self",))
            .select_related("booking__departure__service__station", "booking__vessel_call")
            .filter(pk__in=requests).order_by("pk"))}
        with assignments_deferred([request.booking_id for request in pending.requests.values()], numbers):
            yield from _deferred_run(pending, numbers, trains_of, import_trains_only, discharges)
        _hand_outs_write(pending)
        return
    yield from _deferred_run(pending, numbers, trains_of, import_trains_only, discharges)


def _write_changed(model, changed) -> None:
    """Rows changed in memory, (row, the fields changed): one UPDATE per set of fields, rows in the order of ids."""
    by_fields: dict[tuple[str, ...], list] = {}
    for row, fields in changed:
        by_fields.setdefault(fields, []).append(row)
    for fields, rows in by_fields.items():
        bulk.rows_update(model, rows, fields)


def _hand_outs_write(pending: _Deferred) -> None:
    _write_changed(EmptyRequest, pending.requests_changed.values())
    for stock in pending.matched:  # their containers are written now
        stock.used_by_id = stock.used_by.pk
    bulk.rows_update(ReturnedEmpty, pending.matched, ["used_at", "used_by"])
    today = timezone.localdate()
    Booking.objects.filter(pk__in=sorted(pending.free_time_from)).filter(
        Q(free_time_start__isnull=True) | Q(free_time_start__gt=today)).update(free_time_start=today)


def _deferred_run(pending: _Deferred, numbers: Iterable[str], trains_of: Iterable[str], import_trains_only: bool,
                  discharges: Iterable[str]):
    numbers = pending.numbers = sorted(set(numbers))
    trains_of = sorted(trains_of)
    if trains_of:
        booked_on = Container.objects.filter(number__in=trains_of, is_active=True)
        if import_trains_only:
            booked_on = booked_on.filter(booking__direction=Direction.IMPORT)
        pending.departures = _departures_locked(booked_on.values("booking__departure_id"))
    discharges = sorted(set(discharges))
    if discharges:
        pending.arrivals = dict.fromkeys(discharges)
        to_discharge = (ArrivingContainer.objects.select_for_update(of=("self",))
                        .select_related("vessel_call__terminal")
                        .filter(number__in=discharges, discharged_at__isnull=True).order_by("pk"))
        for arrival in instances(to_discharge):
            latest = pending.arrivals[arrival.number]
            if latest is None or (arrival.vessel_call.eta, arrival.vessel_call_id) > (latest.vessel_call.eta,
                                                                                      latest.vessel_call_id):
                pending.arrivals[arrival.number] = arrival
    containers = instances(Container.objects.select_for_update(of=("self",)).select_related("booking")
                           .filter(number__in=numbers, is_active=True).order_by("pk"))
    _routes_attach([container.booking for container in containers])
    pending.locked = {container.number: container for container in containers}
    yield from _deferred_block(pending)


def _deferred_block(pending: _Deferred):
    """Run the block with `pending` kept for its steps, then make their writes: the events and their outbox rows,
    the departures, the containers on board of each train, the containers, the bookings' statuses."""
    token = _deferred.set(pending)
    try:
        yield
    finally:
        _deferred.reset(token)
    events_append(pending.events)
    _write_changed(ArrivingContainer, [(arrival, ("discharged_at",)) for arrival in pending.arrivals_changed.values()])
    _write_changed(Departure, pending.departures_changed.values())
    pending.bookings.update(_moves_write(pending.moves))
    _write_changed(Container, pending.containers.values())
    BookingChange.objects.bulk_create(pending.changes)
    ReturnedEmpty.objects.bulk_create(pending.returned)
    _bookings_refresh(pending.bookings)


def run_memo(key, make):
    """What `make()` gives, read once for a deferred run and shared by its steps (what no step of a run
    changes); outside a run, read afresh."""
    pending = _deferred.get()
    if pending is None:
        return make()
    if key not in pending.memo:
        pending.memo[key] = make()
    return pending.memo[key]


def customs_released(container: Container) -> bool:
    """Whether customs released the container's booking (customs.services.container_released): in a run, read
    once for all of its containers."""
    pending = _deferred.get()
    if pending is None or container.number not in pending.locked:
        return container_released(container)
    released = run_memo("released", lambda: released_bookings({c.booking_id for c in pending.locked.values()}))
    return container.booking_id in released


def announcement_of(container: Container) -> ArrivingContainer | None:
    """The port's announcement of an import container (its freight and terminal holds): in a run, read once for
    all of its import containers."""
    pending = _deferred.get()
    if pending is None or container.number not in pending.locked:
        announced = arrivals_of([container])
    else:
        announced = run_memo("announced", lambda: arrivals_of(
            c for c in pending.locked.values() if c.booking.direction == Direction.IMPORT))
    return announced.get((container.booking_id, container.number))


def announced_to_discharge(number: str, *, lock: bool = True) -> ArrivingContainer | None:
    """The latest announcement of `number` not yet discharged from its vessel (None: none): in a run that read
    it when it began, with no query; else read (and locked)."""
    pending = _deferred.get()
    if pending is not None and number in pending.arrivals:
        return pending.arrivals[number]
    queryset = ArrivingContainer.objects.select_related("vessel_call__terminal").filter(
        number=number, discharged_at__isnull=True).order_by("-vessel_call__eta", "-vessel_call_id")
    return (queryset.select_for_update(of=("self",)) if lock else queryset).first()


def arrival_discharged(arrival: ArrivingContainer, at: datetime) -> None:
    """The announced container is off its vessel: written now or, in a run, with the run's writes."""
    arrival.discharged_at = at
    pending = _deferred.get()
    if pending is None:
        arrival.save(update_fields=["discharged_at"])
    else:
        pending.arrivals_changed[arrival.pk] = arrival


def returned_empty_write(stock: ReturnedEmpty) -> None:
    """A returned empty into the station's stock: written now or, in a run, with the run's writes."""
    pending = _deferred.get()
    if pending is None:
        stock.save()
    else:
        pending.returned.append(stock)


def event_write(**fields):
    """An event (intermodal.events) recorded now or, in a run, with the run's events."""
    pending = _deferred.get()
    event = (event_build if pending is not None else event_record)(**fields)
    if pending is not None:
        pending.events.append(event)
    return event


def _departures_locked(ids) -> dict[int, Departure]:
    """The departures (ids, or a query of them), locked in the order of their ids, by id."""
    return {departure.pk: departure for departure in Departure.objects.select_for_update(of=("self",))
            .select_related("service__station", "service__terminal", "service__operator")
            .filter(pk__in=ids).order_by("pk")}


@contextlib.contextmanager
def transports_deferred(departure_ids: Iterable[int]):
    """Trains' departures and arrivals (DEPA, ARRI on a departure) of the departures `departure_ids` run inside
    with every check as usual, on rows read once for the run: the departures locked in the order of their ids,
    their last loadings, and the containers gated in for them (left behind should the train leave), locked.
    Their writes are kept and made together as the block ends: one INSERT of the events, one of their outbox rows,
    one UPDATE of the departures per set of changed fields, one UPDATE moving the containers on board of every
    departure, one of the containers left behind, then the bookings' statuses in the order of their ids. A
    departure takes one step per block (its arrival reads what its departure wrote). Each step runs in
    `step_deferred`; raises what the writes raise, and the caller's savepoint then undoes the whole run."""
    ids = sorted(set(departure_ids))
    pending = _Deferred()
    pending.departures = _departures_locked(ids)
    pending.last_loaded = dict(
        Container.objects.filter(booking__departure_id__in=ids, is_active=True, status=S.ON_TRAIN)
        .values("booking__departure_id").annotate(at=Max("last_event_at")).values_list("booking__departure_id", "at")
        .order_by())
    for container in (Container.objects.select_for_update(of=("self",)).select_related(*_CONTAINER_RELATED)
                      .filter(Q(booking__departure__service__direction=Direction.EXPORT, status=S.GATED_IN)
                              | Q(booking__departure__service__direction=Direction.IMPORT, status=S.AT_TERMINAL),
                              booking__departure_id__in=ids, is_active=True).order_by("pk")):
        pending.left_at_station.setdefault(container.booking.departure_id, []).append(container)
    yield from _deferred_block(pending)


def _moves_write(moves: dict) -> set[int]:
    """Each departure's containers on board from one status to the next, at its time: one UPDATE for all; the
    bookings they belong to."""
    if not moves:
        return set()
    rows = [(pk, before, after, at) for pk, (before, after, at) in sorted(moves.items())]
    values = ", ".join(["(%s::bigint, %s::text, %s::text, %s::timestamptz)"] * len(rows))
    container, booking = Container._meta.db_table, Booking._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {container} AS c SET status = v.after, last_event_at = v.at "  # noqa: S608 - model tables
            f"FROM (VALUES {values}) AS v(departure_id, before, after, at), {booking} AS b "
            "WHERE c.booking_id = b.id AND b.departure_id = v.departure_id AND c.is_active AND c.status = v.before "
            "RETURNING c.booking_id",
            [value for row in rows for value in row])
        return {booking_id for (booking_id,) in cursor.fetchall()}


@contextlib.contextmanager
def step_deferred():
    """One step of a deferred run: what it kept is dropped again should it be refused."""
    pending = _deferred.get()
    if pending is None:
        yield
        return
    events, containers, bookings = len(pending.events), set(pending.containers), set(pending.bookings)
    requests = {pk: (request, request.handed_out, request.status, request.picked_up_at, fields)
                for pk, (request, fields) in pending.requests_changed.items()}
    free_time_from = set(pending.free_time_from)
    matched = len(pending.matched)
    discharged, returned = set(pending.arrivals_changed), len(pending.returned)
    departures_changed, moves = set(pending.departures_changed), set(pending.moves)
    changes = len(pending.changes)
    try:
        with assignment_deferred():
            yield
    except BaseException:
        del pending.events[events:]
        for pk in set(pending.containers) - containers:
            del pending.containers[pk]
        for pk in set(pending.departures_changed) - departures_changed:
            del pending.departures_changed[pk]
        for pk in set(pending.moves) - moves:
            del pending.moves[pk]
        pending.bookings.clear()
        pending.bookings.update(bookings)
        pending.requests_changed = {pk: (request, fields) for pk, (request, *_was, fields) in requests.items()}
        for request, handed_out, status, picked_up_at, _fields in requests.values():
            request.handed_out, request.status, request.picked_up_at = handed_out, status, picked_up_at
        pending.free_time_from = free_time_from
        del pending.matched[matched:]
        for pk in set(pending.arrivals_changed) - discharged:
            pending.arrivals_changed.pop(pk).discharged_at = None
        del pending.returned[returned:]
        del pending.changes[changes:]
        raise


def step_transaction():
    """A container step's own transaction: a savepoint of its own when it runs alone, none in a run of steps
    (steps_deferred), where a step writes nothing itself but keeps its writes for the run, so a refused one is
    undone by step_deferred dropping what it kept; a savepoint per step was two round trips a container."""
    return contextlib.nullcontext() if _deferred.get() is not None else transaction.atomic()


def _booking_refresh_after(booking: Booking) -> None:
    """The booking's status from its containers, now or, in a deferred run, once its containers are written."""
    pending = _deferred.get()
    if pending is None:
        booking_status_refresh(booking)
    else:
        pending.bookings.add(booking.pk)


def _equipment_event(
    container: Container,
    actor: Actor,
    code: str,
    *,
    empty: bool = False,
    place: dict,
    at: datetime | None = None,
    transport: dict | None = None,
    details: dict | None = None,
):
    pending = _deferred.get()
    event = (event_build if pending is not None else event_record)(
        event_type=EventType.EQUIPMENT,
        event_code=code,
        classifier=Classifier.ACTUAL,
        event_datetime=at,
        organisation=actor.organisation,
        user=actor.user,
        equipment_reference=container.number,
        empty_indicator=EmptyIndicator.EMPTY if empty else EmptyIndicator.LADEN,
        booking_reference=container.booking.reference,
        **place,
        **(transport or {}),
        details={"size_type": container.size_type, **(details or {})},
    )
    if pending is not None:
        pending.events.append(event)
    container.last_event_at = event.event_datetime
    return event


def _transport_event(actor: Actor, code: str, at: datetime, *, place: dict, transport: dict, **extra):
    pending = _deferred.get()
    event = (event_build if pending is not None else event_record)(
        event_type=EventType.TRANSPORT,
        event_code=code,
        event_datetime=at,
        organisation=actor.organisation,
        user=actor.user,
        **place,
        **transport,
        **extra,
    )
    if pending is not None:
        pending.events.append(event)
    return event


def _rail(departure: Departure) -> dict:
    return {"mode_of_transport": departure.service.mode, "transport_reference": departure.reference}


def _vessel(call: VesselCall) -> dict:
    return {"mode_of_transport": ModeOfTransport.VESSEL, "transport_reference": call.reference}


def _move(container: Container, status: str, *extra_fields: str) -> None:
    container.status = status
    fields = ("status", "last_event_at", *extra_fields)
    pending = _deferred.get()
    if pending is None:
        container.save(update_fields=list(fields))
    else:
        pending.containers[container.pk] = (container, fields)


def _require_after_last_step(container: Container, at: datetime, step: str, *, confirmed: bool,
                             previous_at: datetime | None = None, extra: Iterable[str | None] = ()) -> None:
    """A container's step after its previous one (journey.plausibility), unless the reporter confirms it."""
    previous_at = previous_at or container.last_event_at
    require_plausible([
        before_previous(step % {"number": container.number}, at, _("its previous step"), previous_at), *extra,
    ], confirmed=confirmed)


_ORDER = [
    S.ASSIGNED,
    S.EMPTY_READY,
    S.EMPTY_OUT,
    S.GATED_IN,
    S.ON_TRAIN,
    S.DEPARTED,
    S.ARRIVED,
    S.DISCHARGED,
    S.AT_TERMINAL,
    S.ON_VESSEL,
    S.SAILED,
]
_BOOKING_ORDER = [
    BookingStatus.CONFIRMED,
    BookingStatus.IN_TRANSIT,
    BookingStatus.AT_PORT,
    BookingStatus.LOADED,
    BookingStatus.SAILED,
]


def booking_status_refresh(booking: Booking) -> Booking:
    """Derive the booking's status from its containers' progress; it only moves forward."""
    booking = Booking.objects.select_for_update().get(pk=booking.pk)
    statuses = list(booking.containers.exclude(is_active=False, status=S.ASSIGNED).values_list("status", flat=True))
    new = _status_derived(booking, statuses, sum(line.quantity for line in booking.lines.all()))
    if new is not None:
        booking.status = new
        booking.save(update_fields=["status", "updated_at"])
    return booking


def _bookings_refresh(booking_ids: Iterable[int]) -> None:
    """booking_status_refresh for the bookings of a run at once: locked in the order of their ids by one statement,
    their containers' statuses and booked quantities read by one each, those whose status moves written by one
    UPDATE (five statements a booking, one by one)."""
    ids = sorted(set(booking_ids))
    if not ids:
        return
    bookings = list(Booking.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    statuses: dict[int, list[str]] = {}
    for booking_id, status in (Container.objects.filter(booking_id__in=ids).exclude(is_active=False, status=S.ASSIGNED)
                               .values_list("booking_id", "status")):
        statuses.setdefault(booking_id, []).append(status)
    expected = dict(BookingLine.objects.filter(booking_id__in=ids).order_by().values("booking_id")
                    .annotate(quantity=Sum("quantity")).values_list("booking_id", "quantity"))
    now, moved = timezone.now(), []
    for booking in bookings:
        new = _status_derived(booking, statuses.get(booking.pk, []), expected.get(booking.pk, 0))
        if new is not None:
            booking.status, booking.updated_at = new, now
            moved.append(booking)
    bulk.rows_update(Booking, moved, ["status", "updated_at"])


def _status_derived(booking: Booking, statuses: list[str], expected: int) -> str | None:
    """The status the booking's containers (their `statuses`; `expected` of them booked) put it in, if that is a
    step forward; else None."""
    order = _IMPORT_BOOKING_ORDER if booking.is_import else _BOOKING_ORDER
    if booking.status not in order or not statuses:
        return None
    new = _import_status(statuses) if booking.is_import else _export_status(statuses, expected)
    return new if order.index(new) > order.index(booking.status) else None


def _export_status(statuses: list[str], expected: int) -> str:
    rank = [_ORDER.index(s) for s in statuses]
    complete = len(statuses) >= expected
    if complete and min(rank) >= _ORDER.index(S.SAILED):
        return BookingStatus.SAILED
    if complete and min(rank) >= _ORDER.index(S.ON_VESSEL):
        return BookingStatus.LOADED
    if max(rank) >= _ORDER.index(S.ARRIVED) and all(
        r >= _ORDER.index(S.ARRIVED) for r in rank if r >= _ORDER.index(S.ON_TRAIN)
    ):
        return BookingStatus.AT_PORT
    if max(rank) >= _ORDER.index(S.ON_TRAIN):
        return BookingStatus.IN_TRANSIT
    return BookingStatus.CONFIRMED


_IMPORT_ORDER = [S.ARRIVING, S.AT_TERMINAL, S.ON_TRAIN, S.INLAND, S.AT_STATION_TRACK, S.AT_STATION, S.DELIVERED,
                 S.RETURNED]
_IMPORT_BOOKING_ORDER = [BookingStatus.CONFIRMED, BookingStatus.AT_PORT, BookingStatus.IN_TRANSIT,
                         BookingStatus.AT_STATION, BookingStatus.DELIVERED]


def _import_status(statuses: list[str]) -> str:
    """An import booking's status: at the port once a container is discharged from the vessel, in transit once one
    is on the train, at the station once all arrived there, delivered once all went to the consignee."""
    rank = [_IMPORT_ORDER.index(status) for status in statuses]
    if min(rank) >= _IMPORT_ORDER.index(S.DELIVERED):
        return BookingStatus.DELIVERED
    if min(rank) >= _IMPORT_ORDER.index(S.AT_STATION_TRACK):
        return BookingStatus.AT_STATION
    if max(rank) >= _IMPORT_ORDER.index(S.ON_TRAIN):
        return BookingStatus.IN_TRANSIT
    if max(rank) >= _IMPORT_ORDER.index(S.AT_TERMINAL):
        return BookingStatus.AT_PORT
    return BookingStatus.CONFIRMED


# --- Empties ---------------------------------------------------------------------------------------------


def _locked_request(request: EmptyRequest) -> EmptyRequest:
    pending = _deferred.get()
    if pending is not None and request.pk in pending.requests:
        return pending.requests[request.pk]  # locked when the run began
    return (
        EmptyRequest.objects.select_for_update(of=("self",))
        .select_related("booking__departure__service__station", "booking__vessel_call")
        .get(pk=request.pk)
    )


def empty_request_ready(*, actor: Actor, request: EmptyRequest, at: datetime | None = None) -> EmptyRequest:
    """Station staff: the empties are ready for pick-up (AVPU, EMPTY), now or at `at` (a report after the fact:
    not before the request, not in the future)."""
    now = timezone.now()
    with transaction.atomic():
        request = _locked_request(request)
        station = request.booking.departure.service.station
        _require_station_staff(actor, station)
        if request.status != EmptyRequestStatus.REQUESTED:
            raise StateConflict(
                _("This request is %(status)s.") % {"status": request.get_status_display().lower()}, code="illegal_step"
            )
        at = at or now
        if at > now + FUTURE_TOLERANCE or at < request.requested_at:
            raise InvalidInput(errors={"event_datetime": [
                _("Empties are ready between the request (%(requested)s) and now.")
                % {"requested": timezone.localtime(request.requested_at).strftime("%Y-%m-%d %H:%M")}]})
        request.status = EmptyRequestStatus.READY
        request.ready_at = at
        request.save(update_fields=["status", "ready_at"])
        event_record(
            event_type=EventType.EQUIPMENT,
            event_code="AVPU",
            event_datetime=at,
            organisation=actor.organisation,
            user=actor.user,
            empty_indicator=EmptyIndicator.EMPTY,
            booking_reference=request.booking.reference,
            **station_place(station),
            details={"empty_request": request.pk, "size_type": request.size_type, "quantity": request.quantity},
        )
    return request


def _stock_in_run(station: Station) -> dict | None:
    """In a run of hand-outs: the station's returned empties among the run's numbers, read and locked once for the
    run (match-back); outside a run, None (each hand-out reads its own)."""
    pending = _deferred.get()
    if pending is None:
        return None
    return run_memo(("returned empties", station.pk), lambda: returned_empties_locked(station, pending.numbers))


def requests_in_run() -> Collection[int] | None:
    """The ids of the empty requests of a run of hand-outs (read and locked when it began), not copied: each of
    the run's items asks; None outside a run."""
    pending = _deferred.get()
    return None if pending is None else pending.requests.keys()


def empty_hand_out(*, actor: Actor, request: EmptyRequest, number: str) -> Container:
    """Station staff hand an empty to the shipper's truck: the number goes on the booking (GTOT, EMPTY)."""
    with step_transaction():
        request = _locked_request(request)
        station = request.booking.departure.service.station
        _require_station_staff(actor, station)
        if request.status not in (EmptyRequestStatus.REQUESTED, EmptyRequestStatus.READY):
            raise StateConflict(
                _("This request is %(status)s.") % {"status": request.get_status_display().lower()}, code="illegal_step"
            )
        matched = returned_empty_locked(request, number, stock=_stock_in_run(station))
        container = container_assign(
            actor=actor, booking=request.booking, number=number, size_type=request.size_type, status=S.EMPTY_OUT
        )
        container.booking = request.booking
        if matched is not None:  # match-back: an import's empty goes out again for this export
            matched.used_at, matched.used_by = timezone.now(), container
            if _deferred.get() is not None:  # the container is written with the run's others: linked then
                _deferred.get().matched.append(matched)
            else:
                matched.save(update_fields=["used_at", "used_by"])
        _equipment_event(
            container, actor, "GTOT", empty=True, place=station_place(station), details={"empty_request": request.pk}
        )
        request.handed_out += 1
        fields = ["handed_out"]
        if request.handed_out == request.quantity:
            request.status = EmptyRequestStatus.PICKED_UP
            request.picked_up_at = timezone.now()
            fields += ["status", "picked_up_at"]
        booking = request.booking
        pending = _deferred.get()
        if pending is not None:  # written with the run's others (the container, last_event_at included)
            pending.requests_changed[request.pk] = (request, tuple(fields))
            pending.free_time_from.add(booking.pk)
            return container
        container.save(update_fields=["last_event_at"])
        request.save(update_fields=fields)
        if booking.free_time_start is None or booking.free_time_start > timezone.localdate():
            Booking.objects.filter(pk=booking.pk).update(free_time_start=timezone.localdate())
    return container


# --- At the station --------------------------------------------------------------------------------------


def laden_gate_in(
    *,
    actor: Actor,
    number: str,
    seal_number: str,
    vgm_kg: Decimal,
    vgm_method: int,
    vgm_signatory: str,
    at: datetime | None = None,
    confirmed: bool = False,
) -> Container:
    """The laden container enters the station with its seal and VGM: pre-entry (GTIN, LADEN)."""
    at = at or timezone.now()
    if not seal_number:
        raise InvalidInput(errors={"seal_number": [_("A laden container needs its seal number.")]})
    pending = _deferred.get()
    details = {"seal_number": seal_number, "vgm_kg": vgm_kg, "vgm_method": vgm_method, "vgm_signatory": vgm_signatory}
    with step_transaction():
        container = _active_container(number)
        station = container.booking.departure.service.station
        _require_station_staff(actor, station)
        _require_status(container, [S.ASSIGNED, S.EMPTY_OUT], _("gated in"))
        _require_after_last_step(container, at, _("The gate-in of %(number)s"), confirmed=confirmed)
        if pending is None:
            container = _active_container(container_update(actor=actor, container=container, **details).number)
        else:  # set on the run's locked row, written with its step
            pending.changes.append(container_details_set(actor=actor, container=container, **details))
        _equipment_event(
            container,
            actor,
            "GTIN",
            place=station_place(station),
            at=at,
            details={"seal_number": seal_number, "vgm_kg": str(vgm_kg)},
        )
        _move(container, S.GATED_IN, *(CONTAINER_DETAILS if pending is not None else ()))
    return container


def train_load(
    *, actor: Actor, number: str, departure: Departure | None = None, at: datetime | None = None,
    confirmed: bool = False,
) -> Container:
    """Station staff load a gated-in container on its booked train (LOAD, rail)."""
    at = at or timezone.now()
    with step_transaction():
        found = _active_container(number, lock=False)
        departure = departure or found.booking.departure
        departure = _departure_locked(departure)  # in a run, read and locked when it began
        container = _active_container(number)
        _require_station_staff(actor, container.booking.departure.service.station)
        if container.booking.departure_id != departure.pk:
            raise StateConflict(
                _("Container %(number)s is booked on departure %(booked)s, not %(ref)s.")
                % {
                    "number": container.number,
                    "booked": container.booking.departure.reference,
                    "ref": departure.reference,
                },
                code="wrong_departure",
            )
        if departure.status not in (DepartureStatus.SCHEDULED, DepartureStatus.CLOSED):
            raise StateConflict(
                _("Departure %(ref)s is %(status)s.")
                % {"ref": departure.reference, "status": departure.get_status_display().lower()},
                code="departure_gone",
            )
        _require_status(container, [S.GATED_IN], _("loaded on the train"))
        _require_after_last_step(container, at, _("The loading of %(number)s on the train"), confirmed=confirmed)
        _equipment_event(
            container, actor, "LOAD", place=station_place(departure.service.station), at=at, transport=_rail(departure)
        )
        _move(container, S.ON_TRAIN)
        _booking_refresh_after(container.booking)
        if departure.manifest_confirmed_at is not None:  # the manifest changed: the railway confirms it again
            departure.manifest_confirmed_at = departure.manifest_confirmed_containers = None
            departure.save(update_fields=["manifest_confirmed_at", "manifest_confirmed_containers"])
    return container


def manifest_confirm(*, actor: Actor, departure: Departure) -> Departure:
    """The railway confirms the whole manifest at once: the containers loaded on the train are the ones it takes."""
    with transaction.atomic():
        departure = _departure_locked(departure)
        _require_railway(actor, departure)
        if departure.status not in (DepartureStatus.SCHEDULED, DepartureStatus.CLOSED):
            raise StateConflict(
                _("Departure %(ref)s is %(status)s: its manifest is final.")
                % {"ref": departure.reference, "status": departure.get_status_display().lower()},
                code="departure_gone",
            )
        loaded = Container.objects.filter(booking__departure=departure, is_active=True, status=S.ON_TRAIN).count()
        if not loaded:
            raise StateConflict(_("No container is loaded on train %(ref)s yet: there is nothing to confirm.")
                                % {"ref": departure.reference}, code="nothing_loaded")
        departure.manifest_confirmed_at = timezone.now()
        departure.manifest_confirmed_containers = loaded
        departure.save(update_fields=["manifest_confirmed_at", "manifest_confirmed_containers"])
    return departure


def train_load_all_ready(*, actor: Actor, departure: Departure, confirmed: bool = False) -> list[Container]:
    """Load every gated-in container booked on the departure, in one action."""
    with transaction.atomic():
        departure = (
            Departure.objects.select_for_update(of=("self",)).select_related("service__station").get(pk=departure.pk)
        )
        _require_station_staff(actor, departure.service.station)
        numbers = list(
            Container.objects.filter(
                booking__departure=departure, is_active=True, status=S.GATED_IN, booking__status__in=HOLDS_CAPACITY
            )
            .order_by("number")
            .values_list("number", flat=True)
        )
        return [train_load(actor=actor, number=number, departure=departure, confirmed=confirmed)
                for number in numbers]


def _departure_locked(departure: Departure) -> Departure:
    run = _run_holding(departure)
    if run is not None:
        return run.departures[departure.pk]  # locked when the run began
    return (
        Departure.objects.select_for_update(of=("self",))
        .select_related("service__station", "service__terminal", "service__operator")
        .get(pk=departure.pk)
    )


def train_depart(*, actor: Actor, departure: Departure, at: datetime | None = None, confirmed: bool = False
                 ) -> Departure:
    """The railway reports the train gone (DEPA, rail): every container on board is on its way. A time far from
    the plan, or before the last container was loaded, needs `confirmed` (journey.plausibility)."""
    at = at or timezone.now()
    with transaction.atomic():
        departure = _departure_locked(departure)
        _require_railway(actor, departure)
        if departure.status not in (DepartureStatus.SCHEDULED, DepartureStatus.CLOSED):
            raise StateConflict(
                _("Departure %(ref)s is %(status)s.")
                % {"ref": departure.reference, "status": departure.get_status_display().lower()},
                code="illegal_step",
            )
        what = _("The departure of train %(ref)s") % {"ref": departure.reference}
        run = _run_holding(departure)
        if run is not None:
            last_loaded = run.last_loaded.get(departure.pk)
        else:
            last_loaded = Container.objects.filter(
                booking__departure=departure, is_active=True, status=S.ON_TRAIN).aggregate(
                at=Max("last_event_at"))["at"]
        require_plausible([
            far_from_plan(what, at, "train_departure", departure.planned_departure, departure.estimated_departure),
            before_previous(what, at, _("the last container was loaded on it"), last_loaded),
        ], confirmed=confirmed, planned=departure.estimated_departure or departure.planned_departure)
        departure.status = DepartureStatus.DEPARTED
        departure.actual_departure = at
        _departure_save(departure, "status", "actual_departure")
        service = departure.service
        _transport_event(actor, "DEPA", at, place=_origin_place(service), transport=_rail(departure))
        _move_on_board(departure, S.ON_TRAIN, S.INLAND if service.is_import else S.DEPARTED, at)
        waiting = S.AT_TERMINAL if service.is_import else S.GATED_IN
        if run is not None:
            _left_behind_containers(actor, run.left_at_station.get(departure.pk, []), "train", _rail(departure), at)
        else:
            _left_behind(actor, Q(booking__departure=departure, status=waiting), "train", _rail(departure), at)
    return departure


def train_arrive(*, actor: Actor, departure: Departure, at: datetime | None = None, confirmed: bool = False
                 ) -> Departure:
    """The railway reports the train at the port's rail yard (ARRI, rail). A time far from the plan, or a transit
    faster than the train can run, needs `confirmed` (journey.plausibility)."""
    at = at or timezone.now()
    with transaction.atomic():
        departure = _departure_locked(departure)
        _require_railway(actor, departure)
        if departure.status != DepartureStatus.DEPARTED:
            raise StateConflict(
                _("Departure %(ref)s has not departed.") % {"ref": departure.reference}, code="illegal_step"
            )
        if at <= departure.actual_departure:
            raise InvalidInput(errors={"event_datetime": [_("The arrival must come after the departure.")]})
        require_plausible([
            far_from_plan(_("The arrival of train %(ref)s") % {"ref": departure.reference}, at, "train_arrival",
                          departure.planned_arrival, departure.estimated_arrival),
            too_fast(at, departure.actual_departure, departure.planned_arrival - departure.planned_departure),
        ], confirmed=confirmed, planned=departure.estimated_arrival or departure.planned_arrival)
        departure.status = DepartureStatus.ARRIVED
        departure.actual_arrival = at
        _departure_save(departure, "status", "actual_arrival")
        service = departure.service
        _transport_event(actor, "ARRI", at, place=_destination_place(service), transport=_rail(departure))
        if service.is_import:
            _move_on_board(departure, S.INLAND, S.AT_STATION_TRACK, at)
        else:
            _move_on_board(departure, S.DEPARTED, S.ARRIVED, at)
    return departure


def _run_holding(departure: Departure) -> _Deferred | None:
    """The deferred run that read and locked this departure when it began, if the step runs in one."""
    pending = _deferred.get()
    return pending if pending is not None and departure.pk in pending.departures else None


def _departure_save(departure: Departure, *fields: str) -> None:
    """Save the departure's changed fields, now or, in a run (transports_deferred), with the run's writes."""
    run = _run_holding(departure)
    if run is not None:
        run.departures_changed[departure.pk] = (departure, fields)
    else:
        departure.save(update_fields=list(fields))


def _move_on_board(departure: Departure, from_status: str, to_status: str, at: datetime) -> None:
    run = _run_holding(departure)
    if run is not None:
        run.moves[departure.pk] = (from_status, to_status, at)
        return
    on_board = Container.objects.select_for_update(of=("self",)).filter(
        booking__departure=departure, is_active=True, status=from_status
    )
    booking_ids = list(on_board.values_list("booking_id", flat=True))
    on_board.update(status=to_status, last_event_at=at)
    _bookings_refresh(booking_ids)


# --- At the port -----------------------------------------------------------------------------------------


def train_discharge(*, actor: Actor, number: str, at: datetime | None = None, confirmed: bool = False
                    ) -> Container:
    """The port takes the container off the train (DISC, rail)."""
    at = at or timezone.now()
    with step_transaction():
        container = _active_container(number)
        departure = container.booking.departure
        _require_port(actor, departure.service.terminal)
        _require_status(container, [S.ARRIVED], _("discharged from the train"))
        _require_after_last_step(container, at, _("The discharge of %(number)s"), confirmed=confirmed)
        _equipment_event(
            container,
            actor,
            "DISC",
            place=_terminal_place(departure.service.terminal),
            at=at,
            transport=_rail(departure),
        )
        _move(container, S.DISCHARGED)
    return container


def terminal_gate_in(*, actor: Actor, number: str, at: datetime | None = None, confirmed: bool = False
                     ) -> Container:
    """The container enters the terminal stack (GTIN, LADEN); it made the vessel if this is before the CY cut-off."""
    at = at or timezone.now()
    with step_transaction():
        container = _active_container(number)
        terminal = container.booking.departure.service.terminal
        _require_port(actor, terminal)
        _require_status(container, [S.DISCHARGED], _("gated in at the terminal"))
        _require_after_last_step(container, at, _("The terminal gate-in of %(number)s"), confirmed=confirmed)
        _equipment_event(container, actor, "GTIN", place=_terminal_place(terminal), at=at)
        container.terminal_gate_in_at = at
        _move(container, S.AT_TERMINAL, "terminal_gate_in_at")
        _booking_refresh_after(container.booking)
    return container


def vessel_load(*, actor: Actor, number: str, at: datetime | None = None, confirmed: bool = False) -> Container:
    """Load on the booked vessel (LOAD, vessel): only with a VGM, within the cut-off, and cleared. A time outside
    the vessel's call or before the container reached the terminal needs `confirmed` (journey.plausibility)."""
    at = at or timezone.now()
    with step_transaction():
        container = _active_container(number)
        call = container.booking.vessel_call
        _require_port(actor, call.terminal)
        _require_status(container, [S.AT_TERMINAL], _("loaded on the vessel"))
        if call.actual_departure is not None:
            raise StateConflict(_("Vessel %(vessel)s has sailed.") % {"vessel": call.vessel_name}, code="sailed")
        if container.terminal_gate_in_at and container.terminal_gate_in_at > call.cy_cutoff:
            raise StateConflict(
                _(
                    "Container %(number)s reached the terminal after the CY cut-off of %(vessel)s: "
                    "roll the booking to another vessel."
                )
                % {"number": container.number, "vessel": call.vessel_name},
                code="missed_cutoff",
            )
        container_check_loadable_on_vessel(container=container)
        vessel_loading_customs_check(container, released=customs_released(container))
        _require_after_last_step(
            container, at, _("The loading of %(number)s on the vessel"), confirmed=confirmed,
            previous_at=container.terminal_gate_in_at,
            extra=[far_from_plan(_("The loading of %(number)s on %(vessel)s")
                                 % {"number": container.number, "vessel": call.vessel_name},
                                 at, "vessel_loading", call.eta, until=call.etd)])
        _equipment_event(container, actor, "LOAD", place=_terminal_place(call.terminal), at=at, transport=_vessel(call))
        _move(container, S.ON_VESSEL)
        _booking_refresh_after(container.booking)
    return container


def vessel_depart(*, actor: Actor, vessel_call: VesselCall, at: datetime | None = None, confirmed: bool = False
                  ) -> VesselCall:
    """The vessel sails (DEPA, vessel): its containers have sailed and are free for their next booking. A time far
    from its ETD, or before its last container was loaded, needs `confirmed` (journey.plausibility)."""
    at = at or timezone.now()
    with transaction.atomic():
        call = VesselCall.objects.select_for_update(of=("self",)).select_related("terminal").get(pk=vessel_call.pk)
        _require_port(actor, call.terminal)
        if call.actual_departure is not None:
            raise StateConflict(
                _("Vessel %(vessel)s has already sailed.") % {"vessel": call.vessel_name}, code="illegal_step"
            )
        what = _("The sailing of %(vessel)s") % {"vessel": call.vessel_name}
        last_loaded = Container.objects.filter(
            booking__vessel_call=call, is_active=True, status=S.ON_VESSEL).aggregate(at=Max("last_event_at"))["at"]
        require_plausible([
            far_from_plan(what, at, "vessel_departure", call.etd),
            before_previous(what, at, _("the last container was loaded on it"), last_loaded),
        ], confirmed=confirmed, planned=call.etd)
        call.actual_departure = at
        call.save(update_fields=["actual_departure"])
        _transport_event(actor, "DEPA", at, place=_terminal_place(call.terminal), transport=_vessel(call))
        on_board = Container.objects.select_for_update(of=("self",)).filter(
            booking__vessel_call=call, is_active=True, status=S.ON_VESSEL
        )
        booking_ids = list(on_board.values_list("booking_id", flat=True))
        on_board.update(status=S.SAILED, is_active=False, last_event_at=at)
        _bookings_refresh(booking_ids)
        # A box its train already left at the station was told left behind then: once is enough.
        # Only exports can miss it: the imports it brought are discharged, not left behind.
        missed_vessel = Q(booking__vessel_call=call, booking__direction=Direction.EXPORT,
                          status__in=LEFT_FOR_THE_VESSEL) & ~Q(
            status=S.GATED_IN, booking__departure__status__in=[DepartureStatus.DEPARTED, DepartureStatus.ARRIVED])
        _left_behind(actor, missed_vessel, "vessel", _vessel(call), at)
    return call


# Containers whose vessel sails without them: on their way to it, or waiting at the terminal.
LEFT_FOR_THE_VESSEL = (S.GATED_IN, S.ON_TRAIN, S.DEPARTED, S.ARRIVED, S.DISCHARGED, S.AT_TERMINAL)


def _left_behind(actor: Actor, which: Q, missed: str, transport: dict, at: datetime) -> None:
    """The train or vessel left without these containers: each gets a MISS event saying which transport it
    missed and where it is (the station, the terminal, or on its way), so every timeline shows it left behind
    and its shipper and station are told at once (notifications.people)."""
    left = list(Container.objects.select_for_update(of=("self",)).filter(which, is_active=True)
                .select_related(*_CONTAINER_RELATED).order_by("number"))
    _left_behind_containers(actor, left, missed, transport, at)


def _left_behind_containers(actor: Actor, left: list[Container], missed: str, transport: dict, at: datetime) -> None:
    pending = _deferred.get()
    for container in sorted(left, key=lambda container: container.number):
        departure = container.booking.departure
        if container.status == S.GATED_IN:
            place = station_place(departure.service.station)
        elif container.status in (S.DISCHARGED, S.AT_TERMINAL):
            place = _terminal_place(departure.service.terminal)
        else:
            place = {}
        _equipment_event(container, actor, "MISS", place=place, at=at, transport=transport,
                         details={"missed": missed, "status": container.status})
        if pending is None:
            container.save(update_fields=["last_event_at"])
        else:
            pending.containers[container.pk] = (container, ("last_event_at",))


# --- Estimates -------------------------------------------------------------------------------------------


def _require_estimable(departure: Departure) -> None:
    if departure.status in (DepartureStatus.ARRIVED, DepartureStatus.CANCELLED):
        raise StateConflict(
            _("Departure %(ref)s is %(status)s.")
            % {"ref": departure.reference, "status": departure.get_status_display().lower()},
            code="illegal_step",
        )


def _estimate(
    actor: Actor,
    departure: Departure,
    *,
    estimated_departure: datetime | None,
    estimated_arrival: datetime | None,
    reason: str,
) -> tuple[list[str], list[dict]]:
    """Set the estimates on the locked departure: the fields changed, and the events (event_build's arguments)."""
    fields, events = [], []
    for code, value, attr, place in (
        ("DEPA", estimated_departure, "estimated_departure", station_place(departure.service.station)),
        ("ARRI", estimated_arrival, "estimated_arrival", _terminal_place(departure.service.terminal)),
    ):
        if value is None:
            continue
        setattr(departure, attr, value)
        fields.append(attr)
        events.append(
            {
                "event_type": EventType.TRANSPORT,
                "event_code": code,
                "event_datetime": value,
                "classifier": Classifier.ESTIMATED,
                "organisation": actor.organisation,
                "user": actor.user,
                "reason": reason,
                **place,
                **_rail(departure),
            }
        )
    if estimated_departure is not None and estimated_arrival is None and departure.actual_departure is None:
        # A later departure means a later arrival by the same delay.
        delay = estimated_departure - departure.planned_departure
        departure.estimated_arrival = departure.planned_arrival + delay
        fields.append("estimated_arrival")
    return fields, events


def departure_estimate(
    *,
    actor: Actor,
    departure: Departure,
    estimated_departure: datetime | None = None,
    estimated_arrival: datetime | None = None,
    reason: str = "",
) -> Departure:
    """The railway expects the train at another time (EST); bookings it no longer gets to the cut-off are at risk."""
    if estimated_departure is None and estimated_arrival is None:
        raise InvalidInput(errors={"event_datetime": [_("Give the new departure or arrival time.")]})
    with transaction.atomic():
        departure = _departure_locked(departure)
        _require_railway(actor, departure)
        _require_estimable(departure)
        fields, events = _estimate(
            actor,
            departure,
            estimated_departure=estimated_departure,
            estimated_arrival=estimated_arrival,
            reason=reason,
        )
        for event in events:
            event_record(**event)
        departure.save(update_fields=fields)
    return departure


@dataclass(frozen=True)
class DepartureEstimate:
    """One reported estimate: the departure's new time of leaving (DEPA) or of arriving (ARRI)."""

    departure_id: int
    reference: str
    code: str  # "DEPA" or "ARRI"
    at: datetime
    reason: str = ""


def departure_estimates(*, actor: Actor, estimates: list[DepartureEstimate]) -> list[Departure | ApplicationError]:
    """Many estimates, e.g. a railway's feed, applied in order in one transaction as `departure_estimate` applies
    each: the departures locked at once (in id order), each estimate checked against its departure as the earlier
    ones left it, the events and outbox rows inserted together, each departure written once. Returns, for each
    estimate, its departure, or the refusal (nothing of that estimate is written; the others are)."""
    outcomes: list[Departure | ApplicationError] = []
    with transaction.atomic():
        locked = {
            departure.pk: departure
            for departure in Departure.objects.select_for_update()
            .filter(pk__in={estimate.departure_id for estimate in estimates})
            .order_by("pk")
        }
        # A feed's departures share a few services: load each service once rather than once per departure.
        services = Service.objects.select_related("station", "terminal").in_bulk(
            {departure.service_id for departure in locked.values()}
        )
        for departure in locked.values():
            departure.service = services[departure.service_id]
        changed: dict[int, Departure] = {}
        events = []
        for estimate in estimates:
            departure = locked.get(estimate.departure_id)
            try:
                if departure is None:  # deleted since its reference was looked up
                    raise InvalidInput(
                        errors={
                            "transport_reference": [
                                _("No departure or vessel call %(ref)s.") % {"ref": estimate.reference}
                            ]
                        }
                    )
                _require_railway(actor, departure)
                _require_estimable(departure)
                key = "estimated_departure" if estimate.code == "DEPA" else "estimated_arrival"
                _fields, built = _estimate(
                    actor,
                    departure,
                    **{"estimated_departure": None, "estimated_arrival": None, key: estimate.at},
                    reason=estimate.reason,
                )
                events += [event_build(**event) for event in built]
            except ApplicationError as refusal:
                outcomes.append(refusal)
                continue
            changed[departure.pk] = departure
            outcomes.append(departure)
        events_append(events)
        _estimates_write([changed[pk] for pk in sorted(changed)])
    return outcomes


def _estimates_write(departures: list[Departure]) -> None:
    """Write the departures' estimates with one UPDATE from arrays (Django's bulk_update builds a CASE of one
    branch per row and field: 70 % of a batch's time for 1,000 departures)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Departure._meta.db_table} AS departure "  # noqa: S608 - the table name is the model's
            "SET estimated_departure = estimate.departs, estimated_arrival = estimate.arrives "
            "FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[]) AS estimate (id, departs, arrives) "
            "WHERE departure.id = estimate.id",
            [
                [departure.pk for departure in departures],
                [departure.estimated_departure for departure in departures],
                [departure.estimated_arrival for departure in departures],
            ],
        )


def vessel_call_estimate(
    *, actor: Actor, vessel_call: VesselCall, eta: datetime | None = None, etd: datetime | None = None, reason: str = ""
) -> VesselCall:
    """The port reports the vessel's new ETA / ETD (EST, vessel)."""
    if eta is None and etd is None:
        raise InvalidInput(errors={"event_datetime": [_("Give the new arrival or departure time.")]})
    with transaction.atomic():
        call = VesselCall.objects.select_for_update(of=("self",)).select_related("terminal").get(pk=vessel_call.pk)
        _require_port(actor, call.terminal)
        fields = []
        for code, value, attr in (("ARRI", eta, "eta"), ("DEPA", etd, "etd")):
            if value is None:
                continue
            setattr(call, attr, value)
            fields.append(attr)
            _transport_event(
                actor,
                code,
                value,
                place=_terminal_place(call.terminal),
                transport=_vessel(call),
                classifier=Classifier.ESTIMATED,
                reason=reason,
            )
        if call.etd <= call.eta:
            raise InvalidInput(errors={"event_datetime": [_("The vessel must leave after it arrives.")]})
        if call.cy_cutoff > call.etd:
            raise InvalidInput(errors={"event_datetime": [_("Move the cut-offs before moving the departure earlier.")]})
        call.save(update_fields=fields)
    return call
