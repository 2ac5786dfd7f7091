"""Reads on declarations, scoped: a shipper its own; customs and border-inspection officers those at the
stations their office covers; the platform's admins all. Anything else is a 404."""

from datetime import timedelta

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.utils import timezone

from bookings.models import Container
from customs.models import Declaration, DeclarationStatus
from intermodal.access import Actor
from intermodal.errors import NotFound
from intermodal.models import PartyKind

OFFICERS = (PartyKind.CUSTOMS, PartyKind.BORDER_INSPECTION)
# Who reads the officers' notes: the risk rules that selected a declaration (with their thresholds and the
# declared values they name) and the reasons of decisions other than a rejection.
NOTE_READERS = frozenset({*OFFICERS, PartyKind.PLATFORM_ADMIN})
QUEUE_STATUSES = (DeclarationStatus.SUBMITTED, DeclarationStatus.INSPECTION_REQUIRED, DeclarationStatus.INSPECTED)


def sees_officers_notes(kind: str | None) -> bool:
    """The one rule for the officers' notes, on the declaration's page and API here and on customs events on
    every path (tracking.visibility). The trader sees the decisions, and a rejection's reason (the officer's
    message to it, so it can amend); stations, railways and the port only whether the container may move."""
    return kind in NOTE_READERS


def declaration_list(*, actor: Actor) -> QuerySet[Declaration]:
    organisation = actor.organisation
    queryset = Declaration.objects.select_related("booking", "station", "declarant", "previous").prefetch_related(
        "lines"
    )
    if organisation is None:
        return queryset.none()
    if organisation.kind == PartyKind.PLATFORM_ADMIN:
        return queryset
    if organisation.kind == PartyKind.ENTERPRISE:
        return queryset.filter(declarant=organisation)
    if organisation.kind in OFFICERS:
        # Officers work submitted declarations; drafts are the shipper's own until submitted.
        return queryset.filter(station__in=organisation.covered_stations.all()).exclude(status=DeclarationStatus.DRAFT)
    return queryset.none()


def declaration_get(*, actor: Actor, reference: str) -> Declaration:
    declaration = (
        declaration_list(actor=actor)
        .prefetch_related("booking__containers", "decisions__officer", "decisions__organisation")
        .select_related("inspection")
        .filter(reference=reference)
        .first()
    )
    if declaration is None:
        raise NotFound()
    return declaration


def declaration_queue(
    *, actor: Actor, station: str = "", older_than_hours: int | None = None, risk: bool | None = None
) -> QuerySet[Declaration]:
    """An officer's work list: waiting declarations, oldest first."""
    queryset = declaration_list(actor=actor).filter(status__in=QUEUE_STATUSES)
    if station:
        queryset = queryset.filter(station__code=station)
    if older_than_hours:
        queryset = queryset.filter(submitted_at__lte=timezone.now() - timedelta(hours=older_than_hours))
    if risk is not None:
        queryset = queryset.filter(risk_selected=risk)
    return queryset.order_by("submitted_at", "id")


def clearance_figures(*, actor: Actor) -> list[dict]:
    """Per station: declarations released, average clearance time (submitted -> released), and the share
    released without inspection. Computed in the database."""
    released = declaration_list(actor=actor).filter(status=DeclarationStatus.RELEASED)
    rows = (
        released.values("station__code", "station__name", "station__name_zh")
        .annotate(
            released=Count("id"),
            without_inspection=Count("id", filter=Q(inspection__isnull=True)),
            clearance=Avg(ExpressionWrapper(F("released_at") - F("submitted_at"), output_field=DurationField())),
        )
        .order_by("station__code")
    )
    return [
        {**row, "share_without_inspection": row["without_inspection"] / row["released"] if row["released"] else None}
        for row in rows
    ]


def customs_labels(containers: list[Container]) -> dict[int, str]:
    """Each container's customs state: that of the latest version of its booking's declaration (one query)."""
    latest = _latest_statuses({c.booking_id for c in containers})
    return {c.pk: DeclarationStatus(latest[c.booking_id]).label for c in containers if c.booking_id in latest}


def _latest_statuses(booking_ids) -> dict[int, str]:
    """The status of each booking's latest declaration (one query)."""
    latest: dict[int, tuple[int, str]] = {}
    for booking_id, version, status in Declaration.objects.filter(booking_id__in=set(booking_ids)).values_list(
            "booking_id", "version", "status"):
        if booking_id not in latest or version > latest[booking_id][0]:
            latest[booking_id] = (version, status)
    return {booking_id: status for booking_id, (_, status) in latest.items()}


def released_bookings(booking_ids) -> set[int]:
    """The bookings whose latest declaration is released (customs.services.container_released for many
    containers at once): their import containers carry no customs hold."""
    return {pk for pk, status in _latest_statuses(booking_ids).items() if status == DeclarationStatus.RELEASED}
