"""Shared records: the parties (organisations, users, API keys) and the event + outbox core.

These import no app. Relations of an organisation to network objects (the stations it runs, the services
it operates, the terminals of a port company, the stations an inspection office covers) are declared on
those objects in `stations`, pointing here.
"""

import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from intermodal.codes import (
    Classifier,
    DocumentType,
    EmptyIndicator,
    EventType,
    FacilityKind,
    ModeOfTransport,
)


class PartyKind(models.TextChoices):
    ENTERPRISE = "enterprise", _("Enterprise (shipper / forwarder)")
    STATION_OPERATOR = "station_operator", _("Station operator")
    RAILWAY = "railway", _("Railway / barge operator")
    PORT = "port", _("Port")
    CUSTOMS = "customs", _("Customs")
    BORDER_INSPECTION = "border_inspection", _("Border inspection")
    MARITIME_SAFETY = "maritime_safety", _("Maritime safety")
    LOCAL_GOVERNMENT = "local_government", _("Local government")
    PLATFORM_ADMIN = "platform_admin", _("Platform admin")


def validate_uscc(value: str) -> None:
    from stdnum.cn import uscc

    if not (value.isascii() and uscc.is_valid(value)) or value != uscc.compact(value):
        raise ValidationError(
            _("%(value)s is not a valid unified social credit code (18 characters with a check character)."),
            params={"value": value}, code="invalid_uscc",
        )


class Organisation(models.Model):
    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200, blank=True)
    kind = models.CharField(_("party kind"), max_length=30, choices=PartyKind.choices)
    # A local government office sees the aggregates of its city, or of its whole province if city is blank.
    city = models.CharField(_("city"), max_length=100, blank=True)
    province = models.CharField(_("province"), max_length=100, blank=True)
    uscc = models.CharField(_("unified social credit code"), max_length=18, blank=True, validators=[validate_uscc])
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=PartyKind.values), name="organisation_kind_valid"
            ),
        ]

    def __str__(self):
        return self.name


class User(AbstractUser):
    # Nullable only for break-glass superusers made with createsuperuser; every person using the product
    # belongs to exactly one organisation.
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="users",
        null=True,
        blank=True,
    )
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    # The station a person last chose on the station board (its code): the board opens there on every device and
    # after every sign-in. A code, not a key: the core knows no app's tables.
    work_station = models.SlugField(_("work station"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @property
    def party_kind(self) -> str | None:
        return self.organisation.kind if self.organisation_id else None


class Scope(models.TextChoices):
    """What an API key may do. Session users are governed by their party kind, not by scopes."""

    SCHEDULES_READ = "schedules:read", _("Read schedules")
    BOOKINGS_READ = "bookings:read", _("Read bookings")
    BOOKINGS_WRITE = "bookings:write", _("Create and change bookings")
    EVENTS_READ = "events:read", _("Read events and tracking")
    EVENTS_WRITE = "events:write", _("Report events")
    DECLARATIONS_READ = "declarations:read", _("Read declarations")
    DECLARATIONS_WRITE = "declarations:write", _("Create declarations and decide on them")
    SUBSCRIPTIONS = "subscriptions:manage", _("Manage webhook subscriptions")
    KPI_READ = "kpi:read", _("Read figures")
    KEYS_MANAGE = "keys:manage", _("Manage the organisation's API keys")


_READ_TRACK = [Scope.SCHEDULES_READ, Scope.EVENTS_READ, Scope.SUBSCRIPTIONS]
DEFAULT_SCOPES: dict[str, list[str]] = {
    PartyKind.ENTERPRISE: [*_READ_TRACK, Scope.BOOKINGS_READ, Scope.BOOKINGS_WRITE, Scope.DECLARATIONS_READ,
                           Scope.DECLARATIONS_WRITE, Scope.KPI_READ],
    PartyKind.STATION_OPERATOR: [*_READ_TRACK, Scope.BOOKINGS_READ, Scope.EVENTS_WRITE, Scope.KPI_READ],
    PartyKind.RAILWAY: [*_READ_TRACK, Scope.BOOKINGS_READ, Scope.EVENTS_WRITE, Scope.KPI_READ],
    PartyKind.PORT: [*_READ_TRACK, Scope.BOOKINGS_READ, Scope.EVENTS_WRITE, Scope.KPI_READ],
    PartyKind.CUSTOMS: [*_READ_TRACK, Scope.DECLARATIONS_READ, Scope.DECLARATIONS_WRITE, Scope.KPI_READ],
    PartyKind.BORDER_INSPECTION: [*_READ_TRACK, Scope.DECLARATIONS_READ, Scope.DECLARATIONS_WRITE,
                                  Scope.KPI_READ],
    PartyKind.MARITIME_SAFETY: [*_READ_TRACK, Scope.KPI_READ],
    PartyKind.LOCAL_GOVERNMENT: [Scope.SCHEDULES_READ, Scope.KPI_READ],
    PartyKind.PLATFORM_ADMIN: list(Scope.values),
}


class ApiKey(models.Model):
    """A machine credential of one organisation. Only a hash of the secret is stored."""

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(_("name"), max_length=100)
    # The public part of the key, shown in lists and logs so people can tell keys apart.
    prefix = models.CharField(_("prefix"), max_length=12, unique=True)
    secret_hash = models.CharField(max_length=64)
    scopes = models.JSONField(_("scopes"), default=list)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


unlocode_validator = RegexValidator(
    r"^[A-Z]{2}[A-Z2-9]{3}$", _("Enter a UN/LOCODE: two letters of the country and three of the place.")
)


class Event(models.Model):
    """One fact, append-only, shaped after DCSA Track & Trace 2.2.

    References are business codes (station, terminal, departure, vessel call, booking, container), not
    foreign keys: the events table is the largest and is partitioned by time first, and the shared core
    must not depend on the apps that report into it.
    """

    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event_type = models.CharField(max_length=10, choices=EventType.choices)
    # An EQUIPMENT, TRANSPORT or SHIPMENT event type code (GTIN, DEPA, RELS, ...), or one of ours for
    # changes DCSA has no code for (see intermodal.codes.PlatformEventCode).
    event_code = models.CharField(max_length=20)
    classifier = models.CharField(max_length=3, choices=Classifier.choices)
    event_datetime = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # The writing transaction's id, set by the database (a trigger, migration 0007): feeds read events in this
    # order, and only those of transactions that no running transaction precedes (intermodal.feed), so no later
    # commit can slip in behind a reader's cursor, as one could in the order of created_at (set before the
    # commit). Not a column default: Django writes a bulk of rows with a default through a slow VALUES list
    # instead of its arrays (UNNEST). The model's None is never stored.
    txid = models.BigIntegerField(null=True, editable=False)

    location_unlocode = models.CharField(max_length=5, blank=True, validators=[unlocode_validator])
    facility_kind = models.CharField(max_length=10, choices=FacilityKind.choices, blank=True)
    facility_code = models.CharField(max_length=30, blank=True, db_index=True)

    mode_of_transport = models.CharField(max_length=10, choices=ModeOfTransport.choices, blank=True)
    transport_reference = models.CharField(max_length=50, blank=True, db_index=True)

    equipment_reference = models.CharField(max_length=11, blank=True)  # indexed with the time (event_equipment_time)
    empty_indicator = models.CharField(max_length=5, choices=EmptyIndicator.choices, blank=True)

    booking_reference = models.CharField(max_length=20, blank=True)  # indexed with the time (event_booking_time)
    document_type = models.CharField(max_length=3, choices=DocumentType.choices, blank=True)
    document_reference = models.CharField(max_length=50, blank=True)

    reason = models.CharField(max_length=250, blank=True)
    # Anything else the event carries (delay minutes, seal, VGM, old and new values of a change).
    details = models.JSONField(default=dict, blank=True)

    reported_by_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reported_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # A correction names the report it replaces (same step, the right time); the replaced event stays in the
    # feeds as it was told, and every timeline shows the correction instead (journey.corrections).
    # No foreign key in the database (the table is partitioned: its keys include the month, migration 0011); one
    # correction per report is kept by the correction's lock on the report it replaces (journey.corrections).
    supersedes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by", db_index=False,
        db_constraint=False,
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["equipment_reference", "event_datetime"], name="event_equipment_time"),
            models.Index(fields=["booking_reference", "event_datetime"], name="event_booking_time"),
            models.Index(fields=["txid", "id"], name="event_feed_order"),
            # A timeline reads the transport's own events (train, vessel); containers' events on it are many more.
            models.Index(fields=["transport_reference", "event_datetime"], name="event_transport_own_time",
                         condition=models.Q(event_type="TRANSPORT")),
            # Timelines leave out replaced reports (superseded_by IS NULL); corrections are few.
            models.Index(fields=["supersedes"], name="event_supersedes", condition=models.Q(supersedes__isnull=False)),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(event_type__in=EventType.values), name="event_type_valid"),
            models.CheckConstraint(
                condition=models.Q(classifier__in=Classifier.values), name="event_classifier_valid"
            ),
        ]

    def __str__(self):
        subject = self.equipment_reference or self.transport_reference or self.booking_reference
        return f"{self.event_code} {self.classifier} {subject} @ {self.event_datetime:%Y-%m-%d %H:%M}"


class OutboxMessage(models.Model):
    """A change waiting to be told to whoever subscribed; written in the transaction of the change."""

    # No foreign key in the database: the events table is partitioned by month (its keys include the month).
    event = models.OneToOneField(Event, on_delete=models.PROTECT, related_name="outbox", db_constraint=False)
    topic = models.CharField(max_length=60, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Set by the relay once every matching delivery has been planned; unprocessed rows are swept.
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["id"], name="outbox_unprocessed", condition=models.Q(processed_at__isnull=True)
            ),
        ]

    def __str__(self):
        return f"{self.topic} #{self.pk}"


class IdempotencyRecord(models.Model):
    """The first response to a POST sent with an `Idempotency-Key`, replayed to retries for 24 hours."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    request_hash = models.CharField(max_length=64)
    # Null while the first request is still being processed.
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "key"], name="idempotency_key_once_per_organisation"),
        ]

    def __str__(self):
        return f"{self.organisation_id}:{self.key}"
