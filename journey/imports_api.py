"""Imports API: the port announces a vessel call's arriving containers and lifts holds; everyone reads the import
containers they may see with their holds, availability and free time (demurrage, detention). The steps themselves
are reported through `POST /api/v1/events/` like the exports'."""

import django_filters
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from bookings import arrivals
from bookings.models import SIZE_TYPE_CHOICES, ArrivingContainer, Booking, Container, ContainerStatus, HoldKind
from bookings.selectors import booking_scope
from intermodal.access import Actor
from intermodal.api import CodeField, CodeRelatedField, KnownFieldsOnly, ReferenceFilter
from intermodal.idempotency import IDEMPOTENCY_KEY, idempotent
from intermodal.models import Organisation, PartyKind, Scope
from journey.imports import holds_now
from stations.models import Direction, Location, VesselCall

ERRORS = {400: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT, 409: OpenApiTypes.OBJECT}


def arrivals_visible(actor: Actor):
    """The arriving containers an actor may see: a consignee its own, the port its terminals', station staff and
    railways those booked to them; another organisation's do not exist for them."""
    organisation = actor.organisation
    rows = ArrivingContainer.objects.select_related("vessel_call", "consignee", "port_of_loading", "booking")
    if organisation is None:
        return rows.none()
    if organisation.kind == PartyKind.PLATFORM_ADMIN:
        return rows
    if organisation.kind == PartyKind.ENTERPRISE:
        return rows.filter(consignee=organisation)
    if organisation.kind == PartyKind.PORT:
        return rows.filter(vessel_call__terminal__operator=organisation)
    return rows.filter(booking__in=_bookings(booking_scope(actor)))


def _bookings(scope: Q | None):
    return Booking.objects.filter(scope if scope is not None else Q()).values("pk")


class AnnouncedSerializer(KnownFieldsOnly, serializers.Serializer):
    number = CodeField(max_length=11)
    size_type = serializers.ChoiceField(choices=SIZE_TYPE_CHOICES)
    seal_number = CodeField(max_length=30, required=False, allow_blank=True, default="")
    gross_weight_kg = serializers.DecimalField(max_digits=8, decimal_places=1, min_value=1000, max_value=60000)
    bl_number = CodeField(max_length=24)
    consignee = serializers.SlugRelatedField(slug_field="code", queryset=Organisation.objects.filter(is_active=True))
    port_of_loading = CodeRelatedField(slug_field="unlocode", queryset=Location.objects.all())
    freight_hold = serializers.BooleanField(required=False, default=False)
    terminal_hold = serializers.BooleanField(required=False, default=False)

    def validate_number(self, value):
        return arrivals.check_number(value)


class AnnouncementSerializer(KnownFieldsOnly, serializers.Serializer):
    containers = AnnouncedSerializer(many=True, allow_empty=False, max_length=arrivals.MAX_ANNOUNCED)


class ArrivalSerializer(serializers.ModelSerializer):
    vessel_call = serializers.SlugRelatedField(slug_field="reference", read_only=True)
    consignee = serializers.SlugRelatedField(slug_field="code", read_only=True)
    port_of_loading = serializers.SlugRelatedField(slug_field="unlocode", read_only=True)
    booking = serializers.SlugRelatedField(slug_field="reference", read_only=True)

    class Meta:
        model = ArrivingContainer
        fields = ["vessel_call", "number", "size_type", "seal_number", "gross_weight_kg", "bl_number", "consignee",
                  "port_of_loading", "announced_at", "discharged_at", "freight_hold", "terminal_hold", "booking"]
        read_only_fields = fields


class FreeTimeSerializer(serializers.Serializer):
    start = serializers.DateField()
    free_days = serializers.IntegerField()
    last_free_day = serializers.DateField()
    end = serializers.DateField(allow_null=True)
    days_used = serializers.IntegerField()
    chargeable_days = serializers.IntegerField()
    per_teu_day = serializers.DecimalField(max_digits=8, decimal_places=2)
    charges = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()


class ImportContainerSerializer(serializers.ModelSerializer):
    booking = serializers.SlugRelatedField(slug_field="reference", read_only=True)
    station = serializers.CharField(source="booking.departure.service.station.code", read_only=True)
    holds = serializers.SerializerMethodField()
    available_for_pickup = serializers.SerializerMethodField()
    demurrage = serializers.SerializerMethodField()
    detention = serializers.SerializerMethodField()

    class Meta:
        model = Container
        fields = ["number", "booking", "station", "size_type", "status", "is_active", "seal_number",
                  "station_discharge_at", "delivered_at", "returned_at", "holds", "available_for_pickup",
                  "demurrage", "detention"]
        read_only_fields = fields

    def _holds(self, container) -> list[str]:
        if not hasattr(container, "_holds"):
            container._holds = holds_now(container) if container.delivered_at is None else []
        return container._holds

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=HoldKind.choices)))
    def get_holds(self, container) -> list[str]:
        return [str(hold) for hold in self._holds(container)]

    def get_available_for_pickup(self, container) -> bool:
        return container.status == ContainerStatus.AT_STATION and not self._holds(container)

    @staticmethod
    def _clock(clock) -> dict | None:
        return None if clock is None else FreeTimeSerializer(clock).data

    @extend_schema_field(FreeTimeSerializer(allow_null=True))
    def get_demurrage(self, container) -> dict | None:
        return self._clock(arrivals.demurrage_of(container))

    @extend_schema_field(FreeTimeSerializer(allow_null=True))
    def get_detention(self, container) -> dict | None:
        return self._clock(arrivals.detention_of(container))


def import_containers_visible(actor: Actor):
    scope = booking_scope(actor)
    rows = Container.objects.filter(booking__direction=Direction.IMPORT).select_related(
        "booking__departure__service__station", "booking__vessel_call")
    return rows if scope is None else rows.filter(booking__in=_bookings(scope))


class ArrivalFilter(django_filters.FilterSet):
    vessel_call = ReferenceFilter(field_name="vessel_call__reference")
    bl_number = ReferenceFilter(field_name="bl_number")
    booked = django_filters.BooleanFilter(field_name="booking", lookup_expr="isnull", exclude=True,
                                          label=_("Booked inland"))

    class Meta:
        model = ArrivingContainer
        fields = ["vessel_call", "bl_number", "booked"]


class ImportContainerFilter(django_filters.FilterSet):
    booking = ReferenceFilter(field_name="booking__reference")
    station = ReferenceFilter(field_name="booking__departure__service__station__code")
    status = django_filters.ChoiceFilter(choices=ContainerStatus.choices)

    class Meta:
        model = Container
        fields = ["booking", "station", "status"]


class ArrivalsView(ListAPIView):
    """Arriving containers you may see (consignee: yours, to book inland; port: your terminals')."""

    serializer_class = ArrivalSerializer
    required_scopes = {"GET": Scope.BOOKINGS_READ}

    filterset_class = ArrivalFilter

    def get_queryset(self):
        return arrivals_visible(Actor.from_request(self.request)).order_by("vessel_call__eta", "bl_number", "number")


class AnnounceView(APIView):
    """The port announces a vessel call's arriving full containers, with consignee, B/L and holds."""

    required_scopes = {"POST": Scope.EVENTS_WRITE}

    @extend_schema(request=AnnouncementSerializer, responses={201: ArrivalSerializer(many=True), **ERRORS},
                   parameters=[IDEMPOTENCY_KEY], summary="Announce a vessel call's arriving containers")
    @idempotent
    def post(self, request, reference):
        actor = Actor.from_request(request)
        call = get_object_or_404(VesselCall.objects.select_related("terminal"), reference=reference)
        serializer = AnnouncementSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        items = [arrivals.Announced(**item) for item in serializer.validated_data["containers"]]
        rows = arrivals.arrivals_announce(actor=actor, vessel_call=call, items=items)
        return Response(ArrivalSerializer(rows, many=True).data, status=status.HTTP_201_CREATED)


class ReleaseSerializer(KnownFieldsOnly, serializers.Serializer):
    kind = serializers.ChoiceField(choices=[HoldKind.FREIGHT, HoldKind.TERMINAL],
                                   help_text=_("Customs releases its hold through the declaration."))


class HoldReleaseView(APIView):
    """The port lifts a freight or terminal hold on an arriving container."""

    required_scopes = {"POST": Scope.EVENTS_WRITE}

    @extend_schema(request=ReleaseSerializer, responses={200: ArrivalSerializer, **ERRORS},
                   parameters=[IDEMPOTENCY_KEY], summary="Lift a freight or terminal hold")
    @idempotent
    def post(self, request, reference, number):
        actor = Actor.from_request(request)
        arrival = get_object_or_404(arrivals_visible(actor), vessel_call__reference=reference, number=number.upper())
        serializer = ReleaseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        container = Container.objects.filter(booking_id=arrival.booking_id, number=arrival.number,
                                             is_active=True).first() if arrival.booking_id else None
        released = container is not None and HoldKind.CUSTOMS not in holds_now(container)
        arrival = arrivals.hold_release(actor=actor, arrival=arrival, kind=serializer.validated_data["kind"],
                                        customs_released=released)
        return Response(ArrivalSerializer(arrival).data)


class ImportContainersView(ListAPIView):
    """Import containers you may see, with their holds, availability for pick-up and free time."""

    serializer_class = ImportContainerSerializer
    required_scopes = {"GET": Scope.BOOKINGS_READ}

    filterset_class = ImportContainerFilter

    def get_queryset(self):
        return import_containers_visible(Actor.from_request(self.request)).order_by("booking__reference", "number")
