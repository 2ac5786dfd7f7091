"""The event + outbox core: the one function every app calls to record a change.

`event_record` appends the Event and its OutboxMessage in the caller's transaction, so both rows exist
exactly when the change commits, and neither when it rolls back. The relay that delivers outbox rows is
triggered on commit and also sweeps, so a lost trigger only delays a delivery.
"""

from datetime import datetime

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from databases import bulk
from intermodal.codes import CODES_BY_TYPE, Classifier, EventType
from intermodal.errors import InvalidInput
from intermodal.models import Event, Organisation, OutboxMessage, User
from intermodal.versions import forget_events

_EVENT_TYPES = frozenset(EventType.values)  # `.values` builds a new list on every use
_CLASSIFIERS = frozenset(Classifier.values)

# Sent once after a transaction that wrote outbox rows commits, with `outbox_ids` (every id of the transaction):
# the notifications app, which sits above every app, connects its relay.
outbox_committed = Signal()


def _topic(event_type: str, event_code: str) -> str:
    return f"{event_type.lower()}.{event_code.lower()}"


def event_build(
    *,
    event_type: str,
    event_code: str,
    classifier: str = Classifier.ACTUAL,
    event_datetime: datetime | None = None,
    organisation: Organisation | None = None,
    user: User | None = None,
    location_unlocode: str = "",
    facility_kind: str = "",
    facility_code: str = "",
    mode_of_transport: str = "",
    transport_reference: str = "",
    equipment_reference: str = "",
    empty_indicator: str = "",
    booking_reference: str = "",
    document_type: str = "",
    document_reference: str = "",
    reason: str = "",
    details: dict | None = None,
    supersedes: Event | None = None,
) -> Event:
    """An unsaved event, checked: `event_record` saves one, `events_append` many at once. `supersedes`: the
    wrong report this one corrects (journey.corrections)."""
    if event_type not in _EVENT_TYPES:
        raise InvalidInput(errors={"event_type": [f"Unknown event type {event_type!r}."]})
    if event_code not in CODES_BY_TYPE[event_type]:
        raise InvalidInput(errors={"event_code": [f"{event_code!r} is not a {event_type} event code."]})
    if classifier not in _CLASSIFIERS:
        raise InvalidInput(errors={"classifier": [f"Unknown classifier {classifier!r}."]})
    if event_datetime is not None and timezone.is_naive(event_datetime):
        raise InvalidInput(errors={"event_datetime": ["A time zone is required."]})
    if user is not None and organisation is None:
        organisation = user.organisation
    return Event(
        event_type=event_type,
        event_code=event_code,
        classifier=classifier,
        event_datetime=event_datetime or timezone.now(),
        location_unlocode=location_unlocode,
        facility_kind=facility_kind,
        facility_code=facility_code,
        mode_of_transport=mode_of_transport,
        transport_reference=transport_reference,
        equipment_reference=equipment_reference,
        empty_indicator=empty_indicator,
        booking_reference=booking_reference,
        document_type=document_type,
        document_reference=document_reference,
        reason=reason,
        details=details or {},
        reported_by_organisation=organisation,
        reported_by_user=user,
        supersedes=supersedes,
    )


class _CommitBatch:
    """The outbox ids written in one transaction, handed to the hooks together once it commits."""

    def __init__(self):
        self.ids: list[int] = []
        self.flushed = False

    def flush(self) -> None:
        self.flushed = True
        ids, self.ids = self.ids, []
        if ids:
            outbox_committed.send(sender=OutboxMessage, outbox_ids=ids)


def _relay_on_commit(outbox_ids: list[int]) -> None:
    """Call inside the transaction that wrote outbox rows `outbox_ids`: the hooks get every id of the
    transaction in one call after the commit (a transaction recording 500 events triggers one relay, not 500)."""
    if not (outbox_committed.has_listeners(OutboxMessage) and outbox_ids):
        return
    connection = transaction.get_connection()
    batch = getattr(connection, "_outbox_commit_batch", None)
    # A batch whose flush is no longer waiting (it ran, or a rollback discarded it) is not reused.
    if batch is None or batch.flushed or not any(entry[1] == batch.flush for entry in connection.run_on_commit):
        batch = _CommitBatch()
        connection._outbox_commit_batch = batch
        transaction.on_commit(batch.flush)
    batch.ids.extend(outbox_ids)


def event_record(**fields) -> Event:
    """Append one event and its outbox row; call inside the transaction of the change it records. Takes the
    arguments of `event_build`."""
    event = event_build(**fields)
    with transaction.atomic():
        event.save(force_insert=True)
        outbox = OutboxMessage.objects.create(event=event, topic=_topic(event.event_type, event.event_code))
        _relay_on_commit([outbox.pk])
        forget_events([event])
    return event


def events_append(events: list[Event]) -> list[Event]:
    """Append built events (`event_build`) and their outbox rows with one INSERT each, in the caller's transaction;
    the relay hooks get all the outbox ids on commit, in one call. For a bulk of events in one change."""
    if not events:
        return events
    with transaction.atomic():
        bulk.rows_insert(Event, events, returning="id")
        now = timezone.now()  # one reading for the rows: each row's default read the settings again
        outbox = OutboxMessage.objects.bulk_create(
            [OutboxMessage(event_id=event.pk, topic=_topic(event.event_type, event.event_code), created_at=now)
             for event in events]
        )
        _relay_on_commit([message.pk for message in outbox])
        forget_events(events)
    return events
