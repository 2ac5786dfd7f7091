"""Imports API (journey's part: what needs customs' decision): the port lifts freight and terminal holds;
everyone reads the import containers they may see with their holds, availability for pick-up and free time
(demurrage, detention). The steps are reported through `POST /api/v1/events/` like the exports'; announcements and
import bookings are inbound's (inbound/api.py)."""

import django_filters
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from bookings.models import Booking, Container, ContainerStatus
from bookings.selectors import booking_scope
from inbound.api import ERRORS, ArrivalSerializer, arrivals_visible
from inbound.models import HoldKind
from intermodal.access import Actor
from intermodal.api import KnownFieldsOnly, ReferenceFilter
from intermodal.idempotency import IDEMPOTENCY_KEY, idempotent
from intermodal.models import Scope
from journey.imports import hold_lift, with_holds_and_free_time
from stations.models import Direction


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

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=HoldKind.choices)))
    def get_holds(self, container) -> list[str]:
        return [str(hold) for hold in container.holds]

    def get_available_for_pickup(self, container) -> bool:
        return container.available

    @staticmethod
    def _clock(clock) -> dict | None:
        return None if clock is None else FreeTimeSerializer(clock).data

    @extend_schema_field(FreeTimeSerializer(allow_null=True))
    def get_demurrage(self, container) -> dict | None:
        return self._clock(container.demurrage)

    @extend_schema_field(FreeTimeSerializer(allow_null=True))
    def get_detention(self, container) -> dict | None:
        return self._clock(container.detention)


def import_containers_visible(actor: Actor):
    scope = booking_scope(actor)
    rows = Container.objects.filter(booking__direction=Direction.IMPORT).select_related(
        "booking__departure__service__station", "booking__vessel_call")
    return rows if scope is None else rows.filter(booking__in=Booking.objects.filter(scope).values("pk"))


class ImportContainerFilter(django_filters.FilterSet):
    booking = ReferenceFilter(field_name="booking__reference")
    station = ReferenceFilter(field_name="booking__departure__service__station__code")
    status = django_filters.ChoiceFilter(choices=ContainerStatus.choices)

    class Meta:
        model = Container
        fields = ["booking", "station", "status"]


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
        arrival = hold_lift(actor=actor, arrival=arrival, kind=serializer.validated_data["kind"])
        return Response(ArrivalSerializer(arrival).data)


class ImportContainersView(ListAPIView):
    """Import containers you may see, with their holds, availability for pick-up and free time."""

    serializer_class = ImportContainerSerializer
    required_scopes = {"GET": Scope.BOOKINGS_READ}

    filterset_class = ImportContainerFilter

    def get_queryset(self):
        return import_containers_visible(Actor.from_request(self.request)).order_by("booking__reference", "number")

    def get_serializer(self, *args, **kwargs):
        """A page's holds, availability and free time read once for the page (journey.imports)."""
        if args and kwargs.get("many"):
            args = (with_holds_and_free_time(list(args[0])), *args[1:])
        return super().get_serializer(*args, **kwargs)
