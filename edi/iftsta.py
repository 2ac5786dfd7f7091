"""IFTSTA (D.95B) status messages of the events an organisation may see: one interchange, one message per event.

Which events, and which of their fields, is decided by tracking.visibility alone (events_visible, as_seen_by).
GET /api/edi/iftsta pages them as the DCSA feed does (intermodal.feed: in the order of their writing
transactions, never missing a later commit) from `since` on, with a signed cursor for the next part; the
IFTSTA webhook format (notifications) writes its delivery's event with the same function.

The mapping of our events to the message's qualifiers is in docs/INTEROPERABILITY.md ("UN/EDIFACT").
"""

from dataclasses import dataclass
from datetime import datetime

from django.core import signing
from django.db.models import Q
from django.utils.translation import gettext as _
from rest_framework import exceptions

from edi.edifact import (
    MUTUALLY_DEFINED,
    ascii_text,
    edifact_datetime,
    interchange_new,
    message_new,
    segment,
    serialize,
)
from intermodal import feed
from intermodal.access import Actor
from intermodal.codes import Classifier, EmptyIndicator, EventType, FacilityKind, ModeOfTransport
from intermodal.models import Event
from stations.models import VesselCall
from tracking.visibility import as_seen_by, events_visible

DEFAULT_LIMIT = 100
# A larger `limit` is served as this many; the rest follows with the cursor.
MAX_LIMIT = 500
CURSOR_SALT = "edi.iftsta-cursor"

# BGM 1001: 23, status information; 1225: 9 original, 5 replacement (a correction of an earlier report).
DOCUMENT_STATUS_INFORMATION = "23"
ORIGINAL, REPLACEMENT = "9", "5"
# Our status codes are DCSA's event type codes (and the platform's AVPU, MISS, CANC), list "DCSA", agency ZZZ.
CODE_LIST = "DCSA"
# 8067 mode of transport.
MODE_CODES = {ModeOfTransport.VESSEL: "1", ModeOfTransport.RAIL: "2", ModeOfTransport.TRUCK: "3",
              ModeOfTransport.BARGE: "8"}
# 8169 full/empty indicator.
FULL_EMPTY = {EmptyIndicator.EMPTY: "4", EmptyIndicator.LADEN: "5"}
# 2005 date/time qualifiers of the event's time.
DTM_STATUS = "334"  # status change date/time: what happened (ACT)
DTM_ARRIVAL = {Classifier.ACTUAL: "178", Classifier.ESTIMATED: "132", Classifier.PLANNED: "132"}
DTM_DEPARTURE = {Classifier.ACTUAL: "186", Classifier.ESTIMATED: "133", Classifier.PLANNED: "133"}
DTM_MESSAGE = "137"
# 3227: 175, activity location.
LOC_ACTIVITY = "175"
FACILITY_LIST = {FacilityKind.STATION: "STA", FacilityKind.TERMINAL: "TER"}


def _event_time(event: Event) -> tuple[str, str]:
    if event.event_type == EventType.TRANSPORT and event.event_code == "ARRI":
        return DTM_ARRIVAL.get(event.classifier, DTM_STATUS), edifact_datetime(event.event_datetime)
    if event.event_type == EventType.TRANSPORT and event.event_code == "DEPA":
        return DTM_DEPARTURE.get(event.classifier, DTM_STATUS), edifact_datetime(event.event_datetime)
    return DTM_STATUS, edifact_datetime(event.event_datetime)


def iftsta_message(event: Event, reference: str, vessel_calls: dict[str, VesselCall]):
    """One event as an IFTSTA message (UNH reference `reference`)."""
    message = message_new(reference, "IFTSTA")
    corrected = (event.details or {}).get("supersedes") if event.supersedes_id else None
    message.add_segment(segment("BGM", DOCUMENT_STATUS_INFORMATION, event.event_id.hex,
                                REPLACEMENT if corrected else ORIGINAL))
    message.add_segment(segment("DTM", [DTM_MESSAGE, edifact_datetime(event.created_at), "203"]))
    consignment = event.booking_reference or event.transport_reference or event.equipment_reference
    message.add_segment(segment("CNI", "1", consignment))
    message.add_segment(segment("STS", [event.classifier, CODE_LIST, MUTUALLY_DEFINED],
                                [event.event_code, CODE_LIST, MUTUALLY_DEFINED]))
    if event.booking_reference:
        message.add_segment(segment("RFF", ["BN", event.booking_reference]))
    if event.document_reference and event.document_reference != event.booking_reference:
        message.add_segment(segment("RFF", ["ZZZ", event.document_reference[:35]]))
    if corrected:
        message.add_segment(segment("RFF", ["ACW", str(corrected).replace("-", "")]))
    qualifier, moment = _event_time(event)
    message.add_segment(segment("DTM", [qualifier, moment, "203"]))
    if event.location_unlocode or event.facility_code:
        facility = [event.facility_code, FACILITY_LIST.get(event.facility_kind, ""), MUTUALLY_DEFINED] \
            if event.facility_code else None
        place = [event.location_unlocode, "139", "6"] if event.location_unlocode else None
        message.add_segment(segment("LOC", LOC_ACTIVITY, place, facility))
    if event.transport_reference and event.mode_of_transport in MODE_CODES:
        vessel = vessel_calls.get(event.transport_reference)
        means = [vessel.imo_number, "146", "11", ascii_text(vessel.vessel_name, 35)] \
            if vessel is not None and event.mode_of_transport == ModeOfTransport.VESSEL else None
        message.add_segment(segment("TDT", "20", event.transport_reference, MODE_CODES[event.mode_of_transport],
                                    None, None, None, None, means))
    if event.event_type == EventType.EQUIPMENT and event.equipment_reference:
        size_type = (event.details or {}).get("size_type")
        iso = [size_type, "102", "5"] if isinstance(size_type, str) and len(size_type) == 4 else None
        message.add_segment(segment("EQD", "CN", event.equipment_reference, iso, None, None,
                                    FULL_EMPTY.get(event.empty_indicator)))
        vgm = (event.details or {}).get("vgm_kg")
        if vgm:
            message.add_segment(segment("MEA", "AAE", "VGM", ["KGM", str(vgm)]))
        seal = (event.details or {}).get("seal_number")
        if isinstance(seal, str) and seal:
            message.add_segment(segment("SEL", seal[:10], "SH"))
    return message


def iftsta_interchange(*, actor: Actor, events: list[Event], control_reference: str | None = None,
                       moment: datetime | None = None) -> str:
    """The events, as the actor's party may know them, as one interchange of IFTSTA messages to its organisation
    (prepared at `moment`, now by default)."""
    recipient = (actor.organisation.code if actor.organisation else "ANONYMOUS").upper()
    interchange = interchange_new(recipient=recipient, control_reference=control_reference, moment=moment)
    vessel_refs = {e.transport_reference for e in events if e.mode_of_transport == ModeOfTransport.VESSEL}
    vessel_calls = ({c.reference: c for c in VesselCall.objects.filter(reference__in=vessel_refs).only(
        "reference", "imo_number", "vessel_name")} if vessel_refs else {})
    for number, event in enumerate(as_seen_by(actor.kind, events), start=1):
        interchange.add_message(iftsta_message(event, str(number), vessel_calls))
    return serialize(interchange)


# --- GET /api/edi/iftsta: a page from `since` on ----------------------------------------------------------


@dataclass
class IftstaPage:
    events: list[Event]
    since: datetime
    limit: int
    # Where the next request goes on from (after this page's last event; with none, where this one began).
    cursor: str
    more: bool


def _invalid(parameter: str, message: str) -> exceptions.ValidationError:
    return exceptions.ValidationError({parameter: [message]})


def _cursor(since: datetime, limit: int, key: tuple[int, int] | None) -> str:
    return signing.dumps({"s": since.isoformat(), "l": limit, "k": list(key) if key else None}, salt=CURSOR_SALT)


def iftsta_page(*, actor: Actor, since: datetime | None, cursor: str | None, limit: int | None) -> IftstaPage:
    """Up to `limit` events the actor may see, created at or after `since`, in the feed's order; with a cursor,
    those after the last one it saw (the cursor carries `since` and the limit)."""
    key = None
    if cursor:
        try:
            payload = signing.loads(cursor, salt=CURSOR_SALT)
            carried = datetime.fromisoformat(payload["s"])
            key = tuple(int(v) for v in payload["k"]) if payload["k"] is not None else None
            carried_limit = int(payload["l"])
        except (signing.BadSignature, KeyError, TypeError, ValueError):
            raise _invalid("cursor", _("The cursor is not one this server gave out.")) from None
        if since is not None and since != carried:
            raise _invalid("cursor", _("The cursor belongs to another `since`: send it alone."))
        since = carried
        limit = limit or carried_limit
    if since is None:
        raise _invalid("since", _("Give the time to start from, e.g. 2026-12-04T08:00:00+08:00 (or a cursor)."))
    limit = min(limit or DEFAULT_LIMIT, MAX_LIMIT)
    events = feed.committed_in_order(events_visible(actor=actor).filter(created_at__gte=since))
    if key is not None:
        events = events.filter(Q(txid__gt=key[0]) | Q(txid=key[0], id__gt=key[1]))
    rows = list(events.order_by(*feed.ORDER)[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    last = (rows[-1].txid, rows[-1].pk) if rows else key
    return IftstaPage(events=rows, since=since, limit=limit, cursor=_cursor(since, limit, last), more=more)
