"""Which events an organisation may be sent: the same rules as what it may read, per party kind.

Enterprises: their bookings; station operators: their stations; railways: their services' departures; the
port: its terminals and vessel calls (intermodal events as in bookings.selectors.events_visible); customs and
border inspection: the declarations at the stations their offices cover; maritime safety: dangerous goods on
vessel calls; local government: nothing commercial, so no events.
"""

from django.db.models import Q, QuerySet

from bookings.models import Booking
from bookings.selectors import events_visible
from customs.selectors import declaration_list
from intermodal.access import Actor
from intermodal.codes import DocumentType, EventType, FacilityKind, ModeOfTransport
from intermodal.models import Event, Organisation, PartyKind


def events_for(organisation: Organisation) -> QuerySet[Event]:
    """The events `organisation` may receive, as a query (filter it by id for a batch)."""
    actor = Actor(organisation=organisation)
    kind = organisation.kind
    if kind in (PartyKind.CUSTOMS, PartyKind.BORDER_INSPECTION):
        return Event.objects.filter(
            document_type=DocumentType.CUS,
            document_reference__in=declaration_list(actor=actor).values("reference"),
        )
    if kind == PartyKind.MARITIME_SAFETY:
        dangerous = Booking.objects.exclude(un_number="")
        on_vessel = Q(mode_of_transport=ModeOfTransport.VESSEL) | Q(facility_kind=FacilityKind.TERMINAL)
        return Event.objects.filter(
            on_vessel,
            booking_reference__in=dangerous.values("reference"),
            event_type=EventType.EQUIPMENT,
        )
    if kind == PartyKind.LOCAL_GOVERNMENT:
        return Event.objects.none()
    return events_visible(actor=actor)


def visible_ids(organisation: Organisation, event_ids: list[int]) -> set[int]:
    """Of `event_ids`, those `organisation` may receive: one query."""
    if not event_ids:
        return set()
    return set(events_for(organisation).filter(pk__in=event_ids).values_list("pk", flat=True))
