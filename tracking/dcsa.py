"""DCSA Track & Trace 2.2.0 for partner systems: GET /v2/events and /v2/events/{eventID}, scoped to the caller.

Events are stored after DCSA's model (intermodal.models.Event); this module filters them by the 2.2.0 query
parameters, pages them with a signed keyset cursor and writes each as the 2.2.0 JSON of its event type. Rows
the 2.2.0 schema cannot carry (codes of newer DCSA lists such as AVPU and CANC, a document type outside the
2.2.0 enum, a transport event without its transport) are left out in the query itself, so pages stay full.

Filters follow what DCSA's Conformance-Gateway plays against a 2.2.0 publisher: a filter matches the events that
show the value it matched on (a B/L number in documentReferences or as a TRD's documentID, a container in
equipmentReference or as an EQ reference, a service's short code as a rail or barge call's carrierServiceCode),
and a filter that does not apply to the eventType asked for is a 400 (the Gateway's QueryParameterSpecificRule).
"""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus

from django.core import signing
from django.db.models import BigIntegerField, ExpressionWrapper, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from drf_spectacular.plumbing import build_array_type, build_basic_type
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import APIView

from bookings.models import BillOfLadingStatus, Booking, BookingStatus
from bookings.selectors import booking_scope
from databases.prepared import shaped_rows
from databases.replicas import ReplicaReadsMixin
from inbound.models import ArrivingContainer
from intermodal import feed
from intermodal.access import Actor
from intermodal.api import NON_FIELD
from intermodal.api import exception_handler as project_exception_handler
from intermodal.codes import (
    NOT_IN_DCSA_220,
    Classifier,
    DocumentType,
    EmptyIndicator,
    EquipmentCode,
    EventType,
    FacilityKind,
    ModeOfTransport,
    ShipmentCode,
    TransportCode,
)
from intermodal.dcsa import SCAC_PROVIDER, limit_param, local_text
from intermodal.dcsa import utc_text as _utc
from intermodal.models import Event, Scope
from stations.models import Departure, Direction, Station, Terminal, VesselCall
from tracking.visibility import as_seen_by, events_visible, visible_among

API_VERSION = "2.2.0"
DEFAULT_LIMIT = 100
# The spec sets no maximum; a larger `limit` is served as this many, the rest follows on Next-Page.
MAX_LIMIT = 1000

# What the 2.2.0 enums allow, from the one registry of codes.
EQUIPMENT_CODES = frozenset(EquipmentCode.values) - NOT_IN_DCSA_220
TRANSPORT_CODES = frozenset(TransportCode.values) - NOT_IN_DCSA_220
SHIPMENT_CODES = frozenset(ShipmentCode.values) - NOT_IN_DCSA_220
DOCUMENT_TYPES = frozenset(DocumentType.values)
EVENT_TYPES = frozenset(EventType.values)
MODES = frozenset(ModeOfTransport.values)
FACILITY_TYPE = {FacilityKind.STATION: "INTE", FacilityKind.TERMINAL: "POTE"}

# Our station and terminal codes are neither SMDG nor BIC facility codes (and longer than the 6 characters the
# schema allows), so places go out as UN/LOCODE plus a name: locationName, or otherFacility in a transport call.
# 2.2.0 requires a sealType we do not record: containers travel under ISO 17712 bolt seals.
SEAL_TYPE = "BLT"

CURSOR_SALT = "tracking.dcsa.events-cursor"

# --- Query parameters ------------------------------------------------------------------------------------

# Comma-separated lists of codes (OR-ed), each checked against its 2.2.0 enum.
CODE_FILTERS: dict[str, frozenset[str]] = {
    "eventType": EVENT_TYPES,
    "shipmentEventTypeCode": SHIPMENT_CODES,
    "documentTypeCode": DOCUMENT_TYPES,
    "transportEventTypeCode": TRANSPORT_CODES,
    "equipmentEventTypeCode": EQUIPMENT_CODES,
}
# Free values (comma-separated values OR-ed too), with the schema's maxLength.
TEXT_FILTERS: dict[str, int] = {
    "carrierBookingReference": 35,
    "bookingReference": 35,  # deprecated alias of carrierBookingReference
    "transportDocumentReference": 20,
    "transportCallID": 100,
    "vesselIMONumber": 7,
    "exportVoyageNumber": 50,
    "carrierVoyageNumber": 50,  # deprecated alias of exportVoyageNumber
    "carrierServiceCode": 5,
    "UNLocationCode": 5,
    "equipmentReference": 15,
}
UUID_FILTERS = ("transportDocumentID", "scheduleID")
# Things we issue no identifiers for: a filter on them matches no event.
NEVER_MATCHING = ("transportDocumentID", "scheduleID")

# The event types each filter applies to, after the spec's descriptions ("only relevant when filtering on
# ShipmentEvents", a transport call only on transport and equipment events) and DCSA's Conformance-Gateway
# (QueryParameterSpecificRule): with an eventType given, a filter that applies to none of its types is a 400.
# Deprecated names go with their successors; scheduleID (a transport call's schedule) with the transport call.
_ALL = frozenset(EVENT_TYPES)
_ON_TRANSPORT_CALLS = frozenset({EventType.TRANSPORT, EventType.EQUIPMENT})
APPLIES_TO: dict[str, frozenset[str]] = {
    "shipmentEventTypeCode": frozenset({EventType.SHIPMENT}),
    "documentTypeCode": frozenset({EventType.SHIPMENT}),
    "transportDocumentID": frozenset({EventType.SHIPMENT}),
    "transportEventTypeCode": frozenset({EventType.TRANSPORT}),
    "equipmentEventTypeCode": frozenset({EventType.EQUIPMENT}),
    "carrierBookingReference": _ALL,
    "bookingReference": _ALL,
    "transportDocumentReference": _ALL,
    "equipmentReference": _ALL,
    "transportCallID": _ON_TRANSPORT_CALLS,
    "scheduleID": _ON_TRANSPORT_CALLS,
    "vesselIMONumber": _ON_TRANSPORT_CALLS,
    "exportVoyageNumber": _ON_TRANSPORT_CALLS,
    "carrierVoyageNumber": _ON_TRANSPORT_CALLS,
    "carrierServiceCode": _ON_TRANSPORT_CALLS,
    "UNLocationCode": _ON_TRANSPORT_CALLS,
}
CREATED = "eventCreatedDateTime"
CREATED_LOOKUPS = {"": "exact", "eq": "exact", "gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte"}
SORTABLE = {"eventCreatedDateTime"}


def _invalid(parameter: str, message: str) -> exceptions.ValidationError:
    return exceptions.ValidationError({parameter: [message]})


@dataclass(frozen=True)
class EventQuery:
    """The filters and sort of a request, canonical so that a cursor can carry and compare them."""

    filters: dict[str, list[str]] = field(default_factory=dict)
    created: list[list[str]] = field(default_factory=list)  # [lookup, ISO date-time], AND-ed
    descending: bool = False

    def as_payload(self) -> dict:
        return {"f": self.filters, "c": self.created, "s": "desc" if self.descending else "asc"}

    @classmethod
    def from_payload(cls, payload: dict) -> "EventQuery":
        return cls(filters=payload["f"], created=payload["c"], descending=payload["s"] == "desc")


def _values(params, name: str) -> list[str]:
    return sorted({v.strip() for raw in params.getlist(name) for v in raw.split(",") if v.strip()})


def datetime_param(parameter: str, raw: str) -> datetime:
    # An unencoded "+" of the offset arrives as a space.
    value = raw.strip().replace(" ", "+")
    try:
        moment = parse_datetime(value)
    except ValueError:
        moment = None
    if moment is None:
        raise _invalid(parameter, f"{raw!r} is not a date-time; send e.g. 2021-04-01T14:12:56+01:00.")
    if timezone.is_naive(moment):
        raise _invalid(parameter, f"{raw!r} has no time zone offset; send e.g. 2021-04-01T14:12:56+01:00 or ...Z.")
    try:
        # 0001-01-01T00:00+03:00 is a valid text but no instant in UTC. And PostgreSQL takes offsets up to 15:59,
        # Python's up to 23:59: the instant goes on in UTC.
        return moment.astimezone(UTC)
    except OverflowError:
        raise _invalid(parameter, f"{raw!r} is out of range.") from None


def event_query_parse(params) -> tuple[EventQuery, bool]:
    """The request's filters and sort, and whether it gave any (a cursor request may repeat them)."""
    for name in params:
        if any("\x00" in value for value in params.getlist(name)):
            # PostgreSQL's text cannot hold a NUL: refused here, as Django's form fields refuse it elsewhere.
            raise _invalid(name, "Null characters are not allowed.")
    filters: dict[str, list[str]] = {}
    for name, allowed in CODE_FILTERS.items():
        values = _values(params, name)
        unknown = [v for v in values if v not in allowed]
        if unknown:
            raise _invalid(name, f"{', '.join(unknown)} is not one of the DCSA 2.2.0 values "
                                 f"{', '.join(sorted(allowed))}.")
        if values:
            filters[name] = values
    for name, max_length in TEXT_FILTERS.items():
        values = _values(params, name)
        too_long = [v for v in values if len(v) > max_length]
        if too_long:
            raise _invalid(name, f"{too_long[0]!r} is longer than {max_length} characters.")
        if values:
            filters[name] = values
    for name in UUID_FILTERS:
        values = _values(params, name)
        for value in values:
            try:
                uuid.UUID(value)
            except ValueError:
                raise _invalid(name, f"{value!r} is not a UUID.") from None
        if values:
            filters[name] = values

    created: set[tuple[str, str]] = set()
    for key in params:
        name, _sep, operator = key.partition(":")
        if name != CREATED:
            continue
        lookup = CREATED_LOOKUPS.get(operator.lower())
        if lookup is None:
            raise _invalid(key, f"Unknown operator {operator!r}: use one of :gte, :gt, :lte, :lt, :eq.")
        for raw in params.getlist(key):
            if raw.strip():
                created.add((lookup, datetime_param(key, raw).astimezone(UTC).isoformat()))

    descending = False
    sort = params.get("sort", "").strip()
    items = [item.strip() for item in sort.split(",") if item.strip()]
    if items:
        for item in items:
            name, _sep, direction = item.partition(":")
            if name not in SORTABLE:
                raise _invalid("sort", f"Sorting is supported on {', '.join(sorted(SORTABLE))} only, not {name!r}.")
            if direction.upper() not in ("", "ASC", "DESC"):
                raise _invalid("sort", f"{direction!r} is not ASC or DESC.")
        descending = items[0].partition(":")[2].upper() == "DESC"
    given = bool(filters or created or items)
    return EventQuery(filters=filters, created=[list(c) for c in sorted(created)], descending=descending), given


def query_check_applies(filters: dict[str, list[str]]) -> None:
    """DCSA's QueryParameterSpecificRule: with an eventType, every filter applies to one of its types. Without
    one, contradicting filters match nothing (an empty list), as the spec's description of GET /v2/events says."""
    asked = set(filters.get("eventType", ()))
    if not asked:
        return
    errors = {
        name: [_("This filter does not apply to eventType %(asked)s: it filters %(types)s events only.") % {
            "asked": ",".join(sorted(asked)), "types": ", ".join(sorted(APPLIES_TO[name]))}]
        for name in filters if name in APPLIES_TO and not APPLIES_TO[name] & asked
    }
    if errors:
        raise exceptions.ValidationError(errors)


# --- Which events, in which order ------------------------------------------------------------------------

# What the 2.2.0 schema can carry: codes of its enums and every field its event type requires.
EMITTABLE = (
    (
        Q(event_type=EventType.EQUIPMENT, event_code__in=EQUIPMENT_CODES, empty_indicator__in=EmptyIndicator.values)
        | (Q(event_type=EventType.TRANSPORT, event_code__in=TRANSPORT_CODES, mode_of_transport__in=MODES)
           & ~Q(transport_reference=""))
        | (Q(event_type=EventType.SHIPMENT, event_code__in=SHIPMENT_CODES, document_type__in=DOCUMENT_TYPES)
           & ~(Q(document_reference="") & Q(booking_reference="")))
    )
    & Q(classifier__in=Classifier.values)
    & ~Q(event_code__in=NOT_IN_DCSA_220)
)


def _bookings_travelling(actor: Actor) -> QuerySet[Booking]:
    """The caller's bookings whose containers go (or went) on their departure and vessel call."""
    bookings = Booking.objects.exclude(status__in=[BookingStatus.DRAFT, BookingStatus.CANCELLED])
    scope = booking_scope(actor)
    return bookings if scope is None else bookings.filter(scope)


def _transports_of(bookings: QuerySet[Booking], *, discharges: bool = False) -> Q:
    """The transport events of the trains and vessels `bookings` (a few) travel on; with `discharges`, also their
    import containers' discharges from the vessel (_discharged_for). Their references are read first and given as
    values, which the events' transport index finds in each monthly partition: as a subquery, every transport
    event of the year was filtered against it (P8)."""
    trains, vessels, imports = set(), set(), []
    for pk, departure, vessel_call, direction in shaped_rows(
            bookings.values_list("pk", "departure__reference", "vessel_call__reference", "direction")):
        trains.add(departure)
        vessels.add(vessel_call)
        if direction == Direction.IMPORT:
            imports.append(pk)
    transports = Q(event_type=EventType.TRANSPORT) & (
        Q(mode_of_transport=ModeOfTransport.VESSEL, transport_reference__in=sorted(vessels))
        | (~Q(mode_of_transport=ModeOfTransport.VESSEL) & Q(transport_reference__in=sorted(trains)))
    )
    return transports | _discharged_for(imports) if discharges and imports else transports


def _has_transport_call() -> Q:
    return ~Q(event_type=EventType.SHIPMENT) & Q(mode_of_transport__in=MODES) & ~Q(transport_reference="")


def _vessel_calls(**lookup) -> Q:
    return Q(mode_of_transport=ModeOfTransport.VESSEL) & _has_transport_call() & Q(
        transport_reference__in=VesselCall.objects.filter(**lookup).values("reference"))


def _departures(**lookup) -> Q:
    """Events on a train's or barge's transport call (a departure of a service)."""
    return ~Q(mode_of_transport=ModeOfTransport.VESSEL) & _has_transport_call() & Q(
        transport_reference__in=Departure.objects.filter(**lookup).values("reference"))


def _with_bill_issued(actor: Actor, numbers: list[str]) -> QuerySet[Booking]:
    """The caller's bookings whose issued B/L has one of these numbers."""
    return _bookings_travelling(actor).filter(bill_of_lading__status=BillOfLadingStatus.ISSUED,
                                              bill_of_lading__number__in=numbers)


def _equipment_events(actor: Actor, among: Q) -> QuerySet[Event]:
    """The containers' own events matching `among` that the caller may read: who was loaded on which transport,
    of which booking. Their visibility is decided for the bookings they name alone (visible_among)."""
    return visible_among(actor=actor, among=Q(event_type=EventType.EQUIPMENT) & ~Q(equipment_reference="") & among)


def _discharged_for(imports: list[int]) -> Q:
    """The discharges from the vessel of the containers of these import bookings, whatever booking they name: the
    port often discharges a box before its consignee books it inland, and that event names no booking, yet it is
    the booking's container's step (its timeline shows it: tracking.facts). The containers and the vessel are
    read first (one statement) and given as values, which the events' container index finds; such a discharge
    comes after the box was announced (journey.api: an unbooked box is discharged only once announced), so the
    monthly partitions before the booking's first announcement are not read."""
    numbers, vessels, since = set(), set(), []
    first_announced = ArrivingContainer.objects.filter(booking=OuterRef("pk")).order_by("announced_at").values(
        "announced_at")[:1]
    for number, vessel_call, announced in shaped_rows(
            Booking.objects.filter(pk__in=imports, containers__isnull=False).annotate(
                announced=Subquery(first_announced)).values_list("containers__number", "vessel_call__reference",
                                                                 "announced")):
        numbers.add(number)
        vessels.add(vessel_call)
        since.append(announced)
    if not numbers:
        return Q(pk__in=[])
    discharged = Q(event_type=EventType.EQUIPMENT, event_code=EquipmentCode.DISC,
                   equipment_reference__in=sorted(numbers), transport_reference__in=sorted(vessels))
    return discharged if None in since else discharged & Q(created_at__gte=min(since))


@dataclass(frozen=True)
class _Bound:
    """Every event a filter can match is of these bookings, or (without a booking) on these transports (None:
    on the named bookings' own trains and vessels): the visibility need only be decided for them."""

    bookings: list[str]
    transports: list[str] | None = None


def _filter(query: EventQuery, actor: Actor) -> tuple[Q, _Bound | None]:
    """Different filters AND-ed, the values of one filter OR-ed. A filter only matches events that show the
    value it matched on (a location filter does not match shipment events, which carry no location). With a
    booking or container filter, also the bound of what it can match (a booking's events, a container's)."""
    f = query.filters
    q = Q()
    bound = None
    if "eventType" in f:
        q &= Q(event_type__in=f["eventType"])
    if "shipmentEventTypeCode" in f:
        q &= Q(event_type=EventType.SHIPMENT, event_code__in=f["shipmentEventTypeCode"])
    if "documentTypeCode" in f:
        q &= Q(event_type=EventType.SHIPMENT, document_type__in=f["documentTypeCode"])
    if "transportEventTypeCode" in f:
        q &= Q(event_type=EventType.TRANSPORT, event_code__in=f["transportEventTypeCode"])
    if "equipmentEventTypeCode" in f:
        q &= Q(event_type=EventType.EQUIPMENT, event_code__in=f["equipmentEventTypeCode"])
    for name in ("carrierBookingReference", "bookingReference"):
        if name in f:
            # The booking's own events, and the arrivals and departures of the train and vessel it travels on
            # (those list the booking in documentReferences).
            # A shipment event about another document of the booking (a customs declaration) shows that
            # document's ID, not the booking's: it does not match.
            other_document = Q(event_type=EventType.SHIPMENT) & ~Q(document_reference="") & ~Q(
                document_reference__in=f[name])
            q &= (Q(booking_reference__in=f[name]) & ~other_document) | _transports_of(
                _bookings_travelling(actor).filter(reference__in=f[name]), discharges=True)
            bound = bound or _Bound(bookings=sorted(f[name]))
    if "transportCallID" in f:
        q &= _has_transport_call() & Q(transport_reference__in=f["transportCallID"])
    if "vesselIMONumber" in f:
        q &= _vessel_calls(imo_number__in=f["vesselIMONumber"])
    for name in ("exportVoyageNumber", "carrierVoyageNumber"):
        if name in f:
            q &= _vessel_calls(voyage__in=f[name])
    if "carrierServiceCode" in f:
        # Our services' short codes, on rail and barge calls; we know no ocean carrier's service of a vessel.
        q &= _departures(service__short_code__in=f["carrierServiceCode"])
    if "UNLocationCode" in f:
        q &= ~Q(event_type=EventType.SHIPMENT) & Q(location_unlocode__in=f["UNLocationCode"])
    if "equipmentReference" in f:
        # The container's own events; the departures and arrivals of the trains and vessels it was loaded on and
        # the shipment events of its bookings, which name it in `references` (EQ).
        # What the containers' events name is read first, by the container index: inside the events' query it
        # was a subquery the planner ran against every monthly partition (P8, docs/PERFORMANCE.md).
        numbers = f["equipmentReference"]
        carried = shaped_rows(_equipment_events(actor, Q(equipment_reference__in=numbers))
                              .values_list("event_code", "transport_reference", "booking_reference"))
        loaded_on = sorted({transport for code, transport, _b in carried if code == EquipmentCode.LOAD and transport})
        bookings = sorted({booking for _c, _t, booking in carried if booking})
        q &= (
            Q(event_type=EventType.EQUIPMENT, equipment_reference__in=numbers)
            | Q(event_type=EventType.TRANSPORT, transport_reference__in=loaded_on)
            | Q(event_type=EventType.SHIPMENT, booking_reference__in=bookings)
        )
        # The container's events name its bookings (or, of an empty's, none: then its transports).
        transports = sorted({transport for _c, transport, booking in carried if transport and not booking})
        bound = bound or _Bound(bookings=bookings, transports=sorted({*loaded_on, *transports}))
    if "transportDocumentReference" in f:
        # The B/L's own shipment events (documentTypeCode TRD), and once it is issued the events of its booking
        # that carry documentReferences: the containers' and those of the train and vessel the booking is on.
        numbers = f["transportDocumentReference"]
        bookings = _with_bill_issued(actor, numbers)
        q &= (
            Q(event_type=EventType.SHIPMENT, document_type=DocumentType.TRD, document_reference__in=numbers)
            | Q(event_type=EventType.EQUIPMENT, booking_reference__in=bookings.values("reference"))
            | _transports_of(bookings)
        )
    if any(name in f for name in NEVER_MATCHING):
        q &= Q(pk__in=[])
    for lookup, moment in query.created:
        q &= Q(**{f"created_at__{lookup}": datetime.fromisoformat(moment)})
    return q, bound


def dcsa_events(*, actor: Actor) -> QuerySet[Event]:
    """The events the caller may read that DCSA 2.2.0 can carry."""
    return events_visible(actor=actor).filter(EMITTABLE)


def dcsa_matching(*, actor: Actor, query: EventQuery) -> QuerySet[Event]:
    """The events the caller may read that DCSA 2.2.0 can carry and the query's filters match; for a query
    filtered by booking or container, with the visibility of what it can match alone."""
    q, bound = _filter(query, actor)
    if bound is None:
        visible = events_visible(actor=actor)
    else:
        visible = events_visible(actor=actor, bookings_named=bound.bookings, transports_named=bound.transports)
    return visible.filter(EMITTABLE).filter(q)


# Pages walk the events in the order of their writing transactions (intermodal.feed), which follows
# eventCreatedDateTime but for transactions that overlapped: a poller misses nothing that commits later.
def _after(key: tuple[int, int]) -> Q:
    return Q(txid__gt=key[0]) | Q(txid=key[0], id__gt=key[1])


def _before(key: tuple[int, int]) -> Q:
    return Q(txid__lt=key[0]) | Q(txid=key[0], id__lt=key[1])


def _key(event: Event) -> list:
    return [event.txid, event.pk]


@dataclass
class EventPage:
    events: list[Event]
    query: EventQuery
    limit: int
    # Cursors (None: no such page).
    next: str | None = None
    prev: str | None = None
    first: str | None = None
    last: str | None = None


def _cursor(query: EventQuery, limit: int, direction: str, key: list | None) -> str:
    return signing.dumps({**query.as_payload(), "l": limit, "d": direction, "k": key}, salt=CURSOR_SALT,
                         compress=True)


# Filters that name a few events (a booking's, a container's, a transport's, a document's): found by their own
# indexes, then sorted.
SELECTIVE = {"carrierBookingReference", "bookingReference", "equipmentReference", "transportCallID",
             "transportDocumentReference"}


def _order(ascending: bool, *, selective: bool) -> list:
    """The feed's order. With a selective filter the same order, by an expression the feed's (txid, id) index
    cannot serve: else the planner, for a LIMIT, walks that index through every monthly partition and filters
    each event (P8: a booking's 13 events in 1.1 s at a year of events), instead of finding the few first."""
    if not selective:
        return feed.ORDER if ascending else [f"-{name}" for name in feed.ORDER]
    keys = [ExpressionWrapper(F(name) + 0, output_field=BigIntegerField()) for name in feed.ORDER]
    return [key.asc() if ascending else key.desc() for key in keys]


def event_page(*, actor: Actor, params) -> EventPage:
    """One page of GET /v2/events: `limit` events from the `cursor` on, in the order of `sort`.

    The cursor is signed and carries the filters, the sort, the limit and the position (transaction, id) of
    the last event seen; a request with a cursor may repeat the filters, but not change them.
    """
    query, given = event_query_parse(params)
    # Here, not in event_query_parse: DCSA subscriptions stored before the rule still parse (and match nothing).
    query_check_applies(query.filters)
    direction, key = "next", None
    default_limit = DEFAULT_LIMIT
    raw_cursor = params.get("cursor", "").strip()
    if raw_cursor:
        try:
            payload = signing.loads(raw_cursor, salt=CURSOR_SALT)
            carried = EventQuery.from_payload(payload)
            direction, default_limit = payload["d"], int(payload["l"])
            if payload["k"] is not None:
                key = (int(payload["k"][0]), int(payload["k"][1]))
            if direction not in ("next", "prev"):
                raise ValueError(direction)
        except (signing.BadSignature, KeyError, TypeError, ValueError, IndexError):
            raise _invalid("cursor", "The cursor is not one this server gave out.") from None
        if given and carried != query:
            raise _invalid("cursor", "The cursor belongs to other filters: send it alone, or with the same "
                                     "filters and sort.")
        query = carried
    limit = limit_param(params.get("limit"), default=default_limit, maximum=MAX_LIMIT)

    events = feed.committed_in_order(dcsa_matching(actor=actor, query=query))
    # Walking towards later events when reading the next page of an ascending sort, or the previous page of
    # a descending one.
    ascending = (direction == "next") != query.descending
    walk = events
    if key is not None:
        walk = walk.filter(_after(key) if ascending else _before(key))
    walk = walk.order_by(*_order(ascending, selective=bool(SELECTIVE & set(query.filters))))
    # This read and the others of the events a poll makes are prepared statements, one per shape of filters: planned
    # afresh, each cost more than it ran at a year of events (P8, docs/PERFORMANCE.md).
    rows = shaped_rows(walk[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    if direction == "prev":
        rows.reverse()

    def beyond(event: Event, later: bool) -> bool:
        further = events.filter(_after((event.txid, event.pk)) if later else _before((event.txid, event.pk)))
        return bool(shaped_rows(further.order_by().values_list("pk", flat=True)[:1]))

    if direction == "next":
        has_next = more
        has_prev = key is not None and (not rows or beyond(rows[0], later=query.descending))
    else:
        has_prev = more
        has_next = key is not None and (not rows or beyond(rows[-1], later=not query.descending))

    page = EventPage(events=rows, query=query, limit=limit)
    page.first = _cursor(query, limit, "next", None)
    if has_next:
        page.next = _cursor(query, limit, "next", _key(rows[-1])) if rows else page.first
        page.last = _cursor(query, limit, "prev", None)
    if has_prev:
        page.prev = _cursor(query, limit, "prev", _key(rows[0])) if rows else _cursor(query, limit, "prev", None)
    return page


# --- The 2.2.0 JSON of an event --------------------------------------------------------------------------


@dataclass
class DcsaLookups:
    """What a page's events refer to that is the same whoever asks: their stations, terminals, vessel calls and
    departures (with their services' short codes), each kind fetched in one query. The relay reads them once for
    a batch's events and every organisation it sends them to (dcsa_lookups)."""

    stations: dict[str, Station]
    terminals: dict[str, Terminal]
    vessel_calls: dict[str, VesselCall]
    # The short code of the service of each departure (a rail or barge transport call), and its id.
    service_codes: dict[str, str]
    departure_ids: dict[str, int]


@dataclass
class _Context:
    """What the events of a page refer to, each kind fetched in one query: the same for everyone (lookups), and as
    the caller may know it."""

    lookups: DcsaLookups
    bookings_by_departure: dict[str, list[str]] = field(default_factory=dict)
    bookings_by_vessel_call: dict[str, list[str]] = field(default_factory=dict)
    # The number of each booking's issued B/L.
    bills: dict[str, str] = field(default_factory=dict)
    # The containers of each booking, and those loaded on each train or vessel, that the caller may know.
    containers_by_booking: dict[str, set[str]] = field(default_factory=dict)
    containers_by_transport: dict[str, set[str]] = field(default_factory=dict)


def dcsa_lookups(events: list[Event]) -> DcsaLookups:
    def codes(kind: str) -> set[str]:
        return {e.facility_code for e in events if e.facility_kind == kind and e.facility_code}

    station_codes, terminal_codes = codes(FacilityKind.STATION), codes(FacilityKind.TERMINAL)
    vessel_refs = {e.transport_reference for e in events
                   if e.mode_of_transport == ModeOfTransport.VESSEL and e.transport_reference}
    departure_refs = {e.transport_reference for e in events if e.transport_reference
                      and e.mode_of_transport in MODES and e.mode_of_transport != ModeOfTransport.VESSEL}
    lookups = DcsaLookups(
        stations={s.code: s for s in Station.objects.filter(code__in=station_codes).only(
            "code", "name", "timezone")} if station_codes else {},
        terminals={t.code: t for t in Terminal.objects.filter(code__in=terminal_codes).only(
            "code", "name")} if terminal_codes else {},
        vessel_calls={c.reference: c for c in VesselCall.objects.filter(reference__in=vessel_refs).only(
            "reference", "vessel_name", "imo_number", "voyage", "carrier_scac")} if vessel_refs else {},
        service_codes={},
        departure_ids={},
    )
    if departure_refs:
        for reference, short_code, pk in Departure.objects.filter(reference__in=departure_refs).values_list(
                "reference", "service__short_code", "pk"):
            lookups.service_codes[reference], lookups.departure_ids[reference] = short_code, pk
    return lookups


def _context(actor: Actor, events: list[Event], lookups: DcsaLookups | None = None) -> _Context:
    """The page's context as the caller may know it; `lookups` of these events or more (dcsa_lookups), or read
    here."""
    transport_refs = {e.transport_reference for e in events if e.event_type == EventType.TRANSPORT}
    equipment_bookings = {e.booking_reference for e in events
                          if e.event_type == EventType.EQUIPMENT and e.booking_reference}
    shipment_bookings = {e.booking_reference for e in events
                         if e.event_type == EventType.SHIPMENT and e.booking_reference}
    context = _Context(lookups=lookups or dcsa_lookups(events))
    departure_ids, vessel_calls = context.lookups.departure_ids, context.lookups.vessel_calls
    if transport_refs or equipment_bookings:
        # The bookings on the page's trains and vessels, and those of its containers' events, with their B/Ls:
        # asked by the trains' and vessels' ids (read above), which the bookings' own indexes find - by their
        # references, the planner read every departure of the year to join them (P8).
        rows = _bookings_travelling(actor).filter(
            Q(departure_id__in=sorted(departure_ids[r] for r in transport_refs if r in departure_ids))
            | Q(vessel_call_id__in=sorted(vessel_calls[r].pk for r in transport_refs if r in vessel_calls))
            | Q(reference__in=equipment_bookings)
        ).values_list("reference", "departure__reference", "vessel_call__reference", "bill_of_lading__status",
                      "bill_of_lading__number").order_by("reference")
        for reference, departure, vessel_call, bill_status, bill_number in shaped_rows(rows):
            if departure in transport_refs:
                context.bookings_by_departure.setdefault(departure, []).append(reference)
            if vessel_call in transport_refs:
                context.bookings_by_vessel_call.setdefault(vessel_call, []).append(reference)
            if bill_status == BillOfLadingStatus.ISSUED and bill_number:
                context.bills[reference] = bill_number
    if transport_refs or shipment_bookings:
        # The loads onto the page's trains and vessels are asked of the caller's bookings on them (found above),
        # by the events' booking index: a vessel's loads of every shipper (a thousand and more) are never read.
        on_transports = sorted({reference for references in (*context.bookings_by_departure.values(),
                                                             *context.bookings_by_vessel_call.values())
                                for reference in references})
        rows = _equipment_events(actor, (
            Q(booking_reference__in=shipment_bookings)
            | Q(event_code=EquipmentCode.LOAD, transport_reference__in=transport_refs,
                booking_reference__in=on_transports)
        )).values_list("booking_reference", "event_code", "transport_reference", "equipment_reference").order_by(
        ).distinct()
        for booking, code, transport, number in shaped_rows(rows):
            if booking in shipment_bookings:
                context.containers_by_booking.setdefault(booking, set()).add(number)
            if code == EquipmentCode.LOAD and transport in transport_refs:
                context.containers_by_transport.setdefault(transport, set()).add(number)
    return context



def _facility(event: Event, context: _Context) -> Station | Terminal | None:
    if event.facility_kind == FacilityKind.STATION:
        return context.lookups.stations.get(event.facility_code)
    if event.facility_kind == FacilityKind.TERMINAL:
        return context.lookups.terminals.get(event.facility_code)
    return None


def _local(event: Event, context: _Context) -> str:
    """eventDateTime is the local time of the place: the station's zone, else the network's."""
    facility = _facility(event, context)
    return local_text(event.event_datetime, getattr(facility, "timezone", None))


def _location(event: Event, context: _Context) -> dict | None:
    location = {}
    facility = _facility(event, context)
    if facility is not None and facility.name:
        location["locationName"] = facility.name[:100]
    if event.location_unlocode:
        location["UNLocationCode"] = event.location_unlocode
    return location or None


def _transport_call(event: Event, context: _Context) -> dict | None:
    if event.mode_of_transport not in MODES or not event.transport_reference:
        return None
    call: dict = {"transportCallID": event.transport_reference, "modeOfTransport": event.mode_of_transport}
    service_code = context.lookups.service_codes.get(event.transport_reference)
    if event.mode_of_transport != ModeOfTransport.VESSEL and service_code:
        call["carrierServiceCode"] = service_code
    if event.location_unlocode:
        call["UNLocationCode"] = event.location_unlocode
    if event.facility_kind in FACILITY_TYPE:
        call["facilityTypeCode"] = FACILITY_TYPE[event.facility_kind]
    facility = _facility(event, context)
    if facility is not None:
        call["otherFacility"] = facility.name if 0 < len(facility.name) <= 50 else facility.code
    vessel_call = context.lookups.vessel_calls.get(event.transport_reference)
    if event.mode_of_transport == ModeOfTransport.VESSEL and vessel_call is not None:
        call["exportVoyageNumber"] = vessel_call.voyage
        vessel = {"vesselIMONumber": vessel_call.imo_number, "vesselName": vessel_call.vessel_name[:35]}
        if vessel_call.carrier_scac:
            vessel["vesselOperatorCarrierCode"] = vessel_call.carrier_scac
            vessel["vesselOperatorCarrierCodeListProvider"] = SCAC_PROVIDER
        call["vessel"] = vessel
    return call


def _document_references(bookings: list[str], context: _Context) -> list[dict]:
    """Each booking (BKG) and, once issued, its B/L (TRD)."""
    references = []
    for booking in bookings:
        references.append({"documentReferenceType": "BKG", "documentReferenceValue": booking})
        if booking in context.bills:
            references.append({"documentReferenceType": "TRD", "documentReferenceValue": context.bills[booking]})
    return references


def _equipment_references(numbers: set[str] | None) -> list[dict]:
    return [{"referenceType": "EQ", "referenceValue": number} for number in sorted(numbers or ())]


def event_as_dcsa(event: Event, context: _Context) -> dict:
    created = _utc(event.created_at)
    body = {
        "eventID": str(event.event_id),
        "eventCreatedDateTime": created,
        "eventType": event.event_type,
        "eventClassifierCode": event.classifier,
        # 2.2.0: a shipment event's eventDateTime is its eventCreatedDateTime.
        "eventDateTime": created if event.event_type == EventType.SHIPMENT else _local(event, context),
    }
    if event.event_type == EventType.SHIPMENT:
        body["shipmentEventTypeCode"] = event.event_code
        body["documentTypeCode"] = event.document_type
        body["documentID"] = event.document_reference or event.booking_reference
        if event.reason:
            body["reason"] = event.reason
        # 2.2.0 gives a shipment event no documentReferences: its booking's containers go in `references`.
        containers = _equipment_references(context.containers_by_booking.get(event.booking_reference))
        if containers:
            body["references"] = containers
        return body

    if event.event_type == EventType.TRANSPORT:
        body["transportEventTypeCode"] = event.event_code
        # Our reasons are free text, not SMDG delay reason codes: they go in changeRemark, never delayReasonCode.
        if event.reason:
            body["changeRemark"] = event.reason[:250]
        body["transportCall"] = _transport_call(event, context)
        by_transport = (context.bookings_by_vessel_call if event.mode_of_transport == ModeOfTransport.VESSEL
                        else context.bookings_by_departure)
        references = by_transport.get(event.transport_reference)
        if references:
            body["documentReferences"] = _document_references(references, context)
        containers = _equipment_references(context.containers_by_transport.get(event.transport_reference))
        if containers:
            body["references"] = containers
        return body

    body["equipmentEventTypeCode"] = event.event_code
    if event.equipment_reference:
        body["equipmentReference"] = event.equipment_reference
    size_type = (event.details or {}).get("size_type")
    if isinstance(size_type, str) and len(size_type) == 4 and size_type.isalnum():
        body["ISOEquipmentCode"] = size_type
    body["emptyIndicatorCode"] = event.empty_indicator
    location = _location(event, context)
    if location:
        body["eventLocation"] = location
    call = _transport_call(event, context)
    if call:
        body["transportCall"] = call
    if event.booking_reference:
        body["documentReferences"] = _document_references([event.booking_reference], context)
    seal = (event.details or {}).get("seal_number")
    # sealNumber is at most 15 characters in 2.2.0: a longer seal is left out rather than cut.
    if isinstance(seal, str) and 0 < len(seal) <= 15:
        body["seals"] = [{"sealNumber": seal, "sealType": SEAL_TYPE}]
    return body


def events_as_dcsa(*, actor: Actor, events: list[Event], lookups: DcsaLookups | None = None) -> list[dict]:
    """The events in DCSA 2.2.0's shape, as the actor's party may know them (tracking.visibility); `lookups`
    (dcsa_lookups) of these events or more, when the caller has them."""
    context = _context(actor, events, lookups)
    return [event_as_dcsa(event, context) for event in as_seen_by(actor.kind, events)]


# --- Views -----------------------------------------------------------------------------------------------

_ERROR_REASON = {400: "invalidQuery", 401: "unauthorized", 403: "forbidden", 404: "notFound",
                 405: "methodNotAllowed", 406: "notAcceptable", 429: "tooManyRequests"}


def dcsa_exception_handler(exc, context):
    """The project's handler (status, headers such as WWW-Authenticate), with the body in DCSA's error shape."""
    response = project_exception_handler(exc, context)
    if response is None:
        return None
    request = context["request"]
    body = response.data if isinstance(response.data, dict) else {}
    reason = _ERROR_REASON.get(response.status_code, "internalError")
    errors = [
        {"reason": reason, "message": message if name == NON_FIELD else f"{name}: {message}"}
        for name, messages in (body.get("errors") or {}).items()
        for message in messages
    ] or [{"reason": reason, "message": str(body.get("detail", ""))}]
    response.data = {
        "httpMethod": request.method,
        "requestUri": request.build_absolute_uri(),
        "statusCode": response.status_code,
        "statusCodeText": HTTPStatus(response.status_code).phrase,
        "errorDateTime": _utc(timezone.now()),
        "errors": errors,
    }
    return response


_API_VERSION_HEADER = OpenApiParameter(
    "API-Version", OpenApiTypes.STR, OpenApiParameter.HEADER, response=True,
    description="The version of DCSA Track & Trace the response follows: 2.2.0.")
_ERRORS = {code: OpenApiResponse(OpenApiTypes.OBJECT, description="DCSA error object")
           for code in (400, 401, 403, 404)}


def _page_header(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.STR, OpenApiParameter.HEADER, response=[200], description=description)


def _filter_description(name: str) -> str:
    text = "Comma-separated values, OR-ed."
    if name in CODE_FILTERS:
        text += f" One of {', '.join(sorted(CODE_FILTERS[name]))}."
    if name in ("bookingReference", "carrierVoyageNumber"):
        text += " Deprecated."
    if name in NEVER_MATCHING:
        text += " We issue none of these: matches no event."
    text += _FILTER_MEANING.get(name, "")
    if name in APPLIES_TO and APPLIES_TO[name] != _ALL:
        text += f" Applies to {', '.join(sorted(APPLIES_TO[name]))} events: with another eventType, a 400."
    return text


_FILTER_MEANING = {
    "transportDocumentReference": " The B/L number: its own events (documentTypeCode TRD) and, once it is issued, "
                                  "its booking's container, train and vessel events (documentReferences TRD).",
    "equipmentReference": " The container's events, those of the trains and vessels it was loaded on and its "
                          "booking's shipment events (references, EQ).",
    "carrierServiceCode": " A rail or barge service's short code (GET /api/v1/services/ shows it), on its "
                          "departures' transport calls.",
}


_LIST_PARAMETERS = [
    *[OpenApiParameter(name, OpenApiTypes.STR, description=_filter_description(name))
      for name in (*CODE_FILTERS, *TEXT_FILTERS)],
    *[OpenApiParameter(name, OpenApiTypes.UUID, deprecated=True, description=_filter_description(name))
      for name in UUID_FILTERS],
    *[OpenApiParameter(f"{CREATED}:{op}" if op else CREATED, OpenApiTypes.DATETIME,
                       description="Events created at (no operator, :eq), after (:gt, :gte) or before (:lt, :lte) "
                                   "this date-time, which needs a time zone offset.")
      for op in ("", "eq", "gt", "gte", "lt", "lte")],
    OpenApiParameter("limit", {"type": "integer", "minimum": 1},
                     description=f"Events per page, {DEFAULT_LIMIT} by default; more than {MAX_LIMIT} is served as "
                                 f"{MAX_LIMIT}."),
    OpenApiParameter("cursor", OpenApiTypes.STR,
                     description="From a Next-Page, Prev-Page, First-Page or Last-Page link; carries the filters."),
    OpenApiParameter("sort", OpenApiTypes.STR,
                     description="eventCreatedDateTime (oldest first, the default) or eventCreatedDateTime:DESC."),
    OpenApiParameter("API-Version", OpenApiTypes.STR, OpenApiParameter.HEADER, description="Major version: 2."),
    _API_VERSION_HEADER,
    _page_header("Current-Page", "A link to this page."),
    _page_header("Next-Page", "A link to the next page; absent on the last page."),
    _page_header("Next-Page-Cursor", "The next page's cursor alone (send it as `cursor`); absent on the last page."),
    _page_header("Prev-Page", "A link to the previous page; absent on the first page."),
    _page_header("First-Page", "A link to the first page."),
    _page_header("Last-Page", "A link to the last page; absent on the last page."),
]


class DcsaView(ReplicaReadsMixin, APIView):
    """DCSA's error shape and API-Version header on every response; scope events:read for API keys."""

    required_scopes = {"*": Scope.EVENTS_READ}

    def get_exception_handler(self):
        return dcsa_exception_handler

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        asked = request.headers.get("API-Version", "").strip()
        if asked and asked.split(".")[0] != API_VERSION.split(".")[0]:
            raise _invalid("API-Version", f"This endpoint serves version {API_VERSION}; ask for major version 2.")

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["API-Version"] = API_VERSION
        return response


class DcsaEventListView(DcsaView):
    @extend_schema(
        operation_id="dcsa_tnt_events_list",
        tags=["DCSA Track & Trace 2.2.0"],
        summary="Find events (DCSA Track & Trace 2.2.0 GET /v2/events)",
        parameters=_LIST_PARAMETERS,
        responses={200: OpenApiResponse(build_array_type(build_basic_type(OpenApiTypes.OBJECT)),
                                        description="A JSON array of DCSA 2.2.0 events"), **_ERRORS},
    )
    def get(self, request):
        actor = Actor.from_request(request)
        page = event_page(actor=actor, params=request.query_params)
        response = Response(events_as_dcsa(actor=actor, events=page.events))
        response["Current-Page"] = request.build_absolute_uri()
        for header, cursor in (("Next-Page", page.next), ("Prev-Page", page.prev), ("First-Page", page.first),
                               ("Last-Page", page.last)):
            if cursor:
                response[header] = request.build_absolute_uri(f"{request.path}?{urlencode({'cursor': cursor})}")
        if page.next:
            # The cursor alone, as DCSA's Conformance-Gateway reads it (send it back as ?cursor=).
            response["Next-Page-Cursor"] = page.next
        return response


class DcsaEventDetailView(DcsaView):
    @extend_schema(
        operation_id="dcsa_tnt_event_get",
        tags=["DCSA Track & Trace 2.2.0"],
        summary="Find an event by eventID (DCSA Track & Trace 2.2.0 GET /v2/events/{eventID})",
        parameters=[
            OpenApiParameter("eventID", OpenApiTypes.UUID, OpenApiParameter.PATH),
            OpenApiParameter("API-Version", OpenApiTypes.STR, OpenApiParameter.HEADER, description="Major version: 2."),
            _API_VERSION_HEADER,
        ],
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="A DCSA 2.2.0 event"), **_ERRORS},
    )
    def get(self, request, eventID):  # noqa: N803 - DCSA's name for the path parameter
        try:
            event_id = uuid.UUID(eventID)
        except ValueError:
            raise _invalid("eventID", f"{eventID!r} is not a UUID.") from None
        actor = Actor.from_request(request)
        event = dcsa_events(actor=actor).filter(event_id=event_id).first()
        if event is None:
            raise exceptions.NotFound()
        return Response(events_as_dcsa(actor=actor, events=[event])[0])
