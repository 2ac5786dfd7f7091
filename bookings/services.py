"""Writes on bookings: one function per change, each in one transaction with its event and outbox row.

Capacity is held on the departure row: a change locks the departures it touches (in id order, so two
changes never wait on each other crosswise), checks the free TEU under the lock and moves the slots; the
database check `departure_not_overbooked` backs this up whatever else writes.
"""

import contextlib
import uuid
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Count, F
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings.models import (
    ACTIVE,
    HOLDS_CAPACITY,
    SIZE_TYPES,
    Booking,
    BookingChange,
    BookingLine,
    BookingStatus,
    ChangeKind,
    Container,
    ContainerStatus,
    EmptyRequest,
    EmptyRequestStatus,
)
from intermodal import versions
from intermodal.access import Actor
from intermodal.codes import Classifier, DocumentType, EventType, FacilityKind
from intermodal.errors import InvalidInput, NotAllowed, StateConflict
from intermodal.events import event_record
from intermodal.models import PartyKind
from stations.models import (
    Departure,
    DepartureStatus,
    Direction,
    Location,
    Service,
    Station,
    Tariff,
    VesselCall,
)

CENT = Decimal("0.01")


# --- Quotes ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuoteLine:
    size_type: str
    quantity: int
    teu: int
    unit_price: Decimal
    unit_road_price: Decimal
    transport: Decimal
    port_handling: Decimal
    documentation: Decimal

    @property
    def total(self) -> Decimal:
        return self.transport + self.port_handling + self.documentation


@dataclass(frozen=True)
class Quote:
    lines: list[QuoteLine] = field(default_factory=list)
    currency: str = "CNY"

    @property
    def teu(self) -> int:
        return sum(line.teu for line in self.lines)

    @property
    def transport(self) -> Decimal:
        return sum((line.transport for line in self.lines), Decimal("0"))

    @property
    def port_handling(self) -> Decimal:
        return sum((line.port_handling for line in self.lines), Decimal("0"))

    @property
    def documentation(self) -> Decimal:
        return sum((line.documentation for line in self.lines), Decimal("0"))

    @property
    def total(self) -> Decimal:
        return self.transport + self.port_handling + self.documentation

    @property
    def road_haulage(self) -> Decimal:
        return sum((line.unit_road_price * line.quantity for line in self.lines), Decimal("0"))

    @property
    def saving(self) -> Decimal:
        return self.road_haulage - self.total


def parse_container_request(value: str) -> dict[str, int]:
    """'42G1:2,22G1:1' -> {'42G1': 2, '22G1': 1}; the query-string form of a container request."""
    lines: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in value.split(","))):
        code, _sep, count = part.partition(":")
        try:
            quantity = int(count or "1")
        except ValueError:
            raise InvalidInput(
                errors={"containers": [_("%(part)s: write SIZE-TYPE:COUNT, e.g. 42G1:2.") % {"part": part}]}
            ) from None
        lines[code.strip().upper()] = lines.get(code.strip().upper(), 0) + quantity
    return lines


def validate_lines(lines: Mapping[str, int]) -> None:
    errors = []
    if not lines:
        errors.append(_("Request at least one container."))
    for code, quantity in lines.items():
        if code not in SIZE_TYPES:
            errors.append(
                _("%(code)s is not a size-type we book (known: %(known)s).")
                % {"code": code, "known": ", ".join(SIZE_TYPES)}
            )
        elif not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= 200:
            errors.append(_("%(code)s: the number of containers must be between 1 and 200.") % {"code": code})
    if errors:
        raise InvalidInput(errors={"containers": errors})


def quote_build(*, service: Service, lines: Mapping[str, int]) -> Quote:
    """Price the containers on a service: tariff + port handling + documentation, against road haulage."""
    validate_lines(lines)
    tariffs = {t.container_size: t for t in Tariff.objects.filter(service=service)}
    quote_lines = []
    for code, quantity in lines.items():
        info = SIZE_TYPES[code]
        tariff = tariffs.get(info.size)
        if tariff is None:
            raise InvalidInput(
                errors={
                    "containers": [
                        _("Service %(service)s has no tariff for %(size)s' containers.")
                        % {"service": service.code, "size": info.size}
                    ]
                }
            )
        quote_lines.append(
            QuoteLine(
                size_type=code,
                quantity=quantity,
                teu=info.teu * quantity,
                unit_price=tariff.total.quantize(CENT),
                unit_road_price=tariff.road_haulage_price.quantize(CENT),
                transport=(tariff.transport_price * quantity).quantize(CENT),
                port_handling=(tariff.port_handling * quantity).quantize(CENT),
                documentation=(tariff.documentation * quantity).quantize(CENT),
            )
        )
    return Quote(lines=quote_lines, currency=next(iter(tariffs.values())).currency if tariffs else "CNY")


# --- Connection rules ------------------------------------------------------------------------------------


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def departure_open_problems(departure: Departure, now, *, closes_at_terminal: bool = False) -> list[str]:
    """Why the departure takes no more bookings now (gone, or closed where its trains leave); empty when it does."""
    if departure.status != DepartureStatus.SCHEDULED:
        return [_("Departure %(ref)s is %(status)s and takes no more bookings.")
                % {"ref": departure.reference, "status": departure.get_status_display().lower()}]
    if departure.closing_time <= now:
        closed = (_("Departure %(ref)s closed at the terminal at %(time)s.") if closes_at_terminal
                  else _("Departure %(ref)s closed at the station at %(time)s."))
        return [closed % {"ref": departure.reference, "time": _local(departure.closing_time)}]
    return []


def connection_problems(*, departure: Departure, vessel_call: VesselCall, now=None) -> list[str]:
    """Why this departure cannot take containers to this vessel now; empty when it can."""
    now = now or timezone.now()
    problems = departure_open_problems(departure, now)
    if departure.service.terminal_id != vessel_call.terminal_id:
        problems.append(
            _("Departure %(ref)s goes to %(terminal)s, not to the vessel's terminal.")
            % {"ref": departure.reference, "terminal": departure.service.terminal.code}
        )
    elif departure.expected_arrival > vessel_call.latest_arrival_for(departure.service.terminal):
        problems.append(
            _("Departure %(ref)s arrives too late for the vessel's CY cut-off at %(cutoff)s.")
            % {"ref": departure.reference, "cutoff": _local(vessel_call.cy_cutoff)}
        )
    if vessel_call.actual_departure is not None or vessel_call.etd <= now:
        problems.append(_("Vessel %(vessel)s has sailed.") % {"vessel": vessel_call.vessel_name})
    return problems


def _check_dangerous_goods(*, departure: Departure, vessel_call: VesselCall, imdg_class: str) -> None:
    """The service must take the class, and the containers must reach the terminal by the vessel's DG cut-off."""
    if not imdg_class:
        return
    service = departure.service
    if imdg_class not in service.dangerous_goods_classes:
        accepted = ", ".join(service.dangerous_goods_classes) or _("none")
        raise StateConflict(
            _("Service %(service)s does not take IMDG class %(cls)s (it takes: %(accepted)s).")
            % {"service": service.code, "cls": imdg_class, "accepted": accepted},
            code="dangerous_goods_refused",
        )
    if departure.expected_arrival + service.terminal.handling_buffer > vessel_call.dg_cutoff:
        raise StateConflict(
            _(
                "Dangerous goods must be at the terminal by %(cutoff)s (the vessel's DG cut-off); departure %(ref)s "
                "gets there too late."
            )
            % {"cutoff": _local(vessel_call.dg_cutoff), "ref": departure.reference},
            code="dg_cutoff_missed",
        )


def _check_cargo(
    *, lines: Mapping[str, int], un_number: str, imdg_class: str, reefer_setpoint_c, reefer_ventilation_cbm_h
) -> None:
    errors: dict[str, list[str]] = {}
    if bool(un_number) != bool(imdg_class):
        field_name = "imdg_class" if un_number else "un_number"
        errors[field_name] = [_("Dangerous goods need both the UN number and the IMDG class.")]
    has_reefer = any(SIZE_TYPES[code].reefer for code in lines)
    if has_reefer and reefer_setpoint_c is None:
        errors["reefer_setpoint_c"] = [_("Reefer containers need a set-point temperature.")]
    if not has_reefer and (reefer_setpoint_c is not None or reefer_ventilation_cbm_h is not None):
        errors["reefer_setpoint_c"] = [_("Reefer settings apply only to reefer containers (22R1, 45R1).")]
    if errors:
        raise InvalidInput(errors=errors)


def _check_destination(*, vessel_call: VesselCall, destination: Location) -> None:
    if not vessel_call.destinations.filter(pk=destination.pk).exists():
        raise InvalidInput(
            errors={
                "destination": [
                    _("Vessel %(vessel)s does not call at %(port)s.")
                    % {"vessel": vessel_call.vessel_name, "port": destination.unlocode}
                ]
            }
        )


# --- Capacity --------------------------------------------------------------------------------------------


def _move_capacity(changes: Mapping[int, int]) -> None:
    """Apply TEU deltas to departures under row locks taken in id order; refuse when one would overflow."""
    ids = sorted(pk for pk, delta in changes.items() if delta)
    if not ids:
        return
    locked = {d.pk: d for d in Departure.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
    for pk in ids:
        departure, delta = locked[pk], changes[pk]
        if delta > 0 and departure.teu_free < delta:
            raise StateConflict(
                _("Departure %(ref)s has %(free)s TEU free; this needs %(need)s.")
                % {"ref": departure.reference, "free": departure.teu_free, "need": delta},
                code="capacity_short",
            )
    for pk in ids:
        try:
            with transaction.atomic():
                Departure.objects.filter(pk=pk).update(booked_teu=F("booked_teu") + changes[pk])
        except IntegrityError:  # the database check: never reached while every writer takes the lock
            raise StateConflict(_("The departure is full."), code="capacity_short") from None


# --- Helpers ---------------------------------------------------------------------------------------------


def _require_enterprise(actor: Actor) -> None:
    if actor.kind != PartyKind.ENTERPRISE:
        raise NotAllowed(_("Only a shipper or forwarder organisation can book."), code="not_a_shipper")


def _require_export(departure: Departure) -> None:
    if departure.service.direction != Direction.EXPORT:
        raise InvalidInput(errors={"departure": [
            _("Departure %(ref)s brings imports inland: book arriving containers on it as an import.")
            % {"ref": departure.reference}]})


def _refuse_import(booking: Booking, what: str) -> None:
    if booking.is_import:
        raise StateConflict(
            _("Booking %(ref)s is an import: its containers come from the vessel, so it cannot be %(what)s; move it "
              "to another departure or cancel it.") % {"ref": booking.reference, "what": what},
            code="import_booking")


def _require_owner(actor: Actor, booking: Booking) -> None:
    if actor.kind == PartyKind.PLATFORM_ADMIN:
        return
    if actor.organisation is None or booking.shipper_id != actor.organisation.pk:
        raise NotAllowed(_("Only the shipper of this booking can change it."), code="not_the_shipper")


def _locking():
    # Lock the booking row only: PostgreSQL would otherwise also lock every joined row (departure, service,
    # vessel call), making unrelated bookings on the same vessel queue behind each other.
    return Booking.objects.select_for_update(of=("self",)).select_related(
        "departure__service__station",
        "departure__service__terminal",
        "vessel_call__terminal",
    )


def _lock(booking: Booking) -> Booking:
    return _locking().get(pk=booking.pk)


def _snapshot(booking: Booking) -> dict:
    return {
        "status": booking.status,
        "departure": booking.departure.reference,
        "vessel_call": booking.vessel_call.reference,
        "destination": booking.destination_id,
        "containers": {line.size_type: line.quantity for line in booking.lines.all()},
        "teu": booking.teu,
        "quote_total": str(booking.quote_total),
    }


def _record(
    *, booking: Booking, actor: Actor, kind: str, code: str, before: dict | None = None, reason: str = ""
) -> None:
    after = _snapshot(booking)
    BookingChange.objects.create(
        booking=booking,
        kind=kind,
        organisation=actor.organisation,
        user=actor.user,
        before=before or {},
        after=after,
        reason=reason,
    )
    station = booking.departure.service.station
    event_record(
        event_type=EventType.SHIPMENT,
        event_code=code,
        classifier=Classifier.ACTUAL,
        organisation=actor.organisation,
        user=actor.user,
        document_type=DocumentType.BKG,
        document_reference=booking.reference,
        booking_reference=booking.reference,
        transport_reference=booking.departure.reference,
        facility_kind=FacilityKind.STATION,
        facility_code=station.code,
        location_unlocode=station.unlocode,
        reason=reason,
        details={"change": kind, "before": before or {}, "after": after},
    )


def _set_quote(booking: Booking, quote: Quote) -> None:
    booking.currency = quote.currency
    booking.quote_transport = quote.transport
    booking.quote_port_handling = quote.port_handling
    booking.quote_documentation = quote.documentation
    booking.quote_total = quote.total
    booking.quote_road_haulage = quote.road_haulage
    booking.quote_saving = quote.saving
    booking.quoted_at = timezone.now()
    booking.teu = quote.teu


def _write_lines(booking: Booking, quote: Quote) -> None:
    booking.lines.all().delete()
    BookingLine.objects.bulk_create(
        [
            BookingLine(
                booking=booking,
                size_type=line.size_type,
                quantity=line.quantity,
                teu=line.teu,
                unit_price=line.unit_price,
                unit_road_price=line.unit_road_price,
            )
            for line in quote.lines
        ]
    )


QUOTE_FIELDS = [
    "currency",
    "quote_transport",
    "quote_port_handling",
    "quote_documentation",
    "quote_total",
    "quote_road_haulage",
    "quote_saving",
    "quoted_at",
    "teu",
]


# --- State changes ---------------------------------------------------------------------------------------


def booking_create(
    *,
    actor: Actor,
    departure: Departure,
    vessel_call: VesselCall,
    destination: Location,
    lines: Mapping[str, int],
    commodity: str,
    cargo_weight_kg: Decimal,
    un_number: str = "",
    imdg_class: str = "",
    reefer_setpoint_c: Decimal | None = None,
    reefer_ventilation_cbm_h: int | None = None,
    free_days: int = 7,
    confirm: bool = False,
) -> Booking:
    """A draft booking for the caller's organisation, priced now; with `confirm`, also reserved at once.

    Refusals leave nothing behind: a booking that cannot be confirmed is not kept as a draft either.
    """
    _require_enterprise(actor)
    _require_export(departure)
    quote = quote_build(service=departure.service, lines=lines)
    _check_cargo(
        lines=lines,
        un_number=un_number,
        imdg_class=imdg_class,
        reefer_setpoint_c=reefer_setpoint_c,
        reefer_ventilation_cbm_h=reefer_ventilation_cbm_h,
    )
    _check_destination(vessel_call=vessel_call, destination=destination)
    problems = connection_problems(departure=departure, vessel_call=vessel_call)
    if problems:
        raise StateConflict(" ".join(problems), code="no_connection")
    _check_dangerous_goods(departure=departure, vessel_call=vessel_call, imdg_class=imdg_class)

    with transaction.atomic():
        booking = Booking(
            reference=f"TMP-{uuid.uuid4().hex[:16]}",
            shipper=actor.organisation,
            created_by=actor.user,
            departure=departure,
            vessel_call=vessel_call,
            original_vessel_call=vessel_call,
            destination=destination,
            commodity=commodity,
            cargo_weight_kg=cargo_weight_kg,
            un_number=un_number,
            imdg_class=imdg_class,
            reefer_setpoint_c=reefer_setpoint_c,
            reefer_ventilation_cbm_h=reefer_ventilation_cbm_h,
            free_days=free_days,
        )
        _set_quote(booking, quote)
        booking.save()
        # The reference follows the row id: unique without a counter every booking would queue on.
        booking.reference = f"BK-{timezone.localdate():%Y}-{booking.pk:06d}"
        booking.save(update_fields=["reference"])
        _write_lines(booking, quote)
        _record(booking=booking, actor=actor, kind=ChangeKind.CREATED, code="DRFT")
        if confirm:
            booking = booking_confirm(actor=actor, booking=booking)
    return booking


def booking_confirm(*, actor: Actor, booking: Booking) -> Booking:
    """Reserve the booking's TEU on its departure; refused when short of capacity, closed or too late."""
    with transaction.atomic():
        booking = _lock(booking)
        _require_owner(actor, booking)
        if booking.status != BookingStatus.DRAFT:
            raise StateConflict(
                _("Booking %(ref)s is %(status)s, not a draft.")
                % {"ref": booking.reference, "status": booking.get_status_display().lower()},
                code="not_draft",
            )
        problems = connection_problems(departure=booking.departure, vessel_call=booking.vessel_call)
        if problems:
            raise StateConflict(" ".join(problems), code="no_connection")
        _check_dangerous_goods(
            departure=booking.departure, vessel_call=booking.vessel_call, imdg_class=booking.imdg_class
        )
        _move_capacity({booking.departure_id: booking.teu})
        booking.status = BookingStatus.CONFIRMED
        booking.confirmed_at = timezone.now()
        booking.free_time_start = booking.free_time_start or timezone.localdate()
        booking.save(update_fields=["status", "confirmed_at", "free_time_start", "updated_at"])
        booking.departure.refresh_from_db(fields=["booked_teu"])
        _record(booking=booking, actor=actor, kind=ChangeKind.CONFIRMED, code="CONF")
    return booking


_CHANGEABLE = (BookingStatus.DRAFT, BookingStatus.CONFIRMED)


def booking_amend(
    *,
    actor: Actor,
    booking: Booking,
    lines: Mapping[str, int] | None = None,
    departure: Departure | None = None,
    vessel_call: VesselCall | None = None,
    destination: Location | None = None,
    reason: str = "",
) -> Booking:
    """Change the containers, departure or vessel; a confirmed booking moves its slots in the same step."""
    with transaction.atomic():
        booking = _lock(booking)
        _require_owner(actor, booking)
        _refuse_import(booking, _("amended"))
        if departure is not None:
            _require_export(departure)
        if booking.status not in _CHANGEABLE:
            raise StateConflict(
                _("Booking %(ref)s is %(status)s: it can no longer be amended.")
                % {"ref": booking.reference, "status": booking.get_status_display().lower()},
                code="not_amendable",
            )
        before = _snapshot(booking)
        new_departure = departure or booking.departure
        new_call = vessel_call or booking.vessel_call
        new_destination = destination or booking.destination
        new_lines = (
            dict(lines) if lines is not None else {line.size_type: line.quantity for line in booking.lines.all()}
        )
        quote = quote_build(service=new_departure.service, lines=new_lines)
        _check_cargo(
            lines=new_lines,
            un_number=booking.un_number,
            imdg_class=booking.imdg_class,
            reefer_setpoint_c=booking.reefer_setpoint_c,
            reefer_ventilation_cbm_h=booking.reefer_ventilation_cbm_h,
        )
        _check_destination(vessel_call=new_call, destination=new_destination)
        if new_departure.pk != booking.departure_id or new_call.pk != booking.vessel_call_id:
            problems = connection_problems(departure=new_departure, vessel_call=new_call)
            if problems:
                raise StateConflict(" ".join(problems), code="no_connection")
        _check_dangerous_goods(departure=new_departure, vessel_call=new_call, imdg_class=booking.imdg_class)
        assigned = booking.containers.filter(is_active=True).count()
        if assigned > sum(new_lines.values()):
            raise StateConflict(
                _("%(n)s containers are already assigned: release some before booking fewer.") % {"n": assigned},
                code="containers_assigned",
            )

        if booking.status in HOLDS_CAPACITY:
            deltas: dict[int, int] = {booking.departure_id: -booking.teu}
            deltas[new_departure.pk] = deltas.get(new_departure.pk, 0) + quote.teu
            _move_capacity(deltas)
        booking.departure, booking.vessel_call, booking.destination = new_departure, new_call, new_destination
        if booking.status == BookingStatus.DRAFT:
            booking.original_vessel_call = new_call
        _set_quote(booking, quote)
        booking.save(
            update_fields=[
                "departure",
                "vessel_call",
                "destination",
                "original_vessel_call",
                "updated_at",
                *QUOTE_FIELDS,
            ]
        )
        _write_lines(booking, quote)
        _record(
            booking=booking,
            actor=actor,
            kind=ChangeKind.AMENDED,
            code="CONF" if booking.status == BookingStatus.CONFIRMED else "DRFT",
            before=before,
            reason=reason,
        )
    return booking


def booking_cancel(*, actor: Actor, booking: Booking, reason: str = "") -> Booking:
    """Cancel before loading: frees the slots and the containers."""
    with transaction.atomic():
        booking = _lock(booking)
        _require_owner(actor, booking)
        # An import waiting at the terminal (discharged, not yet on the train) can still be cancelled.
        if booking.status not in (_CHANGEABLE + (BookingStatus.AT_PORT,) if booking.is_import else _CHANGEABLE):
            raise StateConflict(
                _("Booking %(ref)s is %(status)s: containers are loaded, so it cannot be cancelled.")
                % {"ref": booking.reference, "status": booking.get_status_display().lower()},
                code="not_cancellable",
            )
        before = _snapshot(booking)
        if booking.status in HOLDS_CAPACITY:
            _move_capacity({booking.departure_id: -booking.teu})
        booking.status = BookingStatus.CANCELLED
        booking.cancelled_at = timezone.now()
        booking.save(update_fields=["status", "cancelled_at", "updated_at"])
        booking.containers.update(is_active=False)  # an import's arrivals are then bookable again (inbound)
        _record(booking=booking, actor=actor, kind=ChangeKind.CANCELLED, code="CANC", before=before, reason=reason)
    return booking


_ROLLABLE = (BookingStatus.CONFIRMED, BookingStatus.IN_TRANSIT, BookingStatus.AT_PORT)


def booking_roll(
    *,
    actor: Actor,
    booking: Booking,
    vessel_call: VesselCall,
    departure: Departure | None = None,
    destination: Location | None = None,
    reason: str = "",
) -> Booking:
    """Re-plan a booking that missed (or will miss) its vessel onto another vessel and, if needed, departure.

    The reference, the containers and the history stay; the first-booked vessel is kept for the on-schedule
    figure. Containers already on or past the train keep their departure.
    """
    with transaction.atomic():
        booking = _lock(booking)
        _require_owner(actor, booking)
        _refuse_import(booking, _("rolled"))
        if departure is not None:
            _require_export(departure)
        if booking.status not in _ROLLABLE:
            raise StateConflict(
                _("Booking %(ref)s is %(status)s: it cannot be rolled.")
                % {"ref": booking.reference, "status": booking.get_status_display().lower()},
                code="not_rollable",
            )
        if vessel_call.pk == booking.vessel_call_id:
            raise InvalidInput(errors={"vessel_call": [_("Roll onto another vessel call than the booked one.")]})
        new_departure = departure or booking.departure
        if new_departure.pk != booking.departure_id and booking.status != BookingStatus.CONFIRMED:
            raise StateConflict(
                _("The containers have left on departure %(ref)s: only the vessel can change.")
                % {"ref": booking.departure.reference},
                code="departure_fixed",
            )
        new_destination = destination or booking.destination
        _check_destination(vessel_call=vessel_call, destination=new_destination)
        if booking.status == BookingStatus.CONFIRMED:
            problems = connection_problems(departure=new_departure, vessel_call=vessel_call)
        else:  # on the way or at the port: the train has left, only the vessel's terminal and sailing matter
            problems = [
                p
                for p in connection_problems(departure=new_departure, vessel_call=vessel_call)
                if "closed" not in p and "takes no more" not in p
            ]
        if problems:
            raise StateConflict(" ".join(problems), code="no_connection")
        before = _snapshot(booking)
        if new_departure.pk != booking.departure_id:
            _check_dangerous_goods(departure=new_departure, vessel_call=vessel_call, imdg_class=booking.imdg_class)
            _move_capacity({booking.departure_id: -booking.teu, new_departure.pk: booking.teu})
        booking.departure, booking.vessel_call, booking.destination = new_departure, vessel_call, new_destination
        booking.roll_count += 1
        booking.save(update_fields=["departure", "vessel_call", "destination", "roll_count", "updated_at"])
        _record(booking=booking, actor=actor, kind=ChangeKind.ROLLED, code="CONF", before=before, reason=reason)
    return booking


# --- Containers ------------------------------------------------------------------------------------------


def handles_containers(actor: Actor, booking: Booking) -> bool:
    """Whether the actor handles the booking's containers (numbers, seals, the gate's paper): the shipper, or
    staff of the station the booking leaves from."""
    if actor.kind == PartyKind.PLATFORM_ADMIN:
        return True
    return actor.organisation is not None and actor.organisation.pk in (
        booking.shipper_id, booking.departure.service.station.operator_id)


def _require_container_actor(actor: Actor, booking: Booking) -> None:
    if not handles_containers(actor, booking):
        raise NotAllowed(_("Only the shipper or the station's staff can assign containers."), code="not_allowed")


@dataclass
class _Assignments:
    """Container numbers put on bookings in a run (`assignments_deferred`), to be written together."""

    bookings: dict = field(default_factory=dict)  # pk -> the booking, locked once for the run
    counts: dict = field(default_factory=dict)  # (booking pk, size-type) -> its active containers
    in_use: set = field(default_factory=set)  # numbers in an active booking
    containers: list = field(default_factory=list)
    changes: list = field(default_factory=list)
    references: list = field(default_factory=list)


_assignments: ContextVar[_Assignments | None] = ContextVar("bookings_assignments", default=None)


@contextlib.contextmanager
def assignments_deferred(booking_ids, numbers):
    """`container_assign` to the bookings `booking_ids` runs inside with its checks as usual, on the bookings
    locked once (by id) and their counts read once; the containers and their history rows are written together as
    the block ends (one INSERT each). A number that another transaction assigns meanwhile fails that INSERT: the
    caller's savepoint then undoes the run. Each assignment runs in `assignment_deferred`."""
    state = _Assignments()
    state.bookings = {b.pk: b for b in _locking().prefetch_related("lines").filter(pk__in=sorted(set(booking_ids)))
                      .order_by("pk")}
    for row in (Container.objects.filter(booking_id__in=list(state.bookings), is_active=True)
                .values("booking_id", "size_type").annotate(n=Count("id"))):
        state.counts[(row["booking_id"], row["size_type"])] = row["n"]
    state.in_use = set(Container.objects.filter(number__in=list(numbers), is_active=True)
                       .values_list("number", flat=True))
    token = _assignments.set(state)
    try:
        yield
    finally:
        _assignments.reset(token)
    Container.objects.bulk_create(state.containers)
    BookingChange.objects.bulk_create(state.changes)
    versions.forget(state.references)  # tracking shows the booking's containers: no event says so


@contextlib.contextmanager
def assignment_deferred():
    """One assignment of a deferred run: what it kept is dropped again should the step it is part of fail."""
    state = _assignments.get()
    if state is None:
        yield
        return
    kept = (len(state.containers), len(state.changes), len(state.references), dict(state.counts),
            set(state.in_use))
    try:
        yield
    except BaseException:
        del state.containers[kept[0]:], state.changes[kept[1]:], state.references[kept[2]:]
        state.counts, state.in_use = kept[3], kept[4]
        raise


def container_assign(
    *,
    actor: Actor,
    booking: Booking,
    number: str,
    size_type: str,
    seal_number: str = "",
    status: str = ContainerStatus.ASSIGNED,
) -> Container:
    """Put a container number on a booking: valid ISO 6346, of a booked size-type, in no other active booking."""
    from bookings.models import validate_container_number

    number = (number or "").strip().upper().replace(" ", "")
    try:
        validate_container_number(number)
    except Exception as exc:  # noqa: BLE001 - the validator's message is the field error
        raise InvalidInput(errors={"number": list(getattr(exc, "messages", [str(exc)]))}) from None
    state = _assignments.get()
    # An empty handed out by the station (journey.services.empty_hand_out): the match-back share counts it.
    empty_out_at = timezone.now() if status == ContainerStatus.EMPTY_OUT else None
    # In a run it writes nothing itself (its rows go with the run's), so it needs no savepoint of its own: a refused
    # one is dropped by assignment_deferred.
    with transaction.atomic() if state is None else contextlib.nullcontext():
        booking = (state.bookings.get(booking.pk) if state else None) or _lock(booking)
        _require_container_actor(actor, booking)
        if booking.status not in ACTIVE:
            raise StateConflict(
                _("Booking %(ref)s is %(status)s: no containers can be added.")
                % {"ref": booking.reference, "status": booking.get_status_display().lower()},
                code="not_active",
            )
        booked = _booked(booking, size_type)
        already = (state.counts.get((booking.pk, size_type), 0) if state
                   else booking.containers.filter(is_active=True, size_type=size_type).count())
        if already >= booked[size_type]:
            raise StateConflict(
                _("All %(n)s %(size_type)s containers of this booking already have numbers.")
                % {"n": booked[size_type], "size_type": size_type},
                code="all_assigned",
            )
        if (number in state.in_use) if state else Container.objects.filter(number=number, is_active=True).exists():
            raise StateConflict(
                _("Container %(number)s is already in an active booking.") % {"number": number}, code="container_in_use"
            )
        change = BookingChange(booking=booking, kind=ChangeKind.CONTAINER, organisation=actor.organisation,
                               user=actor.user, after={"container": number, "size_type": size_type})
        if state is not None:  # written with the run's others
            container = Container(booking=booking, number=number, size_type=size_type, seal_number=seal_number,
                                  status=status, empty_out_at=empty_out_at)
            state.containers.append(container)
            state.changes.append(change)
            state.references += [booking.reference, number]
            state.counts[(booking.pk, size_type)] = already + 1
            state.in_use.add(number)
            return container
        try:
            with transaction.atomic():
                container = Container.objects.create(
                    booking=booking, number=number, size_type=size_type, seal_number=seal_number, status=status,
                    empty_out_at=empty_out_at,
                )
        except IntegrityError:  # a concurrent assignment of the same number won
            raise StateConflict(
                _("Container %(number)s is already in an active booking.") % {"number": number}, code="container_in_use"
            ) from None
        change.save()
        versions.forget([booking.reference, number])  # tracking shows the booking's containers: no event says so
    return container


# A container's details that its seal and VGM are: written by container_update, or with a laden gate-in's step.
CONTAINER_DETAILS = ("seal_number", "vgm_kg", "vgm_method", "vgm_signatory")


def container_update(*, actor: Actor, container: Container, **details) -> Container:
    """Record the seal and the VGM (verified gross mass: kg, method 1 or 2, who signs for it): `details` as
    container_details_set takes them."""
    with transaction.atomic():
        container = (
            Container.objects.select_for_update(of=("self",))
            .select_related("booking__departure__service__station")
            .get(pk=container.pk)
        )
        change = container_details_set(actor=actor, container=container, **details)
        container.save(update_fields=list(CONTAINER_DETAILS))
        change.save()
    return container


def container_details_set(
    *,
    actor: Actor,
    container: Container,
    seal_number: str | None = None,
    vgm_kg: Decimal | None = None,
    vgm_method: int | None = None,
    vgm_signatory: str | None = None,
) -> BookingChange:
    """Check and set the seal and the VGM on a container the caller read and locked, with its booking, departure,
    service and station; nothing is written: the caller saves the container's CONTAINER_DETAILS and the
    returned history row (container_update now, a run of gate-ins with its other writes)."""
    _require_container_actor(actor, container.booking)
    if not container.is_active or container.status in (ContainerStatus.ON_VESSEL, ContainerStatus.SAILED):
        raise StateConflict(
            _("Container %(number)s is on the vessel: its details are final.") % {"number": container.number},
            code="container_final",
        )
    vgm = {"vgm_kg": vgm_kg, "vgm_method": vgm_method, "vgm_signatory": vgm_signatory}
    if any(value is not None for value in vgm.values()):
        missing = [name for name, value in vgm.items() if value in (None, "")]
        if missing:
            raise InvalidInput(
                errors={name: [_("A VGM needs the mass, the method and the signatory.")] for name in missing}
            )
    before = _container_details(container)
    if seal_number is not None:
        container.seal_number = seal_number
    if any(value is not None for value in vgm.values()):
        container.vgm_kg, container.vgm_method, container.vgm_signatory = vgm_kg, vgm_method, vgm_signatory
    return BookingChange(booking=container.booking, kind=ChangeKind.CONTAINER, organisation=actor.organisation,
                         user=actor.user, before={"container": container.number, **before},
                         after={"container": container.number, **_container_details(container)})


def _container_details(container: Container) -> dict:
    return {"seal_number": container.seal_number, "vgm_kg": str(container.vgm_kg or ""),
            "vgm_method": container.vgm_method, "vgm_signatory": container.vgm_signatory}


def container_check_loadable_on_vessel(*, container: Container) -> None:
    """The container-level rule for loading on the vessel: its VGM is recorded (SOLAS)."""
    if not container.has_vgm:
        raise StateConflict(
            _("Container %(number)s has no verified gross mass (VGM): it may not be loaded on the vessel.")
            % {"number": container.number},
            code="vgm_missing",
        )


# --- Empties ---------------------------------------------------------------------------------------------


def _booked(booking: Booking, size_type: str) -> dict[str, int]:
    """The booking's quantities by size-type; a size-type it does not book is a field error."""
    booked = {line.size_type: line.quantity for line in booking.lines.all()}
    if size_type not in booked:
        raise InvalidInput(errors={"size_type": [
            _("%(size_type)s is not booked here; the booking has %(booked)s.")
            % {"size_type": size_type, "booked": ", ".join(booked)}]})
    return booked


def station_place(station: Station) -> dict:
    """Where an event at an inland station happened, as the event records it."""
    return {"facility_kind": FacilityKind.STATION, "facility_code": station.code, "location_unlocode": station.unlocode}


def empty_request_create(*, actor: Actor, booking: Booking, size_type: str, quantity: int) -> EmptyRequest:
    """The shipper asks the station for empties of a booked size-type."""
    with transaction.atomic():
        booking = (
            Booking.objects.select_for_update(of=("self",))
            .select_related("departure__service__station")
            .get(pk=booking.pk)
        )
        if actor.kind != PartyKind.PLATFORM_ADMIN and booking.shipper_id != getattr(actor.organisation, "pk", None):
            raise NotAllowed(_("Only the shipper of this booking can ask for empties."), code="not_the_shipper")
        if booking.status not in HOLDS_CAPACITY:
            raise StateConflict(_("Confirm the booking before asking for empties."), code="not_confirmed")
        booked = _booked(booking, size_type)
        asked = sum(
            r.quantity
            for r in booking.empty_requests.exclude(status=EmptyRequestStatus.CANCELLED).filter(size_type=size_type)
        )
        assigned_own = (
            booking.containers.filter(is_active=True, size_type=size_type)
            .exclude(status__in=[ContainerStatus.EMPTY_READY, ContainerStatus.EMPTY_OUT])
            .count()
        )
        if not isinstance(quantity, int) or quantity < 1 or asked + assigned_own + quantity > booked[size_type]:
            raise InvalidInput(
                errors={
                    "quantity": [
                        _("The booking has %(left)s more %(size_type)s to ask for.")
                        % {"left": max(booked[size_type] - asked - assigned_own, 0), "size_type": size_type}
                    ]
                }
            )
        request = EmptyRequest.objects.create(
            booking=booking, size_type=size_type, quantity=quantity, requested_by=actor.user
        )
        station = booking.departure.service.station
        event_record(
            event_type=EventType.SHIPMENT,
            event_code="REQS",
            organisation=actor.organisation,
            user=actor.user,
            booking_reference=booking.reference,
            document_type="CBR",
            document_reference=booking.reference,
            **station_place(station),
            details={"empty_request": request.pk, "size_type": size_type, "quantity": quantity},
        )
    return request
