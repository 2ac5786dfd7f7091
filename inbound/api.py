"""Imports API (inbound): the port announces a vessel call's arriving containers; consignees read theirs and book
them inland on an import departure, and move such a booking before its containers are on the train. Holds, free time
and the steps are journey's (journey/imports_api.py, POST /api/v1/events/)."""

import django_filters
from django.core.validators import RegexValidator
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from bookings import selectors as booking_selectors
from bookings.api import BookingSerializer
from bookings.models import SIZE_TYPE_CHOICES, Booking
from bookings.selectors import booking_scope
from inbound import services
from inbound.models import ArrivingContainer
from intermodal.access import Actor
from intermodal.api import CodeField, CodeRelatedField, KnownFieldsOnly, ReferenceFilter
from intermodal.idempotency import IDEMPOTENCY_KEY, idempotent
from intermodal.models import Organisation, PartyKind, Scope
from stations.models import IMDG_CLASSES, Departure, Location, VesselCall

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
        return services.check_number(value)


class AnnouncementSerializer(KnownFieldsOnly, serializers.Serializer):
    containers = AnnouncedSerializer(many=True, allow_empty=False, max_length=services.MAX_ANNOUNCED)


class ArrivalSerializer(serializers.ModelSerializer):
    vessel_call = serializers.SlugRelatedField(slug_field="reference", read_only=True)
    consignee = serializers.SlugRelatedField(slug_field="code", read_only=True)
    port_of_loading = serializers.SlugRelatedField(slug_field="unlocode", read_only=True)
    booking = serializers.SerializerMethodField()

    class Meta:
        model = ArrivingContainer
        fields = ["vessel_call", "number", "size_type", "seal_number", "gross_weight_kg", "bl_number", "consignee",
                  "port_of_loading", "announced_at", "discharged_at", "freight_hold", "terminal_hold", "booking"]
        read_only_fields = fields

    def get_booking(self, arrival) -> str | None:
        """The import booking that takes it inland; none while not booked (or its booking was cancelled)."""
        return arrival.booking.reference if services.is_booked(arrival) else None


class ArrivalFilter(django_filters.FilterSet):
    vessel_call = ReferenceFilter(field_name="vessel_call__reference")
    bl_number = ReferenceFilter(field_name="bl_number")
    booked = django_filters.BooleanFilter(method="filter_booked", label=_("Booked inland"))

    class Meta:
        model = ArrivingContainer
        fields = ["vessel_call", "bl_number", "booked"]

    def filter_booked(self, queryset, name, value):
        return queryset.filter(services.BOOKED) if value else queryset.exclude(services.BOOKED)


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
        calls = VesselCall.objects.select_related("terminal")
        if actor.kind == PartyKind.PORT:  # another port company's calls are not its to announce: not found
            calls = calls.filter(terminal__operator=actor.organisation)
        call = get_object_or_404(calls, reference=reference)
        serializer = AnnouncementSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        items = [services.Announced(**item) for item in serializer.validated_data["containers"]]
        rows = services.arrivals_announce(actor=actor, vessel_call=call, items=items)
        return Response(ArrivalSerializer(rows, many=True).data, status=status.HTTP_201_CREATED)


class ImportBookingCreateSerializer(KnownFieldsOnly, serializers.Serializer):
    departure = serializers.SlugRelatedField(
        slug_field="reference", queryset=Departure.objects.select_related("service__station", "service__terminal"),
        help_text=_("An import departure from the vessel's terminal to the inland station."),
    )
    vessel_call = serializers.SlugRelatedField(
        slug_field="reference", queryset=VesselCall.objects.select_related("terminal")
    )
    containers = serializers.ListField(
        child=CodeField(max_length=11), allow_empty=False, max_length=services.MAX_IMPORT_CONTAINERS,
        help_text=_("Numbers of containers announced on the vessel call for your organisation."),
    )
    commodity = serializers.CharField(max_length=200)
    un_number = CodeField(max_length=4, required=False, allow_blank=True, default="",
                          validators=[RegexValidator(r"^[0-9]{4}$", _("A UN number is four digits, e.g. 1263."))])
    imdg_class = serializers.ChoiceField(choices=[(c, c) for c in IMDG_CLASSES], required=False, allow_blank=True,
                                         default="")


class ImportBookingMoveSerializer(KnownFieldsOnly, serializers.Serializer):
    departure = serializers.SlugRelatedField(
        slug_field="reference", queryset=Departure.objects.select_related("service__station", "service__terminal"))
    reason = serializers.CharField(max_length=250, required=False, default="")


def _booking_answer(request, booking: Booking, code: int = status.HTTP_200_OK) -> Response:
    actor = Actor.from_request(request)
    booking = booking_selectors.booking_get(actor=actor, reference=booking.reference)
    context = {"request": request, "sees_prices": booking_selectors.sees_prices(actor)}
    return Response(BookingSerializer(booking, context=context).data, status=code)


class ImportBookingCreateView(APIView):
    """The consignee books arriving containers inland: confirmed at once, or refused with nothing kept."""

    required_scopes = {"POST": Scope.BOOKINGS_WRITE}

    @extend_schema(request=ImportBookingCreateSerializer, responses={201: BookingSerializer, **ERRORS},
                   parameters=[IDEMPOTENCY_KEY], summary="Book arriving containers inland (an import booking)")
    @idempotent
    def post(self, request):
        serializer = ImportBookingCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        booking = services.import_booking_create(actor=Actor.from_request(request), numbers=data.pop("containers"),
                                                 **data)
        return _booking_answer(request, booking, status.HTTP_201_CREATED)


class ImportBookingMoveView(APIView):
    """Move an import booking to another import departure before its containers are on the train."""

    required_scopes = {"POST": Scope.BOOKINGS_WRITE}

    @extend_schema(request=ImportBookingMoveSerializer, responses={200: BookingSerializer, **ERRORS},
                   parameters=[IDEMPOTENCY_KEY], summary="Move an import booking to another import departure")
    @idempotent
    def post(self, request, reference):
        actor = Actor.from_request(request)
        booking = booking_selectors.booking_get(actor=actor, reference=reference)
        serializer = ImportBookingMoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        booking = services.import_booking_move(actor=actor, booking=booking, **serializer.validated_data)
        return _booking_answer(request, booking)
