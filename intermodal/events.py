"""The event + outbox core: the one function every app calls to record a change.

`event_record` appends the Event and its OutboxMessage in the caller's transaction, so both rows exist
exactly when the change commits, and neither when it rolls back. The relay that delivers outbox rows is
triggered on commit and also sweeps, so a lost trigger only delays a delivery.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from intermodal.codes import CODES_BY_TYPE, Classifier, EventType
from intermodal.errors import InvalidInput
from intermodal.models import Event, Organisation, OutboxMessage, User

# Relay hooks run on commit with the outbox ids of the transaction; the notifications app registers one.
_on_commit_hooks: list = []


def outbox_on_commit(hook) -> None:
    """Register `hook(outbox_ids: list[int])`, called after a transaction that wrote outbox rows commits."""
    if hook not in _on_commit_hooks:
        _on_commit_hooks.append(hook)


def _topic(event_type: str, event_code: str) -> str:
    return f"{event_type.lower()}.{event_code.lower()}"


def event_payload(event: Event) -> dict:
    return {
        "eventID": str(event.event_id),
        "eventType": event.event_type,
        "eventCode": event.event_code,
        "eventClassifierCode": event.classifier,
        "eventDateTime": event.event_datetime.isoformat(),
        "eventCreatedDateTime": event.created_at.isoformat(),
        "location": {
            "UNLocationCode": event.location_unlocode or None,
            "facilityKind": event.facility_kind or None,
            "facilityCode": event.facility_code or None,
        },
        "modeOfTransport": event.mode_of_transport or None,
        "transportReference": event.transport_reference or None,
        "equipmentReference": event.equipment_reference or None,
        "emptyIndicatorCode": event.empty_indicator or None,
        "bookingReference": event.booking_reference or None,
        "documentTypeCode": event.document_type or None,
        "documentReference": event.document_reference or None,
        "reason": event.reason or None,
        "details": event.details,
        "reportedBy": event.reported_by_organisation.code if event.reported_by_organisation else None,
    }


def event_record(
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
) -> Event:
    """Append one event and its outbox row; call inside the transaction of the change it records."""
    if event_type not in EventType.values:
        raise InvalidInput(errors={"event_type": [f"Unknown event type {event_type!r}."]})
    if event_code not in CODES_BY_TYPE[event_type]:
        raise InvalidInput(errors={"event_code": [f"{event_code!r} is not a {event_type} event code."]})
    if classifier not in Classifier.values:
        raise InvalidInput(errors={"classifier": [f"Unknown classifier {classifier!r}."]})
    if event_datetime is not None and timezone.is_naive(event_datetime):
        raise InvalidInput(errors={"event_datetime": ["A time zone is required."]})
    if user is not None and organisation is None:
        organisation = user.organisation

    with transaction.atomic():
        event = Event.objects.create(
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
        )
        outbox = OutboxMessage.objects.create(
            event=event, topic=_topic(event_type, event_code), payload=event_payload(event)
        )
        if _on_commit_hooks:
            transaction.on_commit(lambda: [hook([outbox.pk]) for hook in _on_commit_hooks])
    return event
