"""Webhook subscriptions and their deliveries, and what people are told (in the app and by email).

A Delivery is one event for one subscription: created by the relay from the outbox, unique per (subscription,
event) so a relay run twice never sends twice, with a webhook-id fixed at creation so every retry carries the
same id. Retries are scheduled in the database (next_attempt_at), not by broker countdowns; a delivery being
sent holds a lease, and one whose worker died is taken up again when the lease runs out.
"""

import secrets
import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guard.encryption import EncryptedTextField
from intermodal.models import Event, Organisation, PartyKind


def standard_secret() -> str:
    """A Standard Webhooks secret: whsec_ and 32 random bytes in base64."""
    import base64

    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class SubscriptionFormat(models.TextChoices):
    STANDARD = "standard", _("Standard Webhooks (one event as JSON)")
    DCSA = "dcsa", _("DCSA Track & Trace 2.2.0 (a JSON array of events)")
    DCSA_BOOKING = "dcsa-bkg", _("DCSA Booking 2.0.5 notifications (CloudEvents)")
    IFTSTA = "iftsta", _("UN/EDIFACT IFTSTA D.95B (one interchange per event)")


class Subscription(models.Model):
    """An organisation's URL that receives the events it may see and asked for."""

    subscription_id = models.UUIDField(_("subscription ID"), default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="subscriptions")
    name = models.CharField(_("name"), max_length=100, blank=True)
    url = models.URLField(_("URL"), max_length=500)
    format = models.CharField(_("format"), max_length=10, choices=SubscriptionFormat.choices,
                              default=SubscriptionFormat.STANDARD)
    # Event kinds as topics: "equipment.gtin", "transport.*", or "*" for every kind.
    event_kinds = models.JSONField(_("event kinds"), default=list)
    station_code = models.CharField(_("station"), max_length=20, blank=True)
    booking_reference = models.CharField(_("booking"), max_length=20, blank=True)
    equipment_reference = models.CharField(_("container"), max_length=15, blank=True)
    # DCSA subscriptions keep the 2.2.0 filters as given (callbackUrl, secret and subscriptionID aside).
    dcsa_filters = models.JSONField(_("DCSA filters"), default=dict, blank=True)
    # Encrypted at rest (guard/encryption.py); read back in clear to sign with, never shown after creation.
    secret = EncryptedTextField(_("secret"), editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    disabled_reason = models.CharField(_("why it was disabled"), max_length=250, blank=True)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(_("failed attempts in a row"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # What the relay finds the subscription by (match_terms), kept from the filters above on every save.
    match_kinds = ArrayField(models.CharField(max_length=60), default=list, editable=False)
    match_keys = ArrayField(models.CharField(max_length=60), default=list, editable=False)

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        ordering = ["organisation_id", "created_at", "id"]
        indexes = [
            models.Index(fields=["is_active"], name="subscription_active_idx"),
            # fastupdate off: new entries go into the index at once, not into a pending list that every search
            # reads through until a vacuum (10,000 subscriptions just made: 12.5 ms a batch instead of 0.1).
            GinIndex(fields=["match_kinds"], name="subscription_kinds_gin", condition=Q(is_active=True),
                     fastupdate=False),
            GinIndex(fields=["match_keys"], name="subscription_keys_gin", condition=Q(is_active=True),
                     fastupdate=False),
        ]

    def __str__(self):
        return self.name or self.url

    def save(self, *args, **kwargs):
        self.match_kinds, self.match_keys = match_terms(self)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "match_kinds", "match_keys"}
        super().save(*args, **kwargs)


MATCH_ANY = "any"
# The parties whose events are all of their bookings or at their stations (tracking.visibility.events_visible).
SCOPED_KINDS = (PartyKind.ENTERPRISE, PartyKind.STATION_OPERATOR)


def _upper_values(value) -> list[str]:
    """A DCSA filter's values: a list, or a string of comma-separated values."""
    values = value if isinstance(value, list) else str(value or "").split(",")
    return sorted({str(v).strip().upper() for v in values if str(v).strip()})


def match_terms(subscription: "Subscription") -> tuple[list[str], list[str]]:
    """What the relay finds a subscription by, with two GIN indexes, instead of reading every active one for each
    batch of events (notifications.relay.subscriptions_for): the kinds of event it takes ("*", "equipment.*",
    "equipment.gtin") and its most selective filter as one key ("eq:<container>", else "bk:<booking>", else
    "st:<station>", else its organisation's scope, _scope_key). A batch finds the subscriptions whose kinds and
    keys overlap its own; their filters are then checked exactly. DCSA subscriptions are keyed from their
    eventType, equipmentReference and carrierBookingReference (or bookingReference) filters."""
    if subscription.format == SubscriptionFormat.DCSA:
        filters = subscription.dcsa_filters or {}
        kinds = [f"{kind.lower()}.*" for kind in _upper_values(filters.get("eventType"))] or ["*"]
        keys = ([f"eq:{number}" for number in _upper_values(filters.get("equipmentReference"))]
                or [f"bk:{reference}" for reference in sorted({
                    *_upper_values(filters.get("carrierBookingReference")),
                    *_upper_values(filters.get("bookingReference"))})]
                or [_scope_key(subscription)])
        return kinds, keys
    if subscription.format == SubscriptionFormat.DCSA_BOOKING:
        # The changes of the organisation's own booking requests: shipment events, keyed by the shipper.
        return ["shipment.*"], [_scope_key(subscription)]
    kinds = sorted({kind.lower() for kind in subscription.event_kinds or []}) or ["*"]
    for prefix, value in (("eq", subscription.equipment_reference), ("bk", subscription.booking_reference),
                          ("st", subscription.station_code)):
        if value:
            return kinds, [f"{prefix}:{value.upper()}"]
    return kinds, [_scope_key(subscription)]


def _scope_key(subscription: "Subscription") -> str:
    """The key of a subscription without a filter of its own: "org:<id>" for an enterprise or a station operator
    (it may only be sent the events of its bookings and, for an operator, of its stations: a batch names the
    organisations those belong to, notifications.relay.batch_terms), so a thousand shippers' "everything"
    subscriptions are not read for every batch; "any" for the port, railways, customs and the other parties,
    whose reach is wider and who are few."""
    if subscription.organisation_id is None:
        return MATCH_ANY
    if subscription.organisation.kind in SCOPED_KINDS:
        return f"org:{subscription.organisation_id}"
    return MATCH_ANY


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENDING = "sending", _("Sending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class Delivery(models.Model):
    """One event (or a test message) for one subscription, until it is delivered or given up."""

    webhook_id = models.CharField(_("webhook ID"), max_length=40, unique=True, editable=False)
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="deliveries")
    # No foreign key in the database: the events table is partitioned by month (its keys include the month).
    event = models.ForeignKey(Event, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
                              db_constraint=False)
    topic = models.CharField(_("kind"), max_length=40)
    # The body as first built: every retry sends the same bytes.
    body = models.TextField(_("body"))
    is_test = models.BooleanField(_("test message"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    lease_until = models.DateTimeField(_("being sent until"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("last queued"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last HTTP status"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=250, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event"], condition=Q(event__isnull=False),
                                    name="delivery_once_per_event"),
        ]
        indexes = [
            # The retry sweep: what is due, and what is stuck in sending.
            models.Index(fields=["next_attempt_at"], name="delivery_due_idx",
                         condition=Q(status="pending")),
            models.Index(fields=["lease_until"], name="delivery_lease_idx", condition=Q(status="sending")),
            models.Index(fields=["subscription", "-created_at"], name="delivery_log_idx"),
        ]

    def __str__(self):
        return self.webhook_id


class DeliveryAttempt(models.Model):
    """One HTTP POST of a delivery: what came back and how long it took. Written when the delivery is claimed,
    before the post, and completed once with its outcome: every post made has its row, even one whose outcome
    was never recorded (the row then says so: notifications.delivery.OUTCOME_NOT_RECORDED)."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField(_("attempt"))
    started_at = models.DateTimeField(_("started"))
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    latency_ms = models.PositiveIntegerField(_("latency (ms)"))
    error = models.CharField(_("error"), max_length=250, blank=True)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["delivery_id", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="attempt_number_once")]

    def __str__(self):
        return f"{self.delivery_id} #{self.number}"


class NotificationKind(models.TextChoices):
    BOOKING_CONFIRMED = "booking_confirmed", _("Booking confirmed")
    BOOKING_AT_RISK = "booking_at_risk", _("Booking at risk of missing its vessel")
    BOOKING_ROLLED = "booking_rolled", _("Booking rolled")
    CONTAINER_LEFT_BEHIND = "container_left_behind", _("Container left behind by its train or vessel")
    EMPTIES_READY = "empties_ready", _("Empty containers ready")
    DECLARATION_DECIDED = "declaration_decided", _("Declaration decided")
    LAST_FREE_DAY = "last_free_day", _("Last free day tomorrow")
    # Imports, per container and clock (demurrage at the station, detention with the consignee).
    FREE_TIME_ENDING = "free_time_ending", _("Import container's last free day tomorrow")
    FREE_TIME_PASSED = "free_time_passed", _("Import container past its free time: charges accrue")
    SUBSCRIPTION_DISABLED = "subscription_disabled", _("Webhook subscription disabled")


# What comes by email unless the person turns it off.
EMAIL_BY_DEFAULT = frozenset({
    NotificationKind.BOOKING_AT_RISK, NotificationKind.CONTAINER_LEFT_BEHIND, NotificationKind.DECLARATION_DECIDED,
    NotificationKind.SUBSCRIPTION_DISABLED, NotificationKind.FREE_TIME_ENDING, NotificationKind.FREE_TIME_PASSED,
})


class Notification(models.Model):
    """Something one person must act on or know. The text is built in their language when shown."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=30, choices=NotificationKind.choices)
    params = models.JSONField(_("details"), default=dict)
    link = models.CharField(_("link"), max_length=300, blank=True)
    # One notification per person per fact: the relay or a periodic check running twice adds nothing.
    dedupe_key = models.CharField(max_length=200)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("emailed"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "dedupe_key"], name="notification_once")]
        indexes = [models.Index(fields=["user", "-created_at"], name="notification_inbox_idx"),
                   models.Index(fields=["dedupe_key"], name="notification_fact_idx"),
                   models.Index(fields=["user"], name="notification_unread_idx", condition=Q(read_at__isnull=True))]

    def __str__(self):
        return f"{self.kind} for {self.user_id}"


class EmailPreference(models.Model):
    """A person's choice for one kind of notification: also by email, or in the app only."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_preferences")
    kind = models.CharField(_("kind"), max_length=30, choices=NotificationKind.choices)
    by_email = models.BooleanField(_("also by email"))

    class Meta:
        verbose_name = _("email preference")
        verbose_name_plural = _("email preferences")
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="email_preference_once")]

    def __str__(self):
        return f"{self.kind}: {self.by_email}"
