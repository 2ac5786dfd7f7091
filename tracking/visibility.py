"""Who may see which event, and which of its fields: the one rule, used by every path that shows or sends events
(GET /api/v1/events/, DCSA /v2/events, the events export, webhooks, DCSA callbacks, in-app notifications and
emails).

Enterprises: the events of their bookings and of the transports those travel on, of their DCSA booking
requests, and of the import containers announced for them before they book them; station operators: also what
happens at their stations; railways: their services' departures; the port: its terminals and vessel calls;
customs and border inspection: the declarations at the stations their offices cover; maritime safety: dangerous
goods on vessel calls; local government: nothing commercial, so no events; the platform's admins: everything.

Of a customs event (HOLD, RELS, REJE ... on a declaration) the officers' words - the risk rules that selected
it, their thresholds, the declared values they name, the notes of a decision - are for customs and border
inspection only. The trader sees the decision, and of a rejection the officer's message, which is written for
it to amend the declaration; stations, railways and the port see the decision alone (whether the container
may move).
"""

import copy
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import NamedTuple

from django.contrib.postgres.fields import ArrayField
from django.db.models import BigIntegerField, BooleanField, CharField, Exists, F, Func, OuterRef, Q, QuerySet, Value

from bkg.models import BookingRequest
from bookings.models import Booking
from bookings.selectors import booking_scope
from customs.selectors import declaration_list, sees_officers_notes
from databases.prepared import PreparedQuery, shaped_rows
from inbound.models import ArrivingContainer
from intermodal.access import Actor
from intermodal.codes import DocumentType, EventType, FacilityKind, ModeOfTransport
from intermodal.models import Event, Organisation, PartyKind
from stations.models import Departure, VesselCall

# The fields of an event that the rule below may blank, and what blank is for each.
_BLANK = {"reason": "", "details": dict}


def withheld_fields(kind: str | None, event: Event) -> frozenset[str]:
    """The fields of `event` that a party of `kind` may not know."""
    if event.document_type != DocumentType.CUS or sees_officers_notes(kind):
        return frozenset()
    if kind == PartyKind.ENTERPRISE and event.event_code == "REJE":
        return frozenset({"details"})  # the rejection's reason is the officer's message to the trader
    return frozenset({"reason", "details"})


def as_seen_by(kind: str | None, events: list[Event]) -> list[Event]:
    """The events as a party of `kind` may know them: copies with the withheld fields blanked, the others as
    they are (no copy)."""
    seen = []
    for event in events:
        withheld = withheld_fields(kind, event)
        if withheld:
            event = copy.copy(event)
            for name in withheld:
                blank = _BLANK[name]
                setattr(event, name, blank() if callable(blank) else blank)
        seen.append(event)
    return seen


def events_visible(*, actor: Actor, bookings_named: list[str] | None = None,
                   transports_named: list[str] | None = None) -> QuerySet[Event]:
    """The events an actor may read, and so be sent.

    A query that wants only a few events can have their visibility decided alone, instead of that of every
    booking the actor may see (a shipper's thousands, read once per monthly partition: P8, docs/PERFORMANCE.md):
    `bookings_named`, events of these bookings and of the trains and vessels they travel on; with
    `transports_named` too, events of these bookings, and events without a booking (a train's, a vessel's) on
    these transports. The answer is then exact for those events, and a subset of the actor's for the others.

    Of the organisation the rule reads its kind and its id alone: visible_ids keeps the SQL by kind."""
    transports = None
    if transports_named is not None:
        departures, vessel_calls = transport_ids(transports_named)
        transports = (list(departures.values()), list(vessel_calls.values()))
    return _events_visible(actor, bookings_named, transports)


def _events_visible(actor: Actor, bookings_named: list[str] | None,
                    transports: tuple[list[int], list[int]] | None) -> QuerySet[Event]:
    """events_visible, the transports named by their ids (departures, vessel calls). The named bookings and
    transports are each one array parameter, whatever their number: visible_ids keeps the SQL of the routes'
    parties with them as parameters."""
    organisation = actor.organisation
    events = Event.objects.select_related("reported_by_organisation")
    if organisation is None:
        return events.none()
    kind = organisation.kind
    if kind == PartyKind.PLATFORM_ADMIN:
        return events
    if kind in (PartyKind.CUSTOMS, PartyKind.BORDER_INSPECTION):
        return events.filter(
            document_type=DocumentType.CUS,
            document_reference__in=declaration_list(actor=actor).values("reference"),
        )
    if kind == PartyKind.MARITIME_SAFETY:
        dangerous = Booking.objects.exclude(un_number="")
        on_vessel = Q(mode_of_transport=ModeOfTransport.VESSEL) | Q(facility_kind=FacilityKind.TERMINAL)
        return events.filter(on_vessel, booking_reference__in=dangerous.values("reference"),
                             event_type=EventType.EQUIPMENT)
    if kind not in (PartyKind.ENTERPRISE, PartyKind.STATION_OPERATOR, PartyKind.RAILWAY, PartyKind.PORT):
        return events.none()
    scope = booking_scope(actor)
    bookings = Booking.objects.filter(scope)
    own = carrying_by_train = carrying_by_vessel = bookings
    if bookings_named is not None:
        own = carrying_by_train = carrying_by_vessel = bookings.filter(AnyOf(F("reference"), Value(
            list(bookings_named), output_field=ArrayField(CharField()))))
    if transports is not None:
        # By the transports' ids, read first: the bookings' own indexes find them (by reference across the join,
        # the planner reads every departure of the year).
        departures, vessel_calls = transports
        carrying_by_train = bookings.filter(AnyOf(F("departure_id"), _ids(departures)))
        carrying_by_vessel = bookings.filter(AnyOf(F("vessel_call_id"), _ids(vessel_calls)))
    # A transport's own events (no booking) are shared by everyone on board; booking and container events
    # recorded on the same departure or vessel call belong to their booking only - and so does an import container
    # discharged from the vessel before its consignee booked it (no booking yet, but not the vessel's event).
    shared = Q(booking_reference="", event_type=EventType.TRANSPORT)
    visible = Q(booking_reference__in=own.values("reference")) | shared & (
        Q(transport_reference__in=carrying_by_train.values("departure__reference"))
        | Q(transport_reference__in=carrying_by_vessel.values("vessel_call__reference"))
    )
    if kind == PartyKind.ENTERPRISE:
        # Its announced import containers' steps before it booked them inland (the discharge from the vessel). Asked
        # with named bookings too: such a step names no booking, yet a container's poll meets it (visible_among).
        visible |= Q(event_type=EventType.EQUIPMENT, booking_reference="") & Exists(ArrivingContainer.objects.filter(
            consignee=organisation, number=OuterRef("equipment_reference"),
            vessel_call__reference=OuterRef("transport_reference")))
        if bookings_named is None:
            # Its DCSA booking requests' changes, also before a request is a booking (bkg/). Not asked when only
            # named bookings matter: a request's own events name no booking, container or transport.
            visible |= Q(document_type=DocumentType.CBR, booking_reference="", document_reference__in=(
                BookingRequest.objects.filter(shipper=organisation).values("reference")))
    elif kind == PartyKind.STATION_OPERATOR:
        visible |= Q(facility_kind="station", facility_code__in=organisation.operated_stations.values("code"))
    elif kind == PartyKind.RAILWAY:
        visible |= Q(transport_reference__in=Departure.objects.filter(service__operator=organisation)
                     .values("reference"))
    elif kind == PartyKind.PORT:
        visible |= Q(facility_kind="terminal", facility_code__in=organisation.terminals.values("code")) | Q(
            transport_reference__in=VesselCall.objects.filter(terminal__operator=organisation).values("reference"))
    return events.filter(visible)


def transport_ids(references: Iterable[str]) -> tuple[dict[str, int], dict[str, int]]:
    """The departures and the vessel calls among the transports `references` name: their ids by reference."""
    references = list(references)
    return (dict(Departure.objects.filter(reference__in=references).values_list("reference", "pk")),
            dict(VesselCall.objects.filter(reference__in=references).values_list("reference", "pk")))


def visible_among(*, actor: Actor, among: Q) -> QuerySet[Event]:
    """The events matching `among` - a filter that names few events, found by their own indexes - that the actor
    may read: the bookings and transports those events name are read first, and the visibility decided for them
    alone (events_visible), so a shipper's thousands of other bookings cost nothing."""
    named = Event.objects.filter(among).values_list("booking_reference", "transport_reference").order_by().distinct()
    bookings, transports = names_of(shaped_rows(named))
    return events_visible(actor=actor, bookings_named=bookings, transports_named=transports).filter(among)


def names_of(references: Iterable[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """The bookings and transports that events' (booking_reference, transport_reference) name, for the visibility
    rule to be decided for them alone: an event's booking, or without one its transport."""
    bookings, transports = set(), set()
    for booking, transport in references:
        if booking:
            bookings.add(booking)
        elif transport:
            transports.add(transport)
    return sorted(bookings), sorted(transports)


class AnyOf(Func):
    """`column = ANY(array)`: one parameter, however many the values (`__in` writes one per value)."""

    arg_joiner = " = ANY("
    template = "%(expressions)s)"
    output_field = BooleanField()


def _ids(values: list[int]) -> Value:
    return Value(list(values), output_field=ArrayField(BigIntegerField()))


def _visible_ids_query(organisation: Organisation, event_ids: list[int]) -> QuerySet:
    return events_visible(actor=Actor(organisation=organisation)).filter(AnyOf(F("pk"), _ids(event_ids))).order_by(
        ).values_list("pk", flat=True)


# The kinds whose bookings are those of the routes they run (booking_scope joins the bookings to their departures'
# services, or vessel calls' terminals): for these the whole rule reads every booking of the year once per monthly
# partition (a port's about a second a call, 3.6-5.4 s for the port of the year's every terminal, at 10M events:
# P1, docs/PERFORMANCE.md), so their visibility is decided for the bookings and transports the events name.
_NAMED_KINDS = {PartyKind.STATION_OPERATOR, PartyKind.RAILWAY, PartyKind.PORT}

# visible_ids runs the rule's SQL as a statement prepared once per party kind (databases/prepared.py). The relay
# asks it for every organisation that has subscriptions of every batch, and the ORM takes about 5 ms to build it,
# PostgreSQL about 1 ms to run it (P6, docs/PERFORMANCE.md). The rule reads of an organisation its kind and its
# id alone: the query is built for two stand-ins of the kind with ids no organisation has, and the parameters
# that differ, and only those, are the organisation's id and the events'. A kind whose query differs otherwise
# is built for each call.
_STAND_IN_ORGANISATIONS = (-7_000_000_001, -7_000_000_002)
_STAND_IN_IDS = ([-1, -2, -3], [-4, -5])
_VISIBLE_IDS = {
    kind: PreparedQuery(
        f"visible_ids_{kind}",
        lambda organisation, ids, kind=kind: _visible_ids_query(Organisation(pk=organisation, kind=kind), ids),
        organisation=_STAND_IN_ORGANISATIONS, ids=_STAND_IN_IDS)
    for kind in PartyKind.values if kind not in _NAMED_KINDS
}


class Named(NamedTuple):
    """What a batch of events names, for the routes' parties' visibility (visible_ids): its bookings, and the ids of
    the departures and of the vessel calls its events without a booking are on."""

    bookings: list[str]
    departures: list[int]
    vessel_calls: list[int]


def named_in(references: Iterable[tuple[str, str]],
             transports: tuple[dict[str, int], dict[str, int]] | None = None) -> Named:
    """What events' (booking_reference, transport_reference) name (names_of), their transports by their ids:
    those of `transports` (transport_ids of these references or more, when the caller has read them), else read."""
    bookings, named = names_of(references)
    departures, vessel_calls = transports or (transport_ids(named) if named else ({}, {}))
    return Named(bookings, [departures[r] for r in named if r in departures],
                 [vessel_calls[r] for r in named if r in vessel_calls])


def _named_ids_query(organisation: Organisation, ids: list[int], bookings: list[str], departures: list[int],
                     vessel_calls: list[int], since: datetime, until: datetime) -> QuerySet:
    return (_events_visible(Actor(organisation=organisation), bookings, (departures, vessel_calls))
            .filter(AnyOf(F("pk"), _ids(ids)), created_at__gte=since, created_at__lte=until)
            .order_by().values_list("pk", flat=True))


# The routes' parties' rule for the bookings and transports a batch names, within its times, prepared once per kind
# too: the named bookings, departures and vessel calls are each one array parameter. Built by the ORM for each call
# it cost the relay about a third of its time (P1, docs/PERFORMANCE.md).
_NAMED_IDS = {
    kind: PreparedQuery(
        f"visible_named_ids_{kind}",
        lambda organisation, kind=kind, **named: _named_ids_query(Organisation(pk=organisation, kind=kind), **named),
        organisation=_STAND_IN_ORGANISATIONS, ids=_STAND_IN_IDS, bookings=(["~1"], ["~2", "~3"]),
        departures=([-6], [-7, -8]), vessel_calls=([-9], [-10, -11]),
        since=(datetime(1901, 1, 1, tzinfo=UTC), datetime(1902, 1, 1, tzinfo=UTC)),
        until=(datetime(1903, 1, 1, tzinfo=UTC), datetime(1904, 1, 1, tzinfo=UTC)))
    for kind in _NAMED_KINDS
}


# The window of an answer asked without the events' times: every month.
_ALL_TIME = (datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, tzinfo=UTC))


def visible_ids(organisation: Organisation, event_ids: list[int], named: Named | None = None,
                created: tuple[datetime, datetime] | None = None) -> set[int]:
    """Of `event_ids`, those `organisation` may see: one query, built once for its kind; for a station operator,
    a railway or a port, the rule decided for the bookings and transports the events name alone (`named`, as
    named_in gives them, when the caller has the events; else read first, as visible_among does), and the events
    looked for within `created` (their earliest and latest `created_at`, when the caller has them): by their ids
    alone, every monthly partition is searched, and the planner, costing that, ran the query in parallel - 17-21
    ms a call for a port or a railway at the year, 2-3 ms within a relay batch's times (P1, docs/PERFORMANCE.md)."""
    if not event_ids:
        return set()
    if organisation.kind not in _NAMED_KINDS:
        return set(_VISIBLE_IDS[organisation.kind].all(organisation=organisation.pk, ids=list(event_ids)))
    since, until = created or _ALL_TIME
    if named is not None:
        return set(_NAMED_IDS[organisation.kind].all(
            organisation=organisation.pk, ids=list(event_ids), bookings=list(named.bookings),
            departures=list(named.departures), vessel_calls=list(named.vessel_calls), since=since, until=until))
    among = Q(AnyOf(F("pk"), _ids(event_ids)), created_at__gte=since, created_at__lte=until)
    return set(visible_among(actor=Actor(organisation=organisation), among=among).order_by()
               .values_list("pk", flat=True))
