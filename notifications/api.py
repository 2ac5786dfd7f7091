"""Webhook subscriptions, their delivery log, and a person's notifications, under /api/v1/.

Subscriptions are the caller organisation's own (another's is a 404); the secret is in the answer to the
create and rotate-secret calls only."""

import django_filters
from django.conf import settings
from django.core.validators import RegexValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from intermodal.access import Actor
from intermodal.api import KnownFieldsOnly, ReferenceField, StrictCharField, StrictCodeField
from intermodal.errors import NotFound
from intermodal.idempotency import IDEMPOTENCY_KEY, idempotent
from intermodal.models import PartyKind, Scope
from notifications import delivery as deliveries
from notifications import selectors, services
from notifications.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Notification,
    Subscription,
    SubscriptionFormat,
)
from notifications.people import title

ERRORS = dict.fromkeys((400, 401, 403, 404, 409), OpenApiTypes.OBJECT)


class StrictBooleanField(serializers.BooleanField):
    """true or false as JSON booleans only: DRF's BooleanField would also take 0, 1, "yes" and "off"."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class SubscriptionSerializer(KnownFieldsOnly, serializers.ModelSerializer):
    event_kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=services.EVENT_KINDS), min_length=1, max_length=len(services.EVENT_KINDS),
        help_text=_('Topics such as "equipment.gtin", "transport.*", or "*" for every event.'))
    # Where the guard can say it from the URL alone, the schema says it too: https only in production.
    url = serializers.URLField(
        max_length=500,
        validators=[RegexValidator(r"^https://", _("Webhooks are sent over https only."))]
        if settings.WEBHOOK_REQUIRE_HTTPS else [],
        help_text=_("Where the events are posted: http(s) to a public address (https only in production); an "
                    "address in a private, loopback, link-local or other internal range is refused."))
    # JSON strings and booleans only: DRF would take 12 for "12" and 0 for false.
    name = StrictCharField(max_length=100, required=False, allow_blank=True)
    # Codes and references normalised as everywhere else (guard/text.py): a full-width or spaced container
    # number is the one the events carry.
    station_code = ReferenceField(max_length=20, required=False, allow_blank=True)
    booking_reference = ReferenceField(max_length=20, required=False, allow_blank=True)
    equipment_reference = StrictCodeField(max_length=15, required=False, allow_blank=True)
    is_active = StrictBooleanField(required=False)
    format = serializers.ChoiceField(
        choices=[SubscriptionFormat.STANDARD, SubscriptionFormat.IFTSTA], required=False,
        help_text=_("standard: one event as JSON (Standard Webhooks); iftsta: one UN/EDIFACT D.95B interchange with "
                    "the event as an IFTSTA message (Content-Type application/edifact), signed the same way."))

    class Meta:
        model = Subscription
        fields = ["subscription_id", "name", "url", "format", "event_kinds", "station_code", "booking_reference",
                  "equipment_reference", "is_active", "disabled_reason", "disabled_at", "consecutive_failures",
                  "created_at", "updated_at"]
        read_only_fields = ["subscription_id", "disabled_reason", "disabled_at", "consecutive_failures",
                            "created_at", "updated_at"]


class SubscriptionCreateSerializer(SubscriptionSerializer):
    """A new subscription: Standard Webhooks events (as JSON or as IFTSTA), or DCSA Booking notifications of the
    organisation's own booking requests (POST /api/dcsa/bkg/v2/bookings) in DCSA's CloudEvents envelope, signed the
    same way."""

    format = serializers.ChoiceField(
        choices=[SubscriptionFormat.STANDARD, SubscriptionFormat.IFTSTA, SubscriptionFormat.DCSA_BOOKING],
        default=SubscriptionFormat.STANDARD,
        help_text=_("standard (the default): one event as JSON (Standard Webhooks); iftsta: one UN/EDIFACT D.95B "
                    "interchange with the event as an IFTSTA message (Content-Type application/edifact), signed "
                    "the same way; dcsa-bkg: DCSA Booking 2.0.5 notifications, posted to your "
                    "/v2/booking-notifications endpoint, whose events are fixed (every change of your booking "
                    "requests), so it takes no event kinds or filters."))
    event_kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=services.EVENT_KINDS), min_length=1, max_length=len(services.EVENT_KINDS),
        required=False, help_text=_('Topics such as "equipment.gtin", "transport.*", or "*" for every event '
                                    '(required for the standard format).'))

    class Meta(SubscriptionSerializer.Meta):
        read_only_fields = [name for name in SubscriptionSerializer.Meta.read_only_fields if name != "format"]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if attrs.get("format") == SubscriptionFormat.DCSA_BOOKING:
            given = [name for name in ("event_kinds", "station_code", "booking_reference", "equipment_reference")
                     if attrs.get(name)]
            if given:
                raise serializers.ValidationError({name: [_("DCSA booking notifications take no event kinds or "
                                                            "filters: they are every change of your booking "
                                                            "requests.")] for name in given})
            attrs["event_kinds"] = ["shipment.*"]
        elif not attrs.get("event_kinds"):
            raise serializers.ValidationError({"event_kinds": [_("This field is required.")]})
        return attrs


class SubscriptionCreatedSerializer(SubscriptionSerializer):
    secret = serializers.CharField(read_only=True, help_text=_("Shown once: keep it to verify signatures."))

    class Meta(SubscriptionSerializer.Meta):
        fields = [*SubscriptionSerializer.Meta.fields, "secret"]


class SecretSerializer(serializers.Serializer):
    secret = serializers.CharField(read_only=True)


class DeliveryAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["number", "started_at", "status_code", "latency_ms", "error"]


class DeliverySerializer(serializers.ModelSerializer):
    subscription = serializers.UUIDField(source="subscription.subscription_id", read_only=True)
    event = serializers.UUIDField(source="event.event_id", read_only=True, default=None, allow_null=True)

    class Meta:
        model = Delivery
        fields = ["webhook_id", "subscription", "event", "topic", "is_test", "status", "attempts",
                  "next_attempt_at", "last_status_code", "last_error", "delivered_at", "created_at"]


class DeliveryDetailSerializer(DeliverySerializer):
    attempt_log = DeliveryAttemptSerializer(many=True, read_only=True)
    body = serializers.CharField(read_only=True)

    class Meta(DeliverySerializer.Meta):
        fields = [*DeliverySerializer.Meta.fields, "body", "attempt_log"]


class NotificationSerializer(serializers.ModelSerializer):
    title = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "params", "link", "created_at", "read_at"]

    def get_title(self, notification) -> str:
        return title(notification)


class SubscriptionFilter(django_filters.FilterSet):
    class Meta:
        model = Subscription
        fields = ["is_active", "format"]


@extend_schema_view(
    list=extend_schema(summary="Your organisation's webhook subscriptions"),
    retrieve=extend_schema(summary="One subscription", responses={200: SubscriptionSerializer, **ERRORS}),
    destroy=extend_schema(summary="Delete a subscription", responses={204: None, **ERRORS}),
)
class SubscriptionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin,
                          viewsets.GenericViewSet):
    serializer_class = SubscriptionSerializer
    filterset_class = SubscriptionFilter
    lookup_field = "subscription_id"
    lookup_value_regex = r"[0-9a-fA-F-]{36}"
    ordering_fields = ["created_at", "name"]
    ordering = ["created_at", "id"]
    required_scopes = {"*": Scope.SUBSCRIPTIONS}

    def actor(self) -> Actor:
        return Actor.from_request(self.request)

    def get_queryset(self):
        return selectors.subscription_list(actor=self.actor()).filter(
            format__in=[SubscriptionFormat.STANDARD, SubscriptionFormat.DCSA_BOOKING, SubscriptionFormat.IFTSTA])

    def get_object(self):
        subscription = selectors.subscription_get(actor=self.actor(), subscription_id=self.kwargs["subscription_id"])
        self.check_object_permissions(self.request, subscription)
        return subscription

    @extend_schema(request=SubscriptionCreateSerializer, responses={201: SubscriptionCreatedSerializer, **ERRORS},
                   parameters=[IDEMPOTENCY_KEY],
                   summary="Subscribe a URL to event kinds (the answer holds the secret, once)")
    @idempotent(secret_fields=("secret",))
    def create(self, request):
        serializer = SubscriptionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if data["format"] == SubscriptionFormat.DCSA_BOOKING and self.actor().kind != PartyKind.ENTERPRISE:
            raise ValidationError({"format": [_("DCSA booking notifications are for shippers and forwarders, who "
                                                "make booking requests.")]})
        data.pop("is_active", None)
        created = services.subscription_create(actor=self.actor(), **data)
        body = SubscriptionSerializer(created.subscription).data
        return Response({**body, "secret": created.secret}, status=status.HTTP_201_CREATED)

    @extend_schema(request=SubscriptionSerializer, responses={200: SubscriptionSerializer, **ERRORS},
                   summary="Change a subscription (turning it on again clears its failures)")
    def partial_update(self, request, subscription_id=None):
        subscription = self.get_object()
        serializer = SubscriptionSerializer(subscription, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        subscription = services.subscription_update(actor=self.actor(), subscription=subscription,
                                                    **serializer.validated_data)
        return Response(SubscriptionSerializer(subscription).data)

    def perform_destroy(self, instance):
        services.subscription_delete(actor=self.actor(), subscription=instance)

    @extend_schema(request=None, responses={200: SecretSerializer, **ERRORS}, parameters=[IDEMPOTENCY_KEY],
                   summary="Replace the secret (the new one is in the answer, once)")
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    @idempotent(secret_fields=("secret",))
    def rotate_secret(self, request, subscription_id=None):
        secret = services.subscription_rotate_secret(actor=self.actor(), subscription=self.get_object())
        return Response({"secret": secret})

    @extend_schema(request=None, responses={202: DeliverySerializer, **ERRORS}, parameters=[IDEMPOTENCY_KEY],
                   summary="Send a signed test message now")
    @action(detail=True, methods=["post"])
    @idempotent
    def test(self, request, subscription_id=None):
        delivery = services.subscription_test(actor=self.actor(), subscription=self.get_object())
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class DeliveryFilter(django_filters.FilterSet):
    subscription = django_filters.UUIDFilter(field_name="subscription__subscription_id")
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices)
    topic = django_filters.CharFilter()

    class Meta:
        model = Delivery
        fields = ["subscription", "status", "topic", "is_test"]


@extend_schema_view(
    list=extend_schema(summary="The delivery log of your organisation's subscriptions"),
    retrieve=extend_schema(summary="One delivery with every attempt", responses={200: DeliveryDetailSerializer,
                                                                                 **ERRORS}),
)
class DeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = DeliverySerializer
    filterset_class = DeliveryFilter
    lookup_field = "webhook_id"
    lookup_value_regex = r"msg_[0-9a-f]{32}"
    ordering_fields = ["created_at", "status"]
    ordering = ["-created_at", "-id"]
    required_scopes = {"*": Scope.SUBSCRIPTIONS}

    def actor(self) -> Actor:
        return Actor.from_request(self.request)

    def get_queryset(self):
        return selectors.delivery_list(actor=self.actor()).select_related("event")

    def get_object(self):
        return selectors.delivery_get(actor=self.actor(), webhook_id=self.kwargs["webhook_id"])

    def retrieve(self, request, webhook_id=None):
        return Response(DeliveryDetailSerializer(self.get_object()).data)

    @extend_schema(request=None, responses={202: DeliverySerializer, **ERRORS},
                   parameters=[IDEMPOTENCY_KEY], summary="Send the delivery again now (same body and webhook-id)")
    @action(detail=True, methods=["post"])
    @idempotent
    def resend(self, request, webhook_id=None):
        delivery = deliveries.delivery_resend(self.get_object())
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class NotificationFilter(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(field_name="read_at", lookup_expr="isnull", label=_("Unread only"))

    class Meta:
        model = Notification
        fields = ["kind", "unread"]


@extend_schema_view(list=extend_schema(summary="Your notifications, newest first"))
class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """A person's own notifications (signed in); an API key has none."""

    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    # Ids are numbers: anything else is no such notification (a 404), not a server error (found by fuzzing).
    lookup_value_regex = r"[0-9]+"
    ordering_fields = ["created_at"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return selectors.notification_list(actor=Actor.from_request(self.request))

    @extend_schema(request=None, responses={200: NotificationSerializer, **ERRORS}, summary="Mark one as read")
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = self.get_queryset().filter(pk=pk).first()
        if notification is None:
            raise NotFound()
        if notification.read_at is None:
            notification.read_at = timezone.now()
            notification.save(update_fields=["read_at"])
        return Response(NotificationSerializer(notification).data)

    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT}, summary="Mark all as read")
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        with transaction.atomic():
            count = self.get_queryset().filter(read_at__isnull=True).update(read_at=timezone.now())
        return Response({"marked_read": count})
