"""Tracking reads: a booking's or a container's timeline (planned, estimated, actual per step), scoped to the
caller, and the public look-up that shows no goods, prices or party names.

Every step is told by the container's own events, never by its train's or vessel's alone: a train's departure
is a container's only if the container was loaded on it; one the train or vessel left without is shown left
behind (its MISS event), where it is. A booking's timeline is its first container to take each step, and shows
any of its containers left behind. A report its reporter corrected is read as corrected: the superseded event is
left out and the step is marked corrected.

A timeline reads no events: the database keeps what it needs of them in the rows it reads (tracking.facts)."""

import re
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from bookings.models import Booking, BookingStatus, Container
from bookings.selectors import booking_scope
from databases.prepared import PreparedQuery
from intermodal.access import Actor
from intermodal.errors import NotFound
from intermodal.models import Event, Organisation, PartyKind
from stations.maps import NEAR_PORT_LONGITUDE, NetworkMap, network_map
from tracking.facts import Fact, facts_read

CONTAINER_NUMBER = re.compile(r"^[A-Z]{3}[UJZ][0-9]{7}$")


@dataclass
class Step:
    key: str
    label: str
    place: str
    planned: datetime | None = None
    estimated: datetime | None = None
    actual: datetime | None = None
    deadline: datetime | None = None
    # The report that told the actual time (its reporter may correct it), and whether it is itself a correction
    # of an earlier report (journey.corrections).
    event: Fact | None = None
    corrected: bool = False

    @property
    def done(self) -> bool:
        return self.actual is not None

    @property
    def expected(self) -> datetime | None:
        return self.actual or self.estimated or self.planned


@dataclass
class Timeline:
    booking: Booking
    steps: list[Step]
    containers: list[Container]
    # What it was told by: the first report of each kind of event (tracking.facts), in time order.
    events: list[Fact] = field(default_factory=list)

    @property
    def current(self) -> Step | None:
        """Where it is now: the last step done."""
        done = [step for step in self.steps if step.done]
        return done[-1] if done else None

    @property
    def left_behind(self) -> bool:
        return any(step.key.startswith("missed_") and step.done for step in self.steps)

    @property
    def at_risk(self) -> bool:
        """The booked connection no longer makes the vessel, or a container was left behind."""
        return self.booking.is_at_risk or self.left_behind


def _facts_for(booking: Booking, containers: list[Container], one: bool) -> list[Fact]:
    """What the booking's timeline is told by (tracking.facts): of its one container (`one`) or of it and all of
    `containers`, and of its train and vessel. A report a correction replaced is not among them: the correction
    is."""
    own = [containers[0].facts] if one else [booking.facts, *(container.facts for container in containers)]
    return facts_read(*own, booking.departure.facts, booking.vessel_call.facts)


# Where each step's actual time comes from: its event code, and the transport ("rail", "vessel") or the place.
_STEP_SOURCES = {
    "empty_out": ("GTOT", None, None), "station_gate_in": ("GTIN", None, "station"),
    "train_load": ("LOAD", "rail", None), "train_departs": ("DEPA", "rail", None),
    "missed_train": ("MISS", "rail", None),
    "train_arrives": ("ARRI", "rail", None), "terminal_gate_in": ("GTIN", None, "terminal"),
    "vessel_load": ("LOAD", "vessel", None), "vessel_departs": ("DEPA", "vessel", None),
    "missed_vessel": ("MISS", "vessel", None),
    # Imports
    "vessel_arrives": ("ARRI", "vessel", None), "vessel_discharge": ("DISC", "vessel", None),
    "station_discharge": ("DISC", "rail", None), "available": ("AVPU", None, None),
    "gate_out": ("GTOT", None, None), "empty_return": ("GTIN", None, "station"),
}


def _mark_sources(steps: list[Step], facts: list[Fact], transports: dict[str, str]) -> None:
    """Give each done step the report its actual time came from, and say whether that is a correction."""
    for step in steps:
        if step.actual is None or step.key not in _STEP_SOURCES:
            continue
        code, transport, facility_kind = _STEP_SOURCES[step.key]
        step.event = next((
            f for f in facts
            if f.event_code == code and f.classifier == "ACT" and f.event_datetime == step.actual
            and (transport is None or f.transport_reference == transports[transport])
            and (facility_kind is None or f.facility_kind == facility_kind)), None)
        step.corrected = step.event is not None and step.event.corrected


def _first(
    facts: list[Fact],
    code: str,
    *,
    facility_kind: str | None = None,
    transport: str | None = None,
    classifier: str = "ACT",
    latest: bool = False,
) -> datetime | None:
    """The first report's time of the events of that code (and place or transport); `latest`: the last one's."""
    times = [
        f.last_datetime if latest else f.event_datetime
        for f in facts
        if f.event_code == code
        and f.classifier == classifier
        and (facility_kind is None or f.facility_kind == facility_kind)
        and (transport is None or f.transport_reference == transport)
    ]
    if not times:
        return None
    return max(times) if latest else min(times)


def _boarded(facts: list[Fact], transport: str) -> datetime | None:
    """When the transport left with the container (the first container, for a booking): its departure, if the
    container had been loaded on it."""
    loaded = _first(facts, "LOAD", transport=transport)
    departed = _first(facts, "DEPA", transport=transport)
    return departed if loaded is not None and departed is not None and loaded <= departed else None


# The steps' labels, each translated once per language (`_labels`): a look-up names about ten of them (P5).
_LABELS = {
    "vessel_arrives": _("Vessel arrives"),
    "discharged_from_the_vessel": _("Discharged from the vessel"),
    "loaded_on_the_train_at_the_terminal": _("Loaded on the train at the terminal"),
    "train_departs_for_the_station": _("Train departs for the station"),
    "left_behind_the_train_left_without_it": _("Left behind: the train left without it"),
    "train_arrives_at_the_station": _("Train arrives at the station"),
    "discharged_at_the_station": _("Discharged at the station"),
    "available_for_pick_up": _("Available for pick-up"),
    "gated_out_to_the_consignee": _("Gated out to the consignee"),
    "empty_returned": _("Empty returned"),
    "empty_handed_out": _("Empty handed out"),
    "gated_in_at_the_station_pre_entry": _("Gated in at the station (pre-entry)"),
    "loaded_on_the_train": _("Loaded on the train"),
    "train_departs": _("Train departs"),
    "train_arrives_at_the_port": _("Train arrives at the port"),
    "at_the_terminal": _("At the terminal"),
    "loaded_on_the_vessel": _("Loaded on the vessel"),
    "vessel_sails": _("Vessel sails"),
    "left_behind_the_vessel_sailed_without_it": _("Left behind: the vessel sailed without it"),
}
_LABELS_IN: dict[str, dict[str, str]] = {}


def _labels() -> dict[str, str]:
    """The steps' labels in the active language."""
    language = get_language() or ""
    labels = _LABELS_IN.get(language)
    if labels is None:
        labels = _LABELS_IN.setdefault(language, {name: str(text) for name, text in _LABELS.items()})
    return labels


def _import_steps(booking: Booking, facts: list[Fact]) -> list[Step]:
    """An import's steps: the vessel arrives and is discharged, the train takes the container inland, where it
    waits for its holds to lift, goes to the consignee and comes back empty."""
    departure, call = booking.departure, booking.vessel_call
    station, terminal = departure.service.station.display_name, departure.service.terminal.display_name
    labels = _labels()
    rail, vessel = departure.reference, call.reference
    train_left = _boarded(facts, rail)
    steps = [
        Step("vessel_arrives", labels["vessel_arrives"], terminal, planned=call.eta,
             actual=_first(facts, "ARRI", transport=vessel)),
        Step("vessel_discharge", labels["discharged_from_the_vessel"], terminal,
             actual=_first(facts, "DISC", transport=vessel)),
        Step("train_load", labels["loaded_on_the_train_at_the_terminal"], terminal,
             actual=_first(facts, "LOAD", transport=rail)),
        Step("train_departs", labels["train_departs_for_the_station"], terminal, planned=departure.planned_departure,
             estimated=departure.estimated_departure, actual=train_left),
    ]
    missed_train = _first(facts, "MISS", transport=rail)
    if missed_train is not None:
        steps.append(Step("missed_train", labels["left_behind_the_train_left_without_it"], terminal,
                          actual=missed_train))
    steps += [
        Step("train_arrives", labels["train_arrives_at_the_station"], station, planned=departure.planned_arrival,
             estimated=departure.estimated_arrival,
             actual=_first(facts, "ARRI", transport=rail) if train_left else None),
        Step("station_discharge", labels["discharged_at_the_station"], station,
             actual=_first(facts, "DISC", transport=rail)),
        Step("available", labels["available_for_pick_up"], station, actual=_first(facts, "AVPU")),
        Step("gate_out", labels["gated_out_to_the_consignee"], station, actual=_first(facts, "GTOT")),
        Step("empty_return", labels["empty_returned"], station, actual=_first(facts, "GTIN", facility_kind="station")),
    ]
    _mark_sources(steps, facts, {"rail": rail, "vessel": vessel})
    return steps


def timeline_build(*, booking: Booking, container: Container | None = None,
                   containers: list[Container] | None = None) -> Timeline:
    """The journey's steps for a booking (the first container to take each step) or one container; `containers`,
    the booking's in number order when the caller has them."""
    if container is not None:
        containers = [container]
    elif containers is None:
        containers = list(booking.containers.order_by("number"))
    facts = _facts_for(booking, containers, one=container is not None)
    if booking.is_import:
        return Timeline(booking=booking, steps=_import_steps(booking, facts), containers=containers,
                        events=facts)
    departure, call = booking.departure, booking.vessel_call
    station, terminal = departure.service.station.display_name, departure.service.terminal.display_name
    labels = _labels()
    rail, vessel = departure.reference, call.reference
    buffer = departure.service.terminal.handling_buffer
    train_left = _boarded(facts, rail)
    missed_train = _first(facts, "MISS", transport=rail)
    missed_vessel = _first(facts, "MISS", transport=vessel)
    steps = []
    # A container the shipper brought itself (no empty asked for, none handed out) has no empty step.
    own_box = not any(f.event_code in ("REQS", "GTOT") for f in facts) and _first(
        facts, "GTIN", facility_kind="station") is not None
    if not own_box:
        steps.append(Step("empty_out", labels["empty_handed_out"], station, actual=_first(facts, "GTOT")))
    steps += [
        Step(
            "station_gate_in",
            labels["gated_in_at_the_station_pre_entry"],
            station,
            planned=departure.closing_time,
            deadline=departure.closing_time,
            actual=_first(facts, "GTIN", facility_kind="station"),
        ),
        Step(
            "train_load", labels["loaded_on_the_train"], station, actual=_first(facts, "LOAD", transport=rail)
        ),
        Step(
            "train_departs",
            labels["train_departs"],
            station,
            planned=departure.planned_departure,
            estimated=departure.estimated_departure,
            actual=train_left,
        ),
    ]
    if missed_train is not None:
        steps.append(Step("missed_train", labels["left_behind_the_train_left_without_it"], station,
                          actual=missed_train))
    steps += [
        Step(
            "train_arrives",
            labels["train_arrives_at_the_port"],
            terminal,
            planned=departure.planned_arrival,
            estimated=departure.estimated_arrival,
            actual=_first(facts, "ARRI", transport=rail) if train_left else None,
        ),
        Step(
            "terminal_gate_in",
            labels["at_the_terminal"],
            terminal,
            planned=departure.planned_arrival + buffer,
            estimated=departure.estimated_arrival + buffer if departure.estimated_arrival else None,
            deadline=call.cy_cutoff,
            actual=_first(facts, "GTIN", facility_kind="terminal"),
        ),
        Step(
            "vessel_load",
            labels["loaded_on_the_vessel"],
            terminal,
            actual=_first(facts, "LOAD", transport=vessel),
        ),
        Step(
            "vessel_departs",
            labels["vessel_sails"],
            terminal,
            planned=call.etd,
            estimated=_first(facts, "DEPA", transport=vessel, classifier="EST", latest=True),
            actual=_boarded(facts, vessel),
        ),
    ]
    if missed_vessel is not None:
        where = next((f for f in facts if f.event_code == "MISS" and f.transport_reference == vessel), None)
        place = station if where and where.facility_kind == "station" else terminal
        steps.append(Step("missed_vessel", labels["left_behind_the_vessel_sailed_without_it"], place,
                          actual=missed_vessel))
    _mark_sources(steps, facts, {"rail": rail, "vessel": vessel})
    return Timeline(booking=booking, steps=steps, containers=containers, events=facts)


def reports_read(timeline: Timeline) -> Timeline:
    """The event id and reporter of each done step's report, for a page that links a report to its correction
    (the facts keep neither): one statement."""
    facts = [step.event for step in timeline.steps if step.event is not None]
    if facts:
        reports = {pk: (event_id, organisation) for pk, event_id, organisation in Event.objects.filter(
            pk__in={fact.pk for fact in facts}).values_list("pk", "event_id", "reported_by_organisation_id")}
        for fact in facts:
            fact.event_id, fact.reported_by_organisation_id = reports.get(fact.pk, (None, None))
    return timeline


# What a timeline reads of a booking and its route; nothing else is loaded (a look-up is the most-called read, and
# building the SQL of a wide select_related costs more than running it).
_ROUTE = ("departure__service__station", "departure__service__terminal", "vessel_call__terminal")
_ROUTE_FIELDS = (
    "reference", "status", "direction", "facts", "departure", "vessel_call", "departure__service__direction",
    "departure__reference", "departure__service", "departure__closing_time", "departure__planned_departure",
    "departure__estimated_departure", "departure__actual_departure", "departure__planned_arrival",
    "departure__estimated_arrival", "departure__actual_arrival", "departure__facts",
    "departure__service__station", "departure__service__terminal",
    "departure__service__station__code", "departure__service__station__name",
    "departure__service__station__name_zh",
    "departure__service__terminal__code", "departure__service__terminal__name",
    "departure__service__terminal__name_zh", "departure__service__terminal__handling_buffer_hours",
    "vessel_call__reference", "vessel_call__vessel_name", "vessel_call__terminal", "vessel_call__cy_cutoff",
    "vessel_call__etd", "vessel_call__actual_departure", "vessel_call__eta", "vessel_call__actual_arrival",
    "vessel_call__facts", "vessel_call__terminal__code", "vessel_call__terminal__name",
    "vessel_call__terminal__name_zh",
)  # fmt: skip


def _visible_bookings(actor: Actor):
    scope = booking_scope(actor)
    return Booking.objects.all() if scope is None else Booking.objects.filter(scope)


def _as_kind(kind: str, organisation: int) -> Actor:
    return Actor(organisation=Organisation(pk=organisation, kind=kind))


def _route_query(kind: str) -> PreparedQuery:
    """The booking of that reference with its route, among those an organisation of the kind may see."""
    return PreparedQuery(
        f"track_booking_{kind}",
        lambda organisation, reference: _visible_bookings(_as_kind(kind, organisation))
        .select_related(*_ROUTE).only(*_ROUTE_FIELDS).filter(reference=reference)[:1],
        organisation=(-1, -2), reference=("\x01a", "\x01b"))


_ROUTE_IN_CONTAINER = tuple(f"booking__{path}" for path in _ROUTE)
# A container row with its booking and route: every column of the container, the route's columns of the booking.
_CONTAINER_FIELDS = (*(field.name for field in Container._meta.concrete_fields),
                     *(f"booking__{name}" for name in ("id", *_ROUTE_FIELDS)))


def _container_query(kind: str) -> PreparedQuery:
    """The container of that number an organisation of the kind may see (the one in use, else the last one),
    with its booking's route: one round trip."""
    return PreparedQuery(
        f"track_container_{kind}",
        lambda organisation, number: Container.objects.filter(
            number=number, booking__in=_visible_bookings(_as_kind(kind, organisation)).values("pk"))
        .select_related(*_ROUTE_IN_CONTAINER).only(*_CONTAINER_FIELDS)
        .order_by("-is_active", "-assigned_at")[:1],
        organisation=(-1, -2), number=("\x01a", "\x01b"))


def _booking_containers_query(kind: str) -> PreparedQuery:
    """The containers of the booking of that reference an organisation of the kind may see, in number order, each
    with the booking's route: one round trip (a booking without containers yet has its route read alone)."""
    return PreparedQuery(
        f"track_booking_containers_{kind}",
        lambda organisation, reference: Container.objects.filter(
            booking__reference=reference, booking__in=_visible_bookings(_as_kind(kind, organisation)).values("pk"))
        .select_related(*_ROUTE_IN_CONTAINER).only(*_CONTAINER_FIELDS).order_by("number"),
        organisation=(-1, -2), reference=("\x01a", "\x01b"))


_ROUTES = {kind: _route_query(kind) for kind in PartyKind.values}
_CONTAINERS = {kind: _container_query(kind) for kind in PartyKind.values}
_BOOKING_CONTAINERS = {kind: _booking_containers_query(kind) for kind in PartyKind.values}


def track_lookup(*, actor: Actor, key: str) -> Timeline:
    """A booking reference or a container number, among what the caller may see (the read is one prepared
    statement, with the key's check the only ones: the most-called read of the platform, P5 in
    docs/PERFORMANCE.md)."""
    key = key.strip().upper()
    if actor.organisation is None:
        raise NotFound()
    organisation = actor.organisation.pk
    if CONTAINER_NUMBER.match(key):
        container = _CONTAINERS[actor.kind].first(organisation=organisation, number=key)
        if container is None:
            raise NotFound()
        return timeline_build(booking=container.booking, container=container)
    containers = _BOOKING_CONTAINERS[actor.kind].all(organisation=organisation, reference=key)
    if containers:
        booking = containers[0].booking
        for container in containers[1:]:
            container.booking = booking  # one booking, not a copy per row
    else:
        booking = _ROUTES[actor.kind].first(organisation=organisation, reference=key)
        if booking is None:
            raise NotFound()
    return timeline_build(booking=booking, containers=containers)


def track_public(*, container_number: str, booking_reference: str) -> Timeline:
    """Anyone holding both the container number and its booking reference; nothing else is revealed."""
    number = container_number.strip().upper().replace(" ", "")
    reference = booking_reference.strip().upper()
    container = (
        Container.objects.filter(number=number, booking__reference=reference)
        .select_related(
            "booking__departure__service__station",
            "booking__departure__service__terminal",
            "booking__vessel_call__terminal",
        )
        .first()
    )
    if container is None:
        raise NotFound()
    return timeline_build(booking=container.booking, container=container)


def journey_map(booking: Booking) -> NetworkMap | None:
    """The network map (stations.maps) with the booking's route picked out and its containers' place along it:
    where the train leaves from until it leaves (the station, or for an import the terminal), then by the time gone
    of the trip, where it goes once it arrived. For the booking page and the tracking pages (signed in and
    public)."""
    departure = booking.departure
    arrived = (BookingStatus.AT_STATION, BookingStatus.DELIVERED) if booking.is_import else (
        BookingStatus.AT_PORT, BookingStatus.LOADED, BookingStatus.SAILED)
    if departure.actual_arrival is not None or booking.status in arrived:
        progress = 1.0
    elif departure.actual_departure is not None:
        trip = (departure.expected_arrival - departure.actual_departure).total_seconds()
        gone = (timezone.now() - departure.actual_departure).total_seconds()
        progress = min(max(gone / trip, 0.05), 0.95) if trip > 0 else 0.5
    else:
        progress = 0.0
    service = departure.service
    if booking.is_import:  # the map's route runs station -> terminal: an import travels it backwards
        progress = 1.0 - progress
    far = service.station.longitude is not None and service.station.longitude < NEAR_PORT_LONGITUDE
    return network_map(route=(service.station.code, service.terminal.code), near_port=not far,
                       progress=None if booking.status == BookingStatus.CANCELLED else progress)
