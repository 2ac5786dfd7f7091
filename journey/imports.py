"""The import journey, one service function per step, with the same rules as the export steps (journey.services):
each checks the container's state and the actor's place, writes the new state and records the event and its
outbox row in one transaction, or is refused and writes nothing.

vessel arrives (ARRI vessel, the port) -> discharged from the vessel (DISC vessel, the port) -> loaded on the train
at the terminal (LOAD rail, the port) -> the train departs and arrives (DEPA / ARRI rail, the railway:
journey.services) -> discharged at the station (DISC rail, station staff) -> available for pick-up once no hold
remains (AVPU) -> gated out full to the consignee (GTOT laden, station staff; never before customs' release) ->
returned empty at an inland station (GTIN empty, station staff), where the empty is stock for exports (match-back).
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings.models import Container, ContainerStatus
from bookings.services import station_place
from customs.selectors import released_bookings
from customs.services import container_released
from inbound.models import ArrivingContainer, HoldKind
from inbound.services import (
    arrivals_of,
    demurrage_of,
    detention_of,
    detention_terms_of,
    hold_release,
    holds_from,
    holds_of,
    returned_empty_build,
)
from intermodal.access import Actor
from intermodal.codes import Classifier, EmptyIndicator, EventType
from intermodal.errors import StateConflict
from journey.plausibility import before_previous, far_from_plan, require_plausible
from journey.services import (
    _active_container,
    _booking_refresh_after,
    _deferred,
    _departure_locked,
    _equipment_event,
    _move,
    _rail,
    _require_after_last_step,
    _require_port,
    _require_station_staff,
    _require_status,
    _terminal_place,
    _transport_event,
    _vessel,
    announced_to_discharge,
    announcement_of,
    arrival_discharged,
    customs_released,
    event_write,
    returned_empty_write,
    step_transaction,
)
from stations.models import Departure, DepartureStatus, Station, VesselCall

S = ContainerStatus


def _require_import(container: Container) -> None:
    if not container.booking.is_import:
        raise StateConflict(_("Container %(number)s is an export: this is an import step.")
                            % {"number": container.number}, code="illegal_step")


def vessel_arrive(*, actor: Actor, vessel_call: VesselCall, at: datetime | None = None, confirmed: bool = False
                  ) -> VesselCall:
    """The port reports the vessel alongside (TRANSPORT ARRI, vessel): its import containers may be discharged. A
    time far from its ETA needs `confirmed`."""
    at = at or timezone.now()
    with transaction.atomic():
        call = VesselCall.objects.select_for_update(of=("self",)).select_related("terminal").get(pk=vessel_call.pk)
        _require_port(actor, call.terminal)
        if call.actual_arrival is not None:
            raise StateConflict(_("Vessel %(vessel)s has already arrived.") % {"vessel": call.vessel_name},
                                code="illegal_step")
        if call.actual_departure is not None:
            raise StateConflict(_("Vessel %(vessel)s has sailed.") % {"vessel": call.vessel_name}, code="sailed")
        require_plausible([far_from_plan(_("The arrival of %(vessel)s") % {"vessel": call.vessel_name}, at,
                                         "vessel_arrival", call.eta)], confirmed=confirmed, planned=call.eta)
        call.actual_arrival = at
        call.save(update_fields=["actual_arrival"])
        _transport_event(actor, "ARRI", at, place=_terminal_place(call.terminal), transport=_vessel(call))
    return call


def vessel_discharge(*, actor: Actor, number: str, at: datetime | None = None, confirmed: bool = False
                     ) -> ArrivingContainer:
    """The port discharges an announced import container from its vessel (DISC, vessel), booked inland or not."""
    at = at or timezone.now()
    number = (number or "").strip().upper().replace(" ", "")
    with step_transaction():
        arrival = announced_to_discharge(number)
        if arrival is None:
            raise StateConflict(_("Container %(number)s is not announced on any arriving vessel.")
                                % {"number": number}, code="unknown_container")
        call = arrival.vessel_call
        _require_port(actor, call.terminal)
        if call.actual_arrival is None:
            raise StateConflict(_("Vessel %(vessel)s has not arrived: report its arrival first.")
                                % {"vessel": call.vessel_name}, code="illegal_step")
        require_plausible([before_previous(_("The discharge of %(number)s") % {"number": number}, at,
                                           _("the vessel's arrival"), call.actual_arrival)], confirmed=confirmed)
        container = _booked_inland(arrival)
        if container is not None:
            _require_status(container, [S.ARRIVING], _("discharged from the vessel"))
        arrival_discharged(arrival, at)
        details = {"size_type": arrival.size_type, "bl_number": arrival.bl_number}
        if container is None:  # not booked inland yet: the fact is the port's and the consignee's
            event_write(event_type=EventType.EQUIPMENT, event_code="DISC", classifier=Classifier.ACTUAL,
                        event_datetime=at, organisation=actor.organisation, user=actor.user,
                        equipment_reference=number, empty_indicator=EmptyIndicator.LADEN,
                        **_terminal_place(call.terminal), **_vessel(call), details=details)
            return arrival
        _equipment_event(container, actor, "DISC", place=_terminal_place(call.terminal), at=at,
                         transport=_vessel(call), details={"bl_number": arrival.bl_number})
        _move(container, S.AT_TERMINAL)
        _booking_refresh_after(container.booking)
    return arrival


def _booked_inland(arrival: ArrivingContainer) -> Container | None:
    """The active container an announcement was booked inland as, locked (in a run: locked when it began)."""
    if not arrival.booking_id:
        return None
    pending = _deferred.get()
    held = pending.locked.get(arrival.number) if pending is not None else None
    if held is not None and held.booking_id == arrival.booking_id:
        return held
    return (Container.objects.select_for_update(of=("self",)).select_related("booking")
            .filter(booking_id=arrival.booking_id, number=arrival.number, is_active=True).first())


def import_train_load(*, actor: Actor, number: str, departure: Departure | None = None, at: datetime | None = None,
                      confirmed: bool = False) -> Container:
    """The port loads an import container on its booked train or barge at the terminal (LOAD, rail/barge)."""
    at = at or timezone.now()
    with step_transaction():
        found = _active_container(number, lock=False)
        departure = _departure_locked(departure or found.booking.departure)
        container = _active_container(number)
        _require_import(container)
        _require_port(actor, departure.service.terminal)
        if container.booking.departure_id != departure.pk:
            raise StateConflict(
                _("Container %(number)s is booked on departure %(booked)s, not %(ref)s.")
                % {"number": container.number, "booked": container.booking.departure.reference,
                   "ref": departure.reference}, code="wrong_departure")
        if departure.status not in (DepartureStatus.SCHEDULED, DepartureStatus.CLOSED):
            raise StateConflict(_("Departure %(ref)s is %(status)s.")
                                % {"ref": departure.reference, "status": departure.get_status_display().lower()},
                                code="departure_gone")
        _require_status(container, [S.AT_TERMINAL], _("loaded on the train"))
        _require_after_last_step(container, at, _("The loading of %(number)s on the train"), confirmed=confirmed)
        _equipment_event(container, actor, "LOAD", place=_terminal_place(departure.service.terminal), at=at,
                         transport=_rail(departure))
        _move(container, S.ON_TRAIN)
        _booking_refresh_after(container.booking)
    return container


def station_discharge(*, actor: Actor, number: str, at: datetime | None = None, confirmed: bool = False
                      ) -> Container:
    """Station staff take an import container off the train (DISC, rail): its free time at the station starts, and
    with no hold it is available for pick-up at once (AVPU)."""
    at = at or timezone.now()
    with step_transaction():
        container = _active_container(number)
        _require_import(container)
        departure = container.booking.departure
        _require_station_staff(actor, departure.service.station)
        _require_status(container, [S.AT_STATION_TRACK], _("discharged at the station"))
        _require_after_last_step(container, at, _("The discharge of %(number)s"), confirmed=confirmed)
        _equipment_event(container, actor, "DISC", place=station_place(departure.service.station), at=at,
                         transport=_rail(departure))
        container.station_discharge_at = at
        available = not holds_now(container)
        if available:
            _equipment_event(container, actor, "AVPU", place=station_place(departure.service.station), at=at,
                             details={"available_for_pickup": True})
            container.available_at = at
        _move(container, S.AT_STATION, "station_discharge_at", *(["available_at"] if available else []))
        _booking_refresh_after(container.booking)
    return container


def hold_lift(*, actor: Actor, arrival: ArrivingContainer, kind: str) -> ArrivingContainer:
    """The port lifts a freight or terminal hold (inbound.services.hold_release), with customs' own hold as customs
    decided it for the container's booking: the pages and the API call this."""
    container = (Container.objects.filter(booking_id=arrival.booking_id, number=arrival.number, is_active=True).first()
                 if arrival.booking_id else None)
    released = container is not None and container_released(container)
    return hold_release(actor=actor, arrival=arrival, kind=kind, customs_released=released)


def holds_now(container: Container) -> list[str]:
    """The holds on an import container as every page and API shows them (customs as customs decided): in a run
    of steps, customs' decisions and the announcements read once for all of its containers."""
    return holds_of(container, customs_released=customs_released(container), arrival=announcement_of(container))


def with_holds_and_free_time(containers: list[Container], *, now: datetime | None = None) -> list[Container]:
    """Each import container with `holds` (HoldKind values, customs as customs decided), `hold_labels`,
    `available` (for pick-up), `demurrage` and `detention` (inbound.services.FreeTime or None): four queries
    for any number of containers. The containers come with booking__departure__service__station and
    booking__vessel_call."""
    released = released_bookings(c.booking_id for c in containers)
    announced = arrivals_of(containers)
    terms = detention_terms_of({c.booking.vessel_call.carrier_scac for c in containers})
    for container in containers:
        waiting = container.is_active and container.delivered_at is None
        container.holds = holds_from(
            customs_released=container.booking_id in released,
            arrival=announced.get((container.booking_id, container.number))) if waiting else []
        container.hold_labels = [HoldKind(hold).label for hold in container.holds]
        container.available = container.status == S.AT_STATION and not container.holds
        container.demurrage = demurrage_of(container, now=now)
        container.detention = detention_of(
            container, now=now, terms=terms[container.booking.vessel_call.carrier_scac])
    return containers


def import_gate_out(*, actor: Actor, number: str, at: datetime | None = None, confirmed: bool = False
                    ) -> Container:
    """Station staff hand the full import container to the consignee's truck (GTOT, LADEN): only without holds -
    never before customs' release. Demurrage stops, detention starts."""
    at = at or timezone.now()
    with step_transaction():
        container = _active_container(number)
        _require_import(container)
        station = container.booking.departure.service.station
        _require_station_staff(actor, station)
        _require_status(container, [S.AT_STATION], _("gated out to the consignee"))
        holds = holds_now(container)
        if holds:
            raise StateConflict(
                _("Container %(number)s is on hold (%(holds)s): it may not leave the station.")
                % {"number": container.number, "holds": ", ".join(str(HoldKind(h).label) for h in holds)},
                code="on_hold" if holds != [HoldKind.CUSTOMS] else "not_released")
        _require_after_last_step(container, at, _("The gate-out of %(number)s"), confirmed=confirmed)
        _equipment_event(container, actor, "GTOT", place=station_place(station), at=at)
        container.delivered_at = at
        _move(container, S.DELIVERED, "delivered_at")
        _booking_refresh_after(container.booking)
    return container


def empty_return(*, actor: Actor, number: str, station: Station | None = None, at: datetime | None = None,
                 confirmed: bool = False) -> Container:
    """The consignee's truck returns the import container empty at an inland station with an empty depot (GTIN,
    EMPTY): detention stops, the container leaves its booking (free for the next one) and becomes the station's
    stock, offered first to its export empty requests (match-back)."""
    at = at or timezone.now()
    with step_transaction():
        container = _active_container(number)
        _require_import(container)
        station = station or container.booking.departure.service.station
        _require_station_staff(actor, station)
        if not station.has_empty_depot:
            raise StateConflict(_("Station %(station)s takes no empties back.") % {"station": station.code},
                                code="no_empty_depot")
        _require_status(container, [S.DELIVERED], _("returned empty"))
        _require_after_last_step(container, at, _("The return of %(number)s"), confirmed=confirmed)
        _equipment_event(container, actor, "GTIN", empty=True, place=station_place(station), at=at)
        container.returned_at = at
        container.is_active = False
        _move(container, S.RETURNED, "returned_at", "is_active")
        returned_empty_write(returned_empty_build(container=container, station=station, at=at))
    return container
