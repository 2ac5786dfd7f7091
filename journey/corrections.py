"""Corrections: the reporter of a step puts right the time it reported.

Events are append-only and have been told (webhooks, DCSA feeds, pollers), so a wrong report is not edited: a
correction is a new event of the same step with the right time that names the one it supersedes
(`Event.supersedes`, and `supersedes` in our API and webhooks; DCSA consumers see a new event with the corrected
time). Timelines show the correction, marked as one; the state that carried the wrong time (a departure's or
vessel's actual time, a container's terminal gate-in, an empty request's ready time) takes the right one in the
same transaction. The new time is checked as a report would be (journey.plausibility), with the same `confirm`.
A train's or vessel's departure moves the left-behind (MISS) events it caused with it.
"""

from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings.models import Container, EmptyRequest
from intermodal.access import Actor
from intermodal.codes import Classifier, EventType, FacilityKind, ModeOfTransport
from intermodal.errors import InvalidInput, NotAllowed, StateConflict
from intermodal.events import event_build, events_append
from intermodal.models import Event, PartyKind
from journey.plausibility import before_previous, far_from_plan, local, require_plausible, too_fast
from journey.services import FUTURE_TOLERANCE
from stations.models import Departure, VesselCall

# The actual steps a reporter may correct: what the journey records from a report (not what it derives).
CORRECTABLE = {
    EventType.TRANSPORT: {"DEPA", "ARRI"},
    EventType.EQUIPMENT: {"AVPU", "GTOT", "GTIN", "LOAD", "DISC"},
}
# Fields of the wrong report the correction repeats.
_COPIED = (
    "event_type", "event_code", "classifier", "location_unlocode", "facility_kind", "facility_code",
    "mode_of_transport", "transport_reference", "equipment_reference", "empty_indicator", "booking_reference",
    "document_type", "document_reference",
)


def correctable(event: Event) -> bool:
    return event.classifier == Classifier.ACTUAL and event.event_code in CORRECTABLE.get(event.event_type, ())


def may_correct(actor: Actor, event: Event) -> bool:
    """Whether the actor may correct the event: its reporter's organisation (or a platform admin)."""
    if not correctable(event):
        return False
    if actor.kind == PartyKind.PLATFORM_ADMIN:
        return True
    return actor.organisation is not None and event.reported_by_organisation_id == actor.organisation.pk


def _correction(original: Event, actor: Actor, at: datetime, reason: str) -> Event:
    return event_build(
        **{name: getattr(original, name) for name in _COPIED},
        event_datetime=at,
        organisation=actor.organisation,
        user=actor.user,
        reason=reason,
        details={**original.details, "supersedes": str(original.event_id),
                 "replaced_datetime": original.event_datetime.isoformat()},
        supersedes=original,
    )


def _current(queryset):
    """The reports no correction has replaced."""
    return queryset.filter(superseded_by__isnull=True)


def _left_behind_moved(original: Event, actor: Actor, at: datetime, reason: str) -> list[Event]:
    """The MISS events a train's or vessel's departure caused, at the corrected time."""
    missed = _current(Event.objects.filter(event_code="MISS", transport_reference=original.transport_reference,
                                           event_datetime=original.event_datetime))
    return [_correction(event, actor, at, reason) for event in missed.select_for_update(of=("self",))]


def _transport_checks(original: Event, at: datetime) -> tuple[list, datetime | None]:
    """Check the corrected time of a train's or vessel's departure or arrival and carry it to the departure or
    vessel call; the plausibility reasons and the expected time."""
    if original.mode_of_transport == ModeOfTransport.VESSEL:
        call = VesselCall.objects.select_for_update().get(reference=original.transport_reference)
        if original.event_code == "ARRI":  # an import vessel's arrival: its sailing stays as it was
            reasons = [far_from_plan(_("The arrival of %(vessel)s") % {"vessel": call.vessel_name}, at,
                                     "vessel_arrival", call.eta)]
            call.actual_arrival = at
            call.save(update_fields=["actual_arrival"])
            return reasons, call.eta
        reasons = [far_from_plan(_("The sailing of %(vessel)s") % {"vessel": call.vessel_name}, at,
                                 "vessel_departure", call.etd)]
        call.actual_departure = at
        call.save(update_fields=["actual_departure"])
        return reasons, call.etd
    departure = Departure.objects.select_for_update().get(reference=original.transport_reference)
    transit = departure.planned_arrival - departure.planned_departure
    if original.event_code == "DEPA":
        if departure.actual_arrival is not None and at >= departure.actual_arrival:
            raise InvalidInput(errors={"event_datetime": [
                _("The departure must come before the arrival (%(at)s).") % {"at": local(departure.actual_arrival)}]})
        reasons = [
            far_from_plan(_("The departure of train %(ref)s") % {"ref": departure.reference}, at, "train_departure",
                          departure.planned_departure, departure.estimated_departure),
            too_fast(departure.actual_arrival, at, transit) if departure.actual_arrival else None,
        ]
        departure.actual_departure = at
        expected = departure.estimated_departure or departure.planned_departure
    else:
        if at <= departure.actual_departure:
            raise InvalidInput(errors={"event_datetime": [_("The arrival must come after the departure.")]})
        reasons = [
            far_from_plan(_("The arrival of train %(ref)s") % {"ref": departure.reference}, at, "train_arrival",
                          departure.planned_arrival, departure.estimated_arrival),
            too_fast(at, departure.actual_departure, transit),
        ]
        departure.actual_arrival = at
        expected = departure.estimated_arrival or departure.planned_arrival
    departure.save(update_fields=["actual_departure", "actual_arrival"])
    return reasons, expected


def _equipment_checks(original: Event, at: datetime) -> list:
    """Check the corrected time of a container's step against the steps around it (its own current events) and
    carry it to the container or empty request that holds it; the plausibility reasons."""
    what = _("%(number)s's step") % {"number": original.equipment_reference or original.booking_reference}
    if original.event_code == "AVPU":
        request = EmptyRequest.objects.select_for_update().get(pk=original.details.get("empty_request"))
        if at < request.requested_at:
            message = _("Empties are ready after the request (%(requested)s).")
            raise InvalidInput(errors={"event_datetime": [message % {"requested": local(request.requested_at)}]})
        request.ready_at = at
        request.save(update_fields=["ready_at"])
        return []
    own = _current(Event.objects.filter(
        equipment_reference=original.equipment_reference, booking_reference=original.booking_reference,
        event_type=EventType.EQUIPMENT, classifier=Classifier.ACTUAL).exclude(pk=original.pk))
    earlier = own.filter(Q(event_datetime__lt=original.event_datetime)
                         | Q(event_datetime=original.event_datetime, pk__lt=original.pk)).order_by("-event_datetime")
    later = own.filter(Q(event_datetime__gt=original.event_datetime)
                       | Q(event_datetime=original.event_datetime, pk__gt=original.pk)).order_by("event_datetime")
    previous, following = earlier.first(), later.first()
    reasons = [before_previous(what, at, previous.event_code, previous.event_datetime) if previous else None]
    if following is not None and at > following.event_datetime:
        reasons.append(_("%(what)s is corrected to %(at)s, after the next step (%(next)s at %(next_at)s).") % {
            "what": what, "at": local(at), "next": following.event_code, "next_at": local(following.event_datetime)})
    if original.event_code == "GTIN" and original.facility_kind == FacilityKind.TERMINAL:
        Container.objects.filter(number=original.equipment_reference,
                                 booking__reference=original.booking_reference).update(terminal_gate_in_at=at)
    return reasons


def event_correct(*, actor: Actor, event: Event, at: datetime, reason: str = "", confirmed: bool = False) -> Event:
    """Correct the time of a step the actor's organisation reported: the correction event (it and its outbox row,
    any moved left-behind events, and the state that carried the time, in one transaction)."""
    if timezone.is_naive(at):
        raise InvalidInput(errors={"event_datetime": [_("A time zone is required.")]})
    if at > timezone.now() + FUTURE_TOLERANCE:
        raise InvalidInput(errors={"event_datetime": [_("An actual time cannot be in the future.")]})
    with transaction.atomic():
        original = Event.objects.select_for_update(of=("self",)).get(pk=event.pk)
        if not correctable(original):
            raise StateConflict(
                _("Only the actual time of a reported step can be corrected; a new estimate is reported as one."),
                code="not_correctable")
        if not may_correct(actor, original):
            raise NotAllowed(_("Only the organisation that reported it can correct it."), code="not_your_report")
        newer = Event.objects.filter(supersedes=original).values_list("event_id", flat=True).first()
        if newer is not None:
            raise StateConflict(
                _("This report was corrected already: correct the correction (event %(id)s).") % {"id": newer},
                code="already_corrected")
        if at == original.event_datetime:
            raise InvalidInput(errors={"event_datetime": [_("That is the time already reported.")]})
        if original.event_type == EventType.TRANSPORT:
            reasons, expected = _transport_checks(original, at)
        else:
            reasons, expected = _equipment_checks(original, at), None
        require_plausible(reasons, confirmed=confirmed, planned=expected)
        correction = _correction(original, actor, at, reason)
        moved = _left_behind_moved(original, actor, at, reason) if original.event_code == "DEPA" else []
        events_append([correction, *moved])
    return correction
