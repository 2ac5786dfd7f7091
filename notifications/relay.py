"""The relay: outbox rows become webhook deliveries and notifications for people, in one transaction.

Triggered on commit (the ids of the transaction's outbox rows go to a Celery task) and swept periodically, so
a trigger lost with the broker only delays a delivery. Rows are claimed with SELECT ... FOR UPDATE SKIP LOCKED:
two relays never take the same row, and a delivery is unique per (subscription, event), so a row relayed twice
(a worker killed after the commit) sends nothing twice.
"""

import json
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from typing import NamedTuple

from celery import shared_task
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.datastructures import MultiValueDict

from bkg.dcsa import booking_notification
from bkg.models import BookingNotice, BookingRequest
from bookings.models import Booking, Container
from edi.iftsta import iftsta_interchange
from intermodal.access import Actor
from intermodal.codes import Classifier, DocumentType, EventType, FacilityKind
from intermodal.models import Event, Organisation, OutboxMessage
from notifications.delivery import deliveries_queue
from notifications.models import MATCH_ANY, Delivery, DeliveryStatus, Subscription, SubscriptionFormat
from notifications.people import at_risk_alerts_task, emails_dispatch, notifications_from_events
from stations.models import Station
from tracking.api import EventOutSerializer
from tracking.dcsa import EMITTABLE, dcsa_lookups, dcsa_matching, event_query_parse, events_as_dcsa
from tracking.visibility import Named, named_in, transport_ids, visible_ids

logger = logging.getLogger(__name__)

# Outbox rows per relay transaction: deliveries of a batch start as soon as it commits.
BATCH = 100


def topic_of(event: Event) -> str:
    return f"{event.event_type.lower()}.{event.event_code.lower()}"


def webhook_id_new() -> str:
    return f"msg_{uuid.uuid4().hex}"


class Planned(NamedTuple):
    """A delivery the relay plans, as deliveries_insert writes it: a tuple, not a Delivery instance, whose
    `Model.__init__` (its two foreign keys set through their descriptors) cost four times as much, for nine
    deliveries an event in P1 (docs/PERFORMANCE.md)."""

    webhook_id: str
    subscription_id: int
    event_id: int
    topic: str
    body: str


def planned_for(subscription: Subscription, event: Event, body: str) -> Planned:
    return Planned(webhook_id_new(), subscription.pk, event.pk, topic_of(event), body)


def json_body(payload) -> str:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, sort_keys=True, default=str)


def relay_trigger(sender=None, *, outbox_ids: list[int], **signal) -> None:
    """On commit: hand the new outbox rows to a worker. A broker that does not answer is logged, not raised:
    the change is saved and the periodic sweep relays it."""

    try:
        outbox_relay_task.apply_async(kwargs={"ids": outbox_ids})
    except Exception as error:  # noqa: BLE001 - any broker failure: the sweep is the fallback
        logger.warning("Outbox relay not queued (%s); the sweep will relay outbox rows %s", error, outbox_ids[:20])


# --- Matching -------------------------------------------------------------------------------------------


class _Places:
    """Where a batch's events belong: the station of each booking and of each departure, and each booking's
    transports (for station and booking filters), each fetched in one query."""

    def __init__(self, events: list[Event]):
        booking_refs = {e.booking_reference for e in events if e.booking_reference}
        transport_refs = {e.transport_reference for e in events if e.transport_reference}
        self.booking_station: dict[str, str] = {}
        self.booking_shipper: dict[str, int] = {}
        self.transport_station: dict[str, str] = {}
        self.transport_bookings: dict[str, set[str]] = defaultdict(set)
        self.station_operator: dict[str, int | None] = {}
        # The transports by their ids, read first, so the bookings' own indexes find theirs (by reference across
        # the join, the planner reads every departure of the year).
        self.transports = transport_ids(transport_refs)
        departures, vessel_calls = self.transports
        rows = Booking.objects.filter(
            Q(reference__in=booking_refs) | Q(departure_id__in=list(departures.values()))
            | Q(vessel_call_id__in=list(vessel_calls.values()))
        ).values_list("reference", "departure__reference", "vessel_call__reference",
                      "departure__service__station__code", "departure__service__station__operator_id", "shipper_id")
        for reference, departure, vessel_call, station, operator, shipper in rows:
            self.booking_station[reference] = station
            self.booking_shipper[reference] = shipper
            self.station_operator[station] = operator
            self.transport_station[departure] = station
            self.transport_bookings[departure].add(reference)
            self.transport_bookings[vessel_call].add(reference)
        # DCSA booking requests not yet a booking: their events name the request (document CBR) alone.
        requests = {e.document_reference for e in events if e.document_type == DocumentType.CBR}
        self.request_shipper: dict[str, int] = dict(
            BookingRequest.objects.filter(reference__in=requests).values_list("reference", "shipper_id")
        ) if requests else {}
        unknown = {e.facility_code for e in events if e.facility_kind == FacilityKind.STATION and e.facility_code
                   } - self.station_operator.keys()
        if unknown:
            self.station_operator.update(Station.objects.filter(code__in=unknown).values_list("code", "operator_id"))

    def stations(self, event: Event) -> set[str]:
        found = set()
        if event.facility_kind == FacilityKind.STATION and event.facility_code:
            found.add(event.facility_code)
        if event.booking_reference in self.booking_station:
            found.add(self.booking_station[event.booking_reference])
        if event.transport_reference in self.transport_station:
            found.add(self.transport_station[event.transport_reference])
        return found

    def bookings(self, event: Event) -> set[str]:
        if event.booking_reference:
            return {event.booking_reference}
        return set(self.transport_bookings.get(event.transport_reference, ()))

    def organisations(self, event: Event) -> set[int]:
        """The enterprises and station operators that may see the event (a superset: tracking.visibility
        decides): the shippers of its bookings, the operators of their stations and of the station it happened
        at."""
        bookings = self.bookings(event)
        stations = self.stations(event) | {self.booking_station[b] for b in bookings if b in self.booking_station}
        found = {self.booking_shipper[b] for b in bookings if b in self.booking_shipper}
        found |= {self.station_operator[s] for s in stations if self.station_operator.get(s)}
        if event.document_type == DocumentType.CBR and event.document_reference in self.request_shipper:
            found.add(self.request_shipper[event.document_reference])
        return found


def batch_terms(events: list[Event], places: _Places) -> tuple[list[str], list[str]]:
    """The kinds and keys of a batch (notifications.models.match_terms): a subscription concerns the batch only
    if its own overlap them; the organisations that may see its events key the subscriptions without a filter of
    their own. A container's key comes with every event of its bookings and of the trains and
    vessels they travel on (a DCSA equipmentReference filter takes those too): one more query, for the numbers
    of the batch's bookings' containers."""
    kinds, keys, bookings = {"*"}, {MATCH_ANY}, set()
    for event in events:
        topic = topic_of(event)
        kinds |= {topic, f"{topic.split('.', 1)[0]}.*"}
        if event.equipment_reference:
            keys.add(f"eq:{event.equipment_reference.upper()}")
        bookings |= places.bookings(event)
        keys |= {f"st:{station.upper()}" for station in places.stations(event)}
        keys |= {f"org:{organisation}" for organisation in places.organisations(event)}
    keys |= {f"bk:{reference.upper()}" for reference in bookings}
    numbers = Container.objects.filter(booking__reference__in=bookings).values_list("number", flat=True)
    keys |= {f"eq:{number}" for number in numbers}
    return sorted(kinds), sorted(keys)


def subscriptions_for(events: list[Event], places: _Places) -> list[Subscription]:
    """The active subscriptions a batch may concern, found by the GIN indexes of their match terms: the rest,
    however many, are never read."""
    kinds, keys = batch_terms(events, places)
    return list(Subscription.objects.select_related("organisation").defer("secret")  # signed by the sender
                .filter(is_active=True, match_kinds__overlap=kinds, match_keys__overlap=keys).order_by("id"))


def kinds_match(kinds: list[str], topic: str) -> bool:
    event_type = topic.split(".", 1)[0]
    return "*" in kinds or topic in kinds or f"{event_type}.*" in kinds


def subscription_matches(subscription: Subscription, event: Event, places: _Places) -> bool:
    """A Standard Webhooks subscription's own filters (kinds, station, booking, container), AND-ed."""
    if not kinds_match(subscription.event_kinds, topic_of(event)):
        return False
    if subscription.equipment_reference and event.equipment_reference != subscription.equipment_reference:
        return False
    if subscription.booking_reference and subscription.booking_reference not in places.bookings(event):
        return False
    return not (subscription.station_code and subscription.station_code not in places.stations(event))


def dcsa_params(filters: dict) -> MultiValueDict:
    """A DCSA subscription's stored filters as the query parameters tracking.dcsa parses."""
    return MultiValueDict({name: [",".join(value) if isinstance(value, list) else str(value)]
                           for name, value in filters.items()})


# --- Payloads -------------------------------------------------------------------------------------------


def standard_bodies(events: list[Event], party_kind: str) -> dict[int, str]:
    """Standard Webhooks' shape for each event: type, timestamp, data (the event as GET /api/v1/events/ shows
    it to a party of `party_kind`). One serializer for the batch: DRF builds its fields once, not once per
    event."""
    data = EventOutSerializer(events, many=True, context={"party_kind": party_kind}).data
    return {event.pk: json_body({"type": topic_of(event), "timestamp": event.created_at.isoformat(), "data": item})
            for event, item in zip(events, data, strict=True)}


# The DCSA filters a subscription's events are matched by in Python, on the rows its organisation may see: the
# kinds and codes of events (a subscription's usual filters). The others are asked of the database.
_CODE_FILTERS = {"shipmentEventTypeCode": EventType.SHIPMENT, "transportEventTypeCode": EventType.TRANSPORT,
                 "equipmentEventTypeCode": EventType.EQUIPMENT}


def _dcsa_match(query) -> Callable[[Event], bool] | None:
    """`query`'s filters (tracking.dcsa._filter) as a test of one event, when they are only of kinds and codes;
    None otherwise."""
    filters = query.filters
    if query.created or set(filters) - {"eventType", *_CODE_FILTERS}:
        return None

    def match(event: Event) -> bool:
        if "eventType" in filters and event.event_type not in filters["eventType"]:
            return False
        return all(event.event_type == event_type and event.event_code in filters[name]
                   for name, event_type in _CODE_FILTERS.items() if name in filters)

    return match


class _Seen:
    """What each organisation may see of a batch (tracking.visibility, one query per organisation) and which of
    the batch's events DCSA 2.2.0 can carry (one query for the batch), each asked once whatever the number of its
    subscriptions and formats."""

    def __init__(self, events: list[Event], places: _Places | None = None):
        self.event_ids = [e.pk for e in events]
        self._events = events
        self._transports = places.transports if places is not None else None
        self._named: Named | None = None
        # When they were written: what the routes' parties may see of them is looked for in their months alone.
        self.created = (min(e.created_at for e in events), max(e.created_at for e in events)) if events else None
        self._visible: dict[int, set[int]] = {}
        self._emittable: set[int] | None = None

    def named(self) -> Named:
        """What the batch names, for the parties whose visibility is decided for it alone (visible_ids); read once,
        when one of them asks."""
        if self._named is None:
            self._named = named_in(((e.booking_reference, e.transport_reference) for e in self._events),
                                   self._transports)
        return self._named

    def visible(self, organisation: Organisation) -> set[int]:
        if organisation.pk not in self._visible:
            self._visible[organisation.pk] = visible_ids(organisation, self.event_ids, self.named(), self.created)
        return self._visible[organisation.pk]

    def dcsa(self, organisation: Organisation) -> set[int]:
        """What dcsa_events gives the organisation among the batch's events."""
        if self._emittable is None:
            # Within the batch's times: by ids alone every monthly partition is searched (5-9 ms a batch of P1's at
            # the year, 2 ms so).
            emittable = Event.objects.filter(pk__in=self.event_ids).filter(EMITTABLE)
            if self.created is not None:
                emittable = emittable.filter(created_at__gte=self.created[0], created_at__lte=self.created[1])
            self._emittable = set(emittable.values_list("pk", flat=True))
        return self.visible(organisation) & self._emittable


def _dcsa_deliveries(subscriptions: list[Subscription], events: list[Event], seen_by: _Seen | None = None,
                     ) -> list[Planned]:
    """The DCSA subscriptions' deliveries, organisation by organisation: the events it may be sent read once, their
    DCSA bodies built once, and each subscription's filters applied to them (in Python for kinds and codes, else
    one query of ids). What the events refer to whoever asks (their stations, trains, vessels) is read once for
    the batch. One query and one set of bodies per subscription cost the relay more than all the rest of a batch
    (P6, docs/PERFORMANCE.md)."""
    seen_by = seen_by or _Seen(events)
    by_org: dict[int, list[Subscription]] = defaultdict(list)
    for subscription in subscriptions:
        by_org[subscription.organisation_id].append(subscription)
    planned: list[Planned] = []
    lookups = None
    for subscriptions_of in by_org.values():
        organisation = subscriptions_of[0].organisation
        actor = Actor(organisation=organisation)
        dcsa_ids = seen_by.dcsa(organisation)
        seen = sorted((e for e in events if e.pk in dcsa_ids), key=lambda e: e.pk)
        if not seen:
            continue
        bodies: dict[int, str] = {}
        for subscription in subscriptions_of:
            query, _given = event_query_parse(dcsa_params(subscription.dcsa_filters))
            match = _dcsa_match(query)
            if match is None:
                ids = set(dcsa_matching(actor=actor, query=query).filter(pk__in=[e.pk for e in seen])
                          .values_list("pk", flat=True))
                matching = [e for e in seen if e.pk in ids]
            else:
                matching = [e for e in seen if match(e)]
            if matching and not bodies:
                lookups = lookups or dcsa_lookups(events)
                bodies = {e.pk: json_body([body]) for e, body in zip(
                    seen, events_as_dcsa(actor=actor, events=seen, lookups=lookups), strict=True)}
            planned += [planned_for(subscription, event, bodies[event.pk]) for event in matching]
    return planned


def _booking_deliveries(subscriptions: list[Subscription], events: list[Event]) -> list[Planned]:
    """DCSA Booking notifications: each change of a booking request (its BookingNotice, written with the event)
    to its shipper's booking-notification subscriptions, in DCSA's CloudEvents envelope."""
    if not subscriptions:
        return []
    by_event = {e.pk: e for e in events}
    notices = BookingNotice.objects.select_related("request").filter(event_id__in=list(by_event))
    planned = []
    for notice in notices:
        event = by_event[notice.event_id]
        for subscription in subscriptions:
            if subscription.organisation_id != notice.request.shipper_id:
                continue
            body = booking_notification(request=notice.request, data=notice.data, time=event.created_at,
                                        subscription_reference=str(subscription.subscription_id),
                                        event_id=str(event.event_id))
            planned.append(planned_for(subscription, event, json_body(body)))
    return planned


def deliveries_plan(events: list[Event]) -> list[Planned]:
    """The deliveries a batch of events makes: each subscription it may concern (subscriptions_for), with its
    matching events that its organisation may see (one visibility query per organisation, and one more for the
    DCSA subscriptions of an organisation)."""
    if not events:
        return []
    places = _Places(events)
    subscriptions = subscriptions_for(events, places)
    if not subscriptions:
        return []
    seen_by = _Seen(events, places)
    by_org: dict[int, Organisation] = {s.organisation_id: s.organisation for s in subscriptions}
    planned: list[Planned] = []
    bodies: dict[str, dict[int, str]] = {}  # by party kind: what one kind may know of an event, another may not
    iftsta: dict[tuple[int, int], str] = {}
    planned.extend(_dcsa_deliveries([s for s in subscriptions if s.format == SubscriptionFormat.DCSA], events,
                                    seen_by))
    planned.extend(_booking_deliveries([s for s in subscriptions if s.format == SubscriptionFormat.DCSA_BOOKING],
                                       events))
    for subscription in (s for s in subscriptions
                         if s.format in (SubscriptionFormat.STANDARD, SubscriptionFormat.IFTSTA)):
        matching = [e for e in events if subscription_matches(subscription, e, places)]
        if not matching:
            continue
        visible = seen_by.visible(by_org[subscription.organisation_id])
        kind = by_org[subscription.organisation_id].kind
        for event in matching:
            if event.pk in visible:
                if subscription.format == SubscriptionFormat.IFTSTA:
                    # An interchange addressed to the organisation (UNB recipient): built for each organisation.
                    body = iftsta_body(by_org[subscription.organisation_id], event, iftsta)
                else:
                    if kind not in bodies:
                        bodies[kind] = standard_bodies(events, kind)
                    body = bodies[kind][event.pk]
                planned.append(planned_for(subscription, event, body))
    return planned


def iftsta_body(organisation: Organisation, event: Event, built: dict[tuple[int, int], str]) -> str:
    """The IFTSTA format's body: one UN/EDIFACT interchange to the organisation, the event as an IFTSTA message
    as its party may know it (edi.iftsta, tracking.visibility)."""
    key = (organisation.pk, event.pk)
    if key not in built:
        built[key] = iftsta_interchange(actor=Actor(organisation=organisation), events=[event])
    return built[key]


# --- The relay ------------------------------------------------------------------------------------------


def outbox_relay(ids: list[int] | None = None, batch: int = BATCH) -> int:
    """Relay up to `batch` unprocessed outbox rows (those of `ids` first, then the others waiting after them, the
    oldest first; without `ids`, the oldest waiting); returns how many.

    Deliveries are queued for sending once the transaction commits."""
    return _relay_batch(ids, batch)[0]


def _relay_batch(ids: list[int] | None, batch: int, after: int | None = None) -> tuple[int, int]:
    """`outbox_relay`, looking for other rows only after `after` when it has no rows of its own; returns how many
    rows it relayed and the highest id among them (0 when none)."""
    if ids is not None and not ids:
        return 0, 0
    now = timezone.now()
    with transaction.atomic():
        waiting = OutboxMessage.objects.filter(processed_at__isnull=True).select_for_update(skip_locked=True).only(
            "id", "event_id", "created_at")
        # Its own rows first, then the other rows waiting from its oldest on, the oldest first. A task is queued
        # for each commit, and a busy relay's tasks wait in the broker: the first to run takes the rows of those
        # queued behind it, so no row waits for its own task (P6), and the batch's fixed cost - the matching, the
        # visibility, the send tasks - is paid once for many events. Rows of transactions not committed yet are
        # not seen. A task whose rows a relay ahead of it took stops there: that relay took the rows behind them.
        claimed = list(waiting.filter(pk__in=ids).order_by("id")[:batch]) if ids else []
        if ids and not claimed:
            return 0, 0
        others = waiting.exclude(pk__in=[row.pk for row in claimed])
        floor = min(ids) if ids else after
        if floor is not None:
            # Not from the first row waiting: the scan of the unprocessed rows' index would walk the entries of
            # every row processed since the table was last vacuumed, and of every row other transactions are
            # writing, on each call (1.4 ms, a third of what PostgreSQL spent on an ingested event in P1). An
            # older row waiting is its own task's, or the sweep's.
            others = others.filter(pk__gt=floor)
        claimed += list(others.order_by("id")[:batch - len(claimed)])
        if not claimed:
            return 0, 0
        events = _events_of(claimed)
        planned = deliveries_plan(events)
        created = deliveries_insert(planned, now)
        emails = notifications_from_events(events)
        estimates = any(e.classifier == Classifier.ESTIMATED and e.event_type == EventType.TRANSPORT for e in events)
        OutboxMessage.objects.filter(pk__in=[row.pk for row in claimed]).update(processed_at=now)
        transaction.on_commit(lambda: _dispatch(created, emails, estimates))
    return len(claimed), max(row.pk for row in claimed)


# An event is made before its outbox row, in the same transaction: at most this long before, in practice.
EVENT_BEFORE_OUTBOX = timedelta(hours=1)


def _events_of(claimed: list[OutboxMessage]) -> list[Event]:
    """The claimed rows' events, oldest first. Read within their rows' times: the events table is partitioned
    by the month of `created_at`, and a read by ids alone is planned over every month, which cost more than
    running it (1.4 ms a batch on a year of 19 months, P1). An event not found within (made over an hour before
    its outbox row) is read by its id alone."""
    ids = {row.event_id for row in claimed}
    times = [row.created_at for row in claimed]
    with_reporter = Event.objects.select_related("reported_by_organisation").order_by()  # sorted below
    events = list(with_reporter.filter(pk__in=sorted(ids), created_at__gte=min(times) - EVENT_BEFORE_OUTBOX,
                                       created_at__lte=max(times)))
    if len(events) < len(ids):
        events += with_reporter.filter(pk__in=sorted(ids - {event.pk for event in events}))
    return sorted(events, key=lambda event: event.pk)


def deliveries_insert(planned: list[Planned], now) -> dict[int, list[int]]:
    """Save the planned deliveries, due now and marked as queued: the send tasks go out as the relay's
    transaction commits (a broker that does not take them unmarks them for the sweep; a worker killed in between
    leaves them to the sweep's lost-message rule, WEBHOOK_REQUEUE_AFTER_SECONDS), with no second write of each
    row. One already made (an event relayed twice) is skipped. Returns the new ones' ids by subscription.

    One INSERT ... SELECT FROM unnest(...) RETURNING: the relay's 400 deliveries of 100 events go in a fifth of
    the time the ORM's bulk_create takes to build the statement, with no second query for the ids (P6,
    docs/PERFORMANCE.md)."""
    created: dict[int, list[int]] = {}
    if not planned:
        return created
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {Delivery._meta.db_table}
                    (webhook_id, subscription_id, event_id, topic, body, is_test, status, attempts, last_error,
                     next_attempt_at, dispatched_at, created_at)
                SELECT planned.*, false, %s, 0, '', %s, %s, %s
                  FROM unnest(%s::varchar[], %s::bigint[], %s::bigint[], %s::varchar[], %s::text[]) AS planned
                ON CONFLICT DO NOTHING
                RETURNING id, subscription_id""",  # noqa: S608 - the model's table
            [DeliveryStatus.PENDING, now, now, now, [d.webhook_id for d in planned],
             [d.subscription_id for d in planned], [d.event_id for d in planned], [d.topic for d in planned],
             [d.body for d in planned]])
        rows = cursor.fetchall()
    for pk, subscription_id in rows:
        created.setdefault(subscription_id, []).append(pk)
    return created


def outbox_sweep(limit_batches: int = 20) -> int:
    """Relay what the on-commit triggers missed, batch after batch (at most `limit_batches`), from the first row
    waiting."""
    return _relay_on(None, batches=limit_batches)


def _relay_on(ids: list[int] | None, batches: int | None = None) -> int:
    """Relay `ids`' rows (without them, the oldest waiting) and then, while batches come full, the rows waiting
    after the last one taken, at most `batches` batches in all; returns how many. A backlog drains in full batches
    without a scan from the first row waiting at each one."""
    done, last = _relay_batch(ids, BATCH)
    total, runs = done, 1
    while done == BATCH and (batches is None or runs < batches):
        done, last = _relay_batch(None, BATCH, after=last)
        total += done
        runs += 1
    return total


def _dispatch(deliveries: dict[int, list[int]], notification_ids: list[int], estimates: bool) -> None:

    if deliveries:
        deliveries_queue(deliveries)
    emails_dispatch(notification_ids)
    if estimates:
        # A new estimate may put bookings at risk: check now rather than at the next periodic run.
        try:
            at_risk_alerts_task.apply_async()
        except Exception as error:  # noqa: BLE001 - the periodic run checks soon anyway
            logger.warning("At-risk check not queued (%s)", error)


# --- Tasks ---------------------------------------------------------------------------------------------


@shared_task(name="notifications.outbox_relay")
def outbox_relay_task(ids: list[int] | None = None) -> int:
    """Relay the given outbox rows. A big transaction's rows are split: the other batches go to other worker
    processes, so deliveries of the first batch are on their way while the rest is relayed."""
    if ids and len(ids) > BATCH:
        try:
            for start in range(BATCH, len(ids), BATCH):
                outbox_relay_task.apply_async(kwargs={"ids": ids[start:start + BATCH]})
        except Exception:  # noqa: BLE001 - the broker failed: relay them here instead
            return outbox_relay(ids=ids, batch=len(ids))
        ids = ids[:BATCH]
    return _relay_on(ids)  # and a backlog behind its rows (tasks wait in the broker), on from where it got to


@shared_task(name="notifications.outbox_sweep")
def outbox_sweep_task() -> int:
    return outbox_sweep()
