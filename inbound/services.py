"""Imports: containers the port announces on an arriving vessel, booked inland by their consignee; their holds,
free time, and the empties they come back as (match-back).

The port (or the carrier, through the port's account or the API) announces a vessel call's full containers with
their consignee and bill of lading; the consignee books them on an import departure from the vessel's terminal to
an inland station. Booking takes the departure's capacity under the same row lock as an export booking
(bookings.services._move_capacity), so an import departure is never overbooked either.

Holds (Terminal49's model): a container at the station is available for pick-up once no hold remains - customs
(the booking's declaration released, decided by the customs app), the carrier's freight hold and the terminal's
hold (set and lifted here).
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings.models import (
    SIZE_TYPES,
    Booking,
    BookingStatus,
    ChangeKind,
    Container,
    ContainerStatus,
    EmptyRequest,
    validate_container_number,
)
from bookings.services import (
    _local,
    _lock,
    _move_capacity,
    _record,
    _require_enterprise,
    _require_owner,
    _set_quote,
    _snapshot,
    _write_lines,
    departure_open_problems,
    quote_build,
    station_place,
)
from inbound.models import ArrivingContainer, HoldKind, ReturnedEmpty
from intermodal.access import Actor
from intermodal.codes import Classifier, EmptyIndicator, EventType
from intermodal.errors import InvalidInput, NotAllowed, StateConflict
from intermodal.events import event_record
from intermodal.models import Organisation, PartyKind
from stations.models import CarrierDetention, Departure, Direction, Location, Station, VesselCall

# How many containers one announcement or one import booking may name.
MAX_ANNOUNCED = 1000
MAX_IMPORT_CONTAINERS = 200
# A carrier without terms of its own: the free time and tariff consignees are told.
DEFAULT_DETENTION_FREE_DAYS = 14
DEFAULT_DETENTION_PER_TEU_DAY = Decimal("120")


def import_connection_problems(*, departure: Departure, vessel_call: VesselCall, now=None) -> list[str]:
    """Why this import departure cannot take the vessel's containers inland: it must leave the vessel's terminal,
    still take bookings, and close no earlier than the containers can be on the stack (arrival plus handling)."""
    problems = departure_open_problems(departure, now or timezone.now(), closes_at_terminal=True)
    if departure.service.terminal_id != vessel_call.terminal_id:
        problems.append(_("Departure %(ref)s leaves from %(terminal)s, not from the vessel's terminal.")
                        % {"ref": departure.reference, "terminal": departure.service.terminal.code})
    elif vessel_call.import_stacked_at > departure.closing_time:
        problems.append(_("Departure %(ref)s closes at %(time)s, before the vessel's containers can be discharged.")
                        % {"ref": departure.reference, "time": _local(departure.closing_time)})
    return problems


def _require_port_of(actor: Actor, call: VesselCall) -> None:
    if actor.kind == PartyKind.PLATFORM_ADMIN:
        return
    if actor.kind != PartyKind.PORT or call.terminal.operator_id != getattr(actor.organisation, "pk", None):
        raise NotAllowed(_("Only the port company of terminal %(terminal)s can announce or release its containers.")
                         % {"terminal": call.terminal.code}, code="not_your_place")


@dataclass(frozen=True)
class Announced:
    """One arriving container as the port announces it."""

    number: str
    size_type: str
    bl_number: str
    consignee: Organisation
    port_of_loading: Location
    gross_weight_kg: Decimal
    seal_number: str = ""
    freight_hold: bool = False
    terminal_hold: bool = False


def arrivals_announce(*, actor: Actor, vessel_call: VesselCall, items: list[Announced]) -> list[ArrivingContainer]:
    """The port announces the full containers arriving on a vessel call; announced again before being booked, a
    container's details are replaced. All or nothing: a container already booked inland, or listed twice, refuses
    the whole announcement (409, the numbers named)."""
    _require_port_of(actor, vessel_call)
    if not items:
        raise InvalidInput(errors={"containers": [_("Announce at least one container.")]})
    if len(items) > MAX_ANNOUNCED:
        raise InvalidInput(errors={"containers": [_("At most %(n)s containers at once.") % {"n": MAX_ANNOUNCED}]})
    numbers = [item.number for item in items]
    twice = sorted(number for number, n in Counter(numbers).items() if n > 1)
    if twice:
        raise InvalidInput(errors={"containers": [_("Listed twice: %(numbers)s.") % {"numbers": ", ".join(twice)}]})
    for item in items:
        if item.consignee.kind != PartyKind.ENTERPRISE:
            raise InvalidInput(errors={"consignee": [_("%(org)s is not an enterprise: it cannot be a consignee.")
                                                     % {"org": item.consignee.code}]})
    with transaction.atomic():
        existing = {row.number: row for row in ArrivingContainer.objects.select_for_update(of=("self",))
                    .select_related("booking")
                    .filter(vessel_call=vessel_call, number__in=sorted(numbers)).order_by("pk")}
        booked = sorted(number for number, row in existing.items() if is_booked(row))
        if booked:
            raise StateConflict(_("Already booked inland, so no longer changed by an announcement: %(numbers)s.")
                                % {"numbers": ", ".join(booked)}, code="already_booked")
        rows = []
        for item in items:
            row = existing.get(item.number) or ArrivingContainer(vessel_call=vessel_call, number=item.number)
            for name in ("size_type", "bl_number", "consignee", "port_of_loading", "gross_weight_kg", "seal_number",
                         "freight_hold", "terminal_hold"):
                setattr(row, name, getattr(item, name))
            row.announced_by = actor.organisation or item.consignee
            row.save()
            rows.append(row)
    return rows


def is_booked(arrival: ArrivingContainer) -> bool:
    """Booked inland: on an import booking that was not cancelled (a cancelled one gives its containers back)."""
    return arrival.booking_id is not None and arrival.booking.status != BookingStatus.CANCELLED


BOOKED = Q(booking__isnull=False) & ~Q(booking__status=BookingStatus.CANCELLED)


def _arrivals_locked(*, actor: Actor, vessel_call: VesselCall, numbers: Iterable[str]) -> list[ArrivingContainer]:
    numbers = sorted({number.strip().upper().replace(" ", "") for number in numbers})
    rows = list(ArrivingContainer.objects.select_for_update(of=("self",)).select_related("port_of_loading", "booking")
                .filter(vessel_call=vessel_call, number__in=numbers).order_by("pk"))
    found = {row.number: row for row in rows if actor.kind == PartyKind.PLATFORM_ADMIN
             or row.consignee_id == getattr(actor.organisation, "pk", None)}
    missing = [number for number in numbers if number not in found]
    if missing:
        raise InvalidInput(errors={"containers": [
            _("Not announced on %(call)s for your organisation: %(numbers)s.")
            % {"call": vessel_call.reference, "numbers": ", ".join(missing)}]})
    taken = [row.number for row in rows if is_booked(row)]
    if taken:
        raise StateConflict(_("Already booked inland: %(numbers)s.") % {"numbers": ", ".join(taken)},
                            code="already_booked")
    return rows


def import_booking_create(
    *,
    actor: Actor,
    departure: Departure,
    vessel_call: VesselCall,
    numbers: Iterable[str],
    commodity: str,
    un_number: str = "",
    imdg_class: str = "",
) -> Booking:
    """The consignee books announced containers of a vessel call on an import departure to an inland station:
    priced, confirmed and the departure's TEU taken in one transaction, or refused with nothing kept."""
    _require_enterprise(actor)
    numbers = list(numbers)
    if not numbers:
        raise InvalidInput(errors={"containers": [_("Name the arriving containers to book.")]})
    if len(numbers) > MAX_IMPORT_CONTAINERS:
        raise InvalidInput(errors={"containers": [_("At most %(n)s containers in one booking.")
                                                  % {"n": MAX_IMPORT_CONTAINERS}]})
    if departure.service.direction != Direction.IMPORT:
        raise InvalidInput(errors={"departure": [_("Departure %(ref)s carries exports, not imports.")
                                                 % {"ref": departure.reference}]})
    with transaction.atomic():
        # Checked on the departure as it is now, locked (the caller's may be stale: the train gone since), before
        # the announcements; _move_capacity takes the same lock again below.
        departure = (Departure.objects.select_for_update(of=("self",))
                     .select_related("service__station", "service__terminal").get(pk=departure.pk))
        problems = import_connection_problems(departure=departure, vessel_call=vessel_call)
        if problems:
            raise StateConflict(" ".join(problems), code="no_connection")
        arrivals = _arrivals_locked(actor=actor, vessel_call=vessel_call, numbers=numbers)
        lines = Counter(row.size_type for row in arrivals)
        quote = quote_build(service=departure.service, lines=lines)
        booking = Booking(
            reference=f"TMP-{departure.pk}-{arrivals[0].pk}",
            direction=Direction.IMPORT,
            shipper=actor.organisation,
            created_by=actor.user,
            departure=departure,
            vessel_call=vessel_call,
            original_vessel_call=vessel_call,
            destination=arrivals[0].port_of_loading,
            commodity=commodity,
            cargo_weight_kg=sum((row.gross_weight_kg for row in arrivals), Decimal("0")),
            un_number=un_number,
            imdg_class=imdg_class,
            free_days=departure.service.station.import_free_days,
        )
        _set_quote(booking, quote)
        booking.save()
        booking.reference = f"BK-{timezone.localdate():%Y}-{booking.pk:06d}"
        booking.save(update_fields=["reference"])
        _write_lines(booking, quote)
        _record(booking=booking, actor=actor, kind=ChangeKind.CREATED, code="DRFT")
        # Confirmed at once, as booking_confirm does for an export (whose connection rules are the vessel's cut-offs).
        _move_capacity({departure.pk: booking.teu})
        booking.status, booking.confirmed_at = BookingStatus.CONFIRMED, timezone.now()
        booking.save(update_fields=["status", "confirmed_at", "updated_at"])
        _record(booking=booking, actor=actor, kind=ChangeKind.CONFIRMED, code="CONF")
        try:
            with transaction.atomic():
                Container.objects.bulk_create([
                    Container(booking=booking, number=row.number, size_type=row.size_type,
                              seal_number=row.seal_number,
                              status=ContainerStatus.AT_TERMINAL if row.discharged_at else ContainerStatus.ARRIVING,
                              last_event_at=row.discharged_at)
                    for row in arrivals])
        except IntegrityError:
            raise StateConflict(_("One of these containers is still active on another booking."),
                                code="container_in_use") from None
        ArrivingContainer.objects.filter(pk__in=[row.pk for row in arrivals]).update(booking=booking)
        if any(row.discharged_at for row in arrivals):
            booking.status = BookingStatus.AT_PORT
            booking.save(update_fields=["status", "updated_at"])
    return booking


def import_booking_move(*, actor: Actor, booking: Booking, departure: Departure, reason: str = "") -> Booking:
    """Move an import booking whose containers are not yet on the train to another import departure from the same
    terminal: the slots move under the departures' locks, in id order (never overbooked)."""
    with transaction.atomic():
        booking = _lock(booking)
        _require_owner(actor, booking)
        if not booking.is_import:
            raise StateConflict(_("Booking %(ref)s is an export: amend or roll it.") % {"ref": booking.reference},
                                code="export_booking")
        if booking.status not in (BookingStatus.CONFIRMED, BookingStatus.AT_PORT):
            raise StateConflict(_("Booking %(ref)s is %(status)s: its containers have left the terminal.")
                                % {"ref": booking.reference, "status": booking.get_status_display().lower()},
                                code="departure_fixed")
        if departure.pk == booking.departure_id:
            raise InvalidInput(errors={"departure": [_("Move to another departure than the booked one.")]})
        # Both departures locked in id order (as _move_capacity takes them), the new one checked as it is now.
        departure = {row.pk: row for row in Departure.objects.select_for_update(of=("self",))
                     .select_related("service__station", "service__terminal")
                     .filter(pk__in=[booking.departure_id, departure.pk]).order_by("pk")}[departure.pk]
        if departure.service.direction != Direction.IMPORT:
            raise InvalidInput(errors={"departure": [_("Departure %(ref)s carries exports, not imports.")
                                                     % {"ref": departure.reference}]})
        problems = import_connection_problems(departure=departure, vessel_call=booking.vessel_call)
        if problems:
            raise StateConflict(" ".join(problems), code="no_connection")
        before = _snapshot(booking)
        quote = quote_build(service=departure.service, lines={line.size_type: line.quantity
                                                             for line in booking.lines.all()})
        _move_capacity({booking.departure_id: -booking.teu, departure.pk: quote.teu})
        booking.departure = departure
        _set_quote(booking, quote)
        booking.roll_count += 1
        booking.save()
        _write_lines(booking, quote)
        _record(booking=booking, actor=actor, kind=ChangeKind.ROLLED, code="CONF", before=before, reason=reason)
    return booking


# --- Holds and availability ------------------------------------------------------------------------------


_UNREAD = object()


def holds_of(container: Container, *, customs_released: bool, arrival=_UNREAD) -> list[str]:
    """The holds keeping an import container at the station, in a fixed order; none: available for pick-up.
    `arrival`: its announcement, when the caller read it already (None: it has none)."""
    return holds_from(customs_released=customs_released,
                      arrival=_arrival_of(container) if arrival is _UNREAD else arrival)


def holds_from(*, customs_released: bool, arrival: ArrivingContainer | None) -> list[str]:
    """The holds of an import container from customs' decision and its announcement (pages read both for many
    containers at once)."""
    holds = []
    if not customs_released:
        holds.append(HoldKind.CUSTOMS)
    if arrival is not None and arrival.freight_hold:
        holds.append(HoldKind.FREIGHT)
    if arrival is not None and arrival.terminal_hold:
        holds.append(HoldKind.TERMINAL)
    return holds


def _arrival_of(container: Container) -> ArrivingContainer | None:
    return ArrivingContainer.objects.filter(booking_id=container.booking_id, number=container.number).first()


def arrivals_of(containers: Iterable[Container]) -> dict[tuple[int, str], ArrivingContainer]:
    """The announcements of these import containers, by (booking id, number): one query for a page of them."""
    containers = list(containers)
    if not containers:
        return {}
    rows = ArrivingContainer.objects.filter(booking_id__in={c.booking_id for c in containers},
                                            number__in={c.number for c in containers})
    return {(row.booking_id, row.number): row for row in rows}


def available_record(*, actor: Actor, container: Container, at: datetime | None = None) -> None:
    """The container is available for pick-up at its station (EQUIPMENT AVPU, LADEN): said once, when its last
    hold lifts or, without holds, as it is discharged there. `container` is locked by the caller; its
    available_at is when the import on-schedule rate judges it (figures/imports.py)."""
    station = container.booking.departure.service.station
    at = at or timezone.now()
    container.available_at = at
    container.save(update_fields=["available_at"])
    event_record(
        event_type=EventType.EQUIPMENT, event_code="AVPU", classifier=Classifier.ACTUAL, event_datetime=at,
        organisation=actor.organisation, user=actor.user, equipment_reference=container.number,
        empty_indicator=EmptyIndicator.LADEN, booking_reference=container.booking.reference,
        **station_place(station), details={"size_type": container.size_type, "available_for_pickup": True})


def hold_release(*, actor: Actor, arrival: ArrivingContainer, kind: str, customs_released: bool) -> ArrivingContainer:
    """The port lifts a freight (for the carrier) or terminal hold; if the container waits at the station with no
    hold left, it becomes available for pick-up (AVPU). `customs_released`: the customs hold, as customs decided."""
    if kind not in (HoldKind.FREIGHT, HoldKind.TERMINAL):
        raise InvalidInput(errors={"kind": [_("Only freight and terminal holds are lifted here; customs releases "
                                              "its own.")]})
    with transaction.atomic():
        arrival = ArrivingContainer.objects.select_for_update(of=("self",)).select_related(
            "vessel_call__terminal").get(pk=arrival.pk)
        _require_port_of(actor, arrival.vessel_call)
        field_name = f"{kind}_hold"
        if not getattr(arrival, field_name):
            raise StateConflict(_("Container %(number)s has no %(kind)s hold.")
                                % {"number": arrival.number, "kind": HoldKind(kind).label.lower()}, code="no_hold")
        setattr(arrival, field_name, False)
        arrival.save(update_fields=[field_name])
        container = (Container.objects.select_for_update(of=("self",))
                     .select_related("booking__departure__service__station")
                     .filter(booking_id=arrival.booking_id, number=arrival.number, is_active=True).first())
        if (container is not None and container.status == ContainerStatus.AT_STATION
                and not holds_of(container, customs_released=customs_released)):
            available_record(actor=actor, container=container)
    return arrival


# --- Free time: demurrage at the station, detention with the consignee ------------------------------------


@dataclass(frozen=True)
class FreeTime:
    """One clock of an import container: from the day after `start` (the station's local day), `free_days` free,
    then `per_teu_day` a TEU for each day until `end` (or today)."""

    kind: str  # "demurrage" | "detention"
    start: date
    free_days: int
    last_free_day: date
    end: date | None
    days_used: int
    chargeable_days: int
    per_teu_day: Decimal
    teu: int
    charges: Decimal
    currency: str

    @property
    def running(self) -> bool:
        return self.end is None


def _local_day(moment: datetime, zone: str) -> date:
    return moment.astimezone(ZoneInfo(zone)).date()


def free_time_clock(*, kind: str, started: datetime, ended: datetime | None, zone: str, free_days: int,
                    per_teu_day: Decimal, teu: int, currency: str, now: datetime | None = None) -> FreeTime:
    """The clock as days of the station's calendar (Asia/Shanghai for the demo network): the day the container
    arrives (or leaves) is free of charge and not counted; counting starts the next local day, the last free day
    is that day plus free_days - 1, every day after it until the end (or today, inclusive) is charged."""
    start = _local_day(started, zone)
    first = start + timedelta(days=1)
    last_free = first + timedelta(days=free_days - 1)
    end_day = _local_day(ended or now or timezone.now(), zone)
    days_used = max((end_day - start).days, 0)
    chargeable = max((end_day - last_free).days, 0)
    return FreeTime(kind=kind, start=start, free_days=free_days, last_free_day=last_free,
                    end=_local_day(ended, zone) if ended else None, days_used=days_used,
                    chargeable_days=chargeable, per_teu_day=per_teu_day, teu=teu,
                    charges=(per_teu_day * teu * chargeable).quantize(Decimal("0.01")), currency=currency)


def container_teu(container: Container) -> int:
    return SIZE_TYPES[container.size_type].teu


def detention_terms(carrier_scac: str) -> tuple[int, Decimal, str]:
    return detention_terms_of([carrier_scac])[carrier_scac]


def detention_terms_of(carrier_scacs: Iterable[str]) -> dict[str, tuple[int, Decimal, str]]:
    """Each carrier's detention terms (free days, per TEU and day, currency), the default for one without its own:
    one query for a page's many containers."""
    scacs = set(carrier_scacs)
    terms = {row.carrier_scac: (row.free_days, row.per_teu_day, row.currency)
             for row in CarrierDetention.objects.filter(carrier_scac__in=scacs - {""})}
    return {scac: terms.get(scac, (DEFAULT_DETENTION_FREE_DAYS, DEFAULT_DETENTION_PER_TEU_DAY, "CNY"))
            for scac in scacs}


def demurrage_of(container: Container, *, now: datetime | None = None) -> FreeTime | None:
    """Demurrage: from the discharge at the station until the gate-out to the consignee."""
    if container.station_discharge_at is None:
        return None
    station: Station = container.booking.departure.service.station
    return free_time_clock(kind="demurrage", started=container.station_discharge_at, ended=container.delivered_at,
                           zone=station.timezone, free_days=container.booking.free_days,
                           per_teu_day=station.demurrage_per_teu_day, teu=container_teu(container),
                           currency=container.booking.currency, now=now)


def detention_of(container: Container, *, now: datetime | None = None,
                 terms: tuple[int, Decimal, str] | None = None) -> FreeTime | None:
    """Detention: from the gate-out to the consignee until the empty is back at an inland station. `terms`: the
    carrier's (detention_terms_of), when read already."""
    if container.delivered_at is None:
        return None
    free_days, rate, currency = terms or detention_terms(container.booking.vessel_call.carrier_scac)
    station: Station = container.booking.departure.service.station
    return free_time_clock(kind="detention", started=container.delivered_at, ended=container.returned_at,
                           zone=station.timezone, free_days=free_days, per_teu_day=rate,
                           teu=container_teu(container), currency=currency, now=now)


# --- Match-back: returned empties as the station's stock for exports -------------------------------------


def returned_empties_for(request: EmptyRequest):
    """The import empties returned at the request's station that may serve it, oldest first: same size-type, and
    the carrier of the export's vessel or of no known carrier (match-back offers these before any from the port)."""
    carrier = request.booking.vessel_call.carrier_scac
    return (ReturnedEmpty.objects.filter(station=request.booking.departure.service.station, used_at__isnull=True,
                                         size_type=request.size_type)
            .filter(Q(owner_scac="") | Q(owner_scac=carrier)).order_by("returned_at", "id"))


def returned_empty_serves(stock: ReturnedEmpty, request: EmptyRequest) -> bool:
    """returned_empties_for's rule for one returned empty, for a page that has read the station's stock once."""
    return (stock.size_type == request.size_type and stock.used_at is None
            and stock.owner_scac in ("", request.booking.vessel_call.carrier_scac))


def returned_empty_locked(request: EmptyRequest, number: str, *, stock: dict | None = None) -> ReturnedEmpty | None:
    """The returned import empty a hand-out for `request` would take from the station's stock, locked; refused if
    it is another carrier's or another size-type. `stock`: the station's unused returned empties by number, read
    and locked by the caller for many hand-outs at once (returned_empties_locked)."""
    number = (number or "").strip().upper().replace(" ", "")
    station = request.booking.departure.service.station
    if stock is None:
        stock = returned_empties_locked(station, [number])
    stock = stock.get(number)
    if stock is None:
        return None
    carrier = request.booking.vessel_call.carrier_scac
    if stock.owner_scac and carrier and stock.owner_scac != carrier:
        raise StateConflict(_("Empty %(number)s belongs to carrier %(owner)s; this booking sails with %(carrier)s.")
                            % {"number": number, "owner": stock.owner_scac, "carrier": carrier},
                            code="wrong_owner")
    if stock.size_type != request.size_type:
        raise StateConflict(_("Empty %(number)s is a %(size)s; the request is for %(wanted)s.")
                            % {"number": number, "size": stock.size_type, "wanted": request.size_type},
                            code="wrong_size_type")
    return stock


def returned_empties_locked(station: Station, numbers: list[str]) -> dict[str, ReturnedEmpty]:
    """The station's unused returned empties of these numbers, locked in the order of their ids, by number."""
    return {stock.number: stock for stock in ReturnedEmpty.objects.select_for_update(of=("self",))
            .filter(station=station, number__in=sorted(set(numbers)), used_at__isnull=True).order_by("pk")}


def returned_empty_build(*, container: Container, station: Station, at: datetime) -> ReturnedEmpty:
    """An import container returned empty at `station`: the station's stock from now on (unsaved: the caller
    writes it, alone or with others)."""
    return ReturnedEmpty(
        number=container.number, size_type=container.size_type, station=station,
        owner_scac=container.booking.vessel_call.carrier_scac, returned_at=at, import_container=container,
        port_distance_km=container.booking.departure.service.distance_km)


def check_number(number: str) -> str:
    """A container number as stored (ISO 6346, check digit verified), or InvalidInput on `containers`."""
    number = (number or "").strip().upper().replace(" ", "")
    try:
        validate_container_number(number)
    except ValidationError as exc:
        raise InvalidInput(errors={"containers": exc.messages}) from None
    return number
