"""Bookings API: connection search, quotes, bookings and their containers. Thin: services do the work."""

import django_filters
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from bookings import selectors, services
from bookings.models import SIZE_TYPE_CHOICES, Booking, BookingStatus, Container, EmptyRequest, VgmMethod
from databases.replicas import ReplicaReadsMixin
from intermodal.access import Actor
from intermodal.api import CodeField, CodeRelatedField, InputPolicy, KnownFieldsOnly, ReferenceFilter
from intermodal.errors import NotFound
from intermodal.idempotency import IDEMPOTENCY_KEY, idempotent
from intermodal.models import Scope
from stations.models import IMDG_CLASSES, Departure, Direction, Location, Station, VesselCall

ERROR_RESPONSES = {
    400: OpenApiTypes.OBJECT,
    401: OpenApiTypes.OBJECT,
    403: OpenApiTypes.OBJECT,
    404: OpenApiTypes.OBJECT,
    409: OpenApiTypes.OBJECT,
    422: OpenApiTypes.OBJECT,
}


# --- Serializers -----------------------------------------------------------------------------------------


class ContainerRequestSerializer(KnownFieldsOnly, serializers.Serializer):
    size_type = serializers.ChoiceField(choices=SIZE_TYPE_CHOICES)
    quantity = serializers.IntegerField(min_value=1, max_value=200)


class QuoteLineSerializer(serializers.Serializer):
    size_type = serializers.CharField()
    quantity = serializers.IntegerField()
    teu = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    unit_road_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    total = serializers.DecimalField(max_digits=12, decimal_places=2)


class QuoteSerializer(serializers.Serializer):
    currency = serializers.CharField()
    teu = serializers.IntegerField()
    lines = QuoteLineSerializer(many=True)
    transport = serializers.DecimalField(max_digits=12, decimal_places=2)
    port_handling = serializers.DecimalField(max_digits=12, decimal_places=2)
    documentation = serializers.DecimalField(max_digits=12, decimal_places=2)
    total = serializers.DecimalField(max_digits=12, decimal_places=2)
    road_haulage = serializers.DecimalField(max_digits=12, decimal_places=2)
    saving = serializers.DecimalField(max_digits=12, decimal_places=2)


def _lines(containers: list[dict]) -> dict[str, int]:
    lines: dict[str, int] = {}
    for item in containers:
        lines[item["size_type"]] = lines.get(item["size_type"], 0) + item["quantity"]
    return lines


class BookingLineSerializer(serializers.Serializer):
    size_type = serializers.CharField()
    quantity = serializers.IntegerField()
    teu = serializers.IntegerField()


class BookingQuoteSerializer(serializers.Serializer):
    currency = serializers.CharField()
    transport = serializers.DecimalField(source="quote_transport", max_digits=12, decimal_places=2)
    port_handling = serializers.DecimalField(source="quote_port_handling", max_digits=12, decimal_places=2)
    documentation = serializers.DecimalField(source="quote_documentation", max_digits=12, decimal_places=2)
    total = serializers.DecimalField(source="quote_total", max_digits=12, decimal_places=2)
    road_haulage = serializers.DecimalField(source="quote_road_haulage", max_digits=12, decimal_places=2)
    saving = serializers.DecimalField(source="quote_saving", max_digits=12, decimal_places=2)
    quoted_at = serializers.DateTimeField()


class BookingSerializer(serializers.ModelSerializer):
    shipper = serializers.SlugRelatedField(slug_field="code", read_only=True)
    station = serializers.CharField(source="departure.service.station.code", read_only=True)
    departure = serializers.SlugRelatedField(slug_field="reference", read_only=True)
    vessel_call = serializers.SlugRelatedField(slug_field="reference", read_only=True)
    original_vessel_call = serializers.SlugRelatedField(slug_field="reference", read_only=True)
    destination = serializers.SlugRelatedField(slug_field="unlocode", read_only=True)
    containers = BookingLineSerializer(source="lines", many=True, read_only=True)
    last_free_day = serializers.DateField(read_only=True, allow_null=True)
    eta_at_terminal = serializers.DateTimeField(read_only=True, allow_null=True)
    at_risk = serializers.BooleanField(source="is_at_risk", read_only=True)
    quote = serializers.SerializerMethodField()

    class Meta:
        model = Booking
        fields = [
            "reference",
            "direction",
            "status",
            "shipper",
            "station",
            "departure",
            "vessel_call",
            "original_vessel_call",
            "destination",
            "containers",
            "teu",
            "commodity",
            "cargo_weight_kg",
            "un_number",
            "imdg_class",
            "reefer_setpoint_c",
            "reefer_ventilation_cbm_h",
            "free_days",
            "free_time_start",
            "last_free_day",
            "roll_count",
            "eta_at_terminal",
            "at_risk",
            "quote",
            "created_at",
            "confirmed_at",
            "cancelled_at",
        ]

    @extend_schema_field(BookingQuoteSerializer(allow_null=True))
    def get_quote(self, booking) -> dict | None:
        # Only the shipper (and the platform's admins) see what the booking costs.
        if not self.context.get("sees_prices"):
            return None
        return BookingQuoteSerializer(booking).data


class BookingCreateSerializer(KnownFieldsOnly, serializers.Serializer):
    direction = serializers.ChoiceField(
        choices=[Direction.EXPORT], required=False, default=Direction.EXPORT,
        help_text=_("Export: book here. Imports (arriving containers booked inland) are booked at "
                    "/api/v1/bookings/import/."))
    departure = serializers.SlugRelatedField(
        slug_field="reference", queryset=Departure.objects.select_related("service__station", "service__terminal")
    )
    vessel_call = serializers.SlugRelatedField(
        slug_field="reference", queryset=VesselCall.objects.select_related("terminal")
    )
    destination = CodeRelatedField(slug_field="unlocode", queryset=Location.objects.all())
    containers = ContainerRequestSerializer(many=True, allow_empty=False, max_length=len(SIZE_TYPE_CHOICES))
    commodity = serializers.CharField(max_length=200)
    cargo_weight_kg = serializers.DecimalField(max_digits=10, decimal_places=1, min_value=1, max_value=9999999)
    un_number = CodeField(
        max_length=4,
        required=False,
        allow_blank=True,
        default="",
        validators=[RegexValidator(r"^[0-9]{4}$", _("A UN number is four digits, e.g. 1263."))],
    )
    imdg_class = serializers.ChoiceField(
        choices=[(c, c) for c in IMDG_CLASSES], required=False, allow_blank=True, default=""
    )
    reefer_setpoint_c = serializers.DecimalField(
        max_digits=4, decimal_places=1, min_value=-35, max_value=30, required=False, allow_null=True, default=None
    )
    reefer_ventilation_cbm_h = serializers.IntegerField(
        min_value=0, max_value=300, required=False, allow_null=True, default=None
    )
    free_days = serializers.IntegerField(min_value=0, max_value=60, required=False, default=7)
    confirm = serializers.BooleanField(
        required=False, default=False, help_text=_("Reserve the slots at once; refused bookings are not kept.")
    )


class BookingAmendSerializer(KnownFieldsOnly, serializers.Serializer):
    containers = ContainerRequestSerializer(
        many=True, allow_empty=False, max_length=len(SIZE_TYPE_CHOICES), required=False
    )
    departure = serializers.SlugRelatedField(
        slug_field="reference", required=False, queryset=Departure.objects.select_related("service__terminal")
    )
    vessel_call = serializers.SlugRelatedField(
        slug_field="reference", required=False, queryset=VesselCall.objects.select_related("terminal")
    )
    destination = CodeRelatedField(slug_field="unlocode", required=False, queryset=Location.objects.all())
    reason = serializers.CharField(max_length=250, required=False, default="")

    def validate(self, attrs):
        if not ({"containers", "departure", "vessel_call", "destination"} & set(attrs)):
            raise serializers.ValidationError(
                _("Say what to change: containers, departure, vessel_call or destination.")
            )
        return attrs


class BookingRollSerializer(KnownFieldsOnly, serializers.Serializer):
    vessel_call = serializers.SlugRelatedField(
        slug_field="reference", queryset=VesselCall.objects.select_related("terminal")
    )
    departure = serializers.SlugRelatedField(
        slug_field="reference", required=False, queryset=Departure.objects.select_related("service__terminal")
    )
    destination = CodeRelatedField(slug_field="unlocode", required=False, queryset=Location.objects.all())
    reason = serializers.CharField(max_length=250)


class BookingCancelSerializer(KnownFieldsOnly, serializers.Serializer):
    reason = serializers.CharField(max_length=250, required=False, default="")


class ContainerSerializer(serializers.ModelSerializer):
    booking = serializers.SlugRelatedField(slug_field="reference", read_only=True)

    class Meta:
        model = Container
        fields = [
            "number",
            "booking",
            "size_type",
            "status",
            "is_active",
            "seal_number",
            "vgm_kg",
            "vgm_method",
            "vgm_signatory",
            "has_vgm",
            "assigned_at",
        ]
        read_only_fields = fields


class EmptyRequestSerializer(KnownFieldsOnly, serializers.ModelSerializer):
    wait_seconds = serializers.SerializerMethodField()

    class Meta:
        model = EmptyRequest
        fields = [
            "id",
            "size_type",
            "quantity",
            "handed_out",
            "status",
            "requested_at",
            "ready_at",
            "picked_up_at",
            "wait_seconds",
        ]
        read_only_fields = ["id", "handed_out", "status", "requested_at", "ready_at", "picked_up_at"]

    def get_wait_seconds(self, request) -> int | None:
        return int(request.wait.total_seconds()) if request.wait else None


class ContainerAssignSerializer(KnownFieldsOnly, serializers.Serializer):
    number = CodeField(max_length=11)
    size_type = serializers.ChoiceField(choices=SIZE_TYPE_CHOICES)
    seal_number = CodeField(max_length=30, required=False, allow_blank=True, default="")


class ContainerUpdateSerializer(KnownFieldsOnly, serializers.Serializer):
    seal_number = CodeField(max_length=30, required=False, allow_blank=True)
    vgm_kg = serializers.DecimalField(max_digits=8, decimal_places=1, min_value=1000, max_value=60000, required=False)
    vgm_method = serializers.ChoiceField(choices=VgmMethod.choices, required=False)
    vgm_signatory = serializers.CharField(max_length=100, required=False)


# --- Views -----------------------------------------------------------------------------------------------


class BookingFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=BookingStatus.choices)
    station = ReferenceFilter(field_name="departure__service__station__code")
    vessel_call = ReferenceFilter(field_name="vessel_call__reference")
    departure = ReferenceFilter(field_name="departure__reference")
    reference = ReferenceFilter(lookup_expr="icontains")
    direction = django_filters.ChoiceFilter(choices=Direction.choices)
    departs_from = django_filters.DateFilter(
        field_name="departure__service_date", lookup_expr="gte", label=_("Departure date from")
    )
    departs_to = django_filters.DateFilter(
        field_name="departure__service_date", lookup_expr="lte", label=_("Departure date to")
    )

    class Meta:
        model = Booking
        fields = ["status", "direction", "station", "vessel_call", "departure", "reference"]


@extend_schema_view(
    list=extend_schema(summary="Bookings the caller may see"),
    retrieve=extend_schema(
        summary="One booking by its reference", responses={200: BookingSerializer, 404: OpenApiTypes.OBJECT}
    ),
)
class BookingViewSet(ReplicaReadsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Bookings follow their lifecycle through actions; there is no PUT or DELETE to bypass it."""

    serializer_class = BookingSerializer
    filterset_class = BookingFilter
    lookup_field = "reference"
    lookup_value_regex = r"[A-Za-z0-9-]+"
    ordering_fields = ["created_at", "reference", "departure__planned_departure", "teu"]
    ordering = ["-created_at", "-id"]
    required_scopes = {"GET": Scope.BOOKINGS_READ, "POST": Scope.BOOKINGS_WRITE, "PATCH": Scope.BOOKINGS_WRITE}

    def actor(self) -> Actor:
        return Actor.from_request(self.request)

    def get_queryset(self):
        return selectors.booking_list(actor=self.actor())

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "sees_prices": selectors.sees_prices(self.actor())}

    def get_object(self):
        return selectors.booking_get(actor=self.actor(), reference=self.kwargs["reference"])

    def _answer(self, booking: Booking, status_code: int = status.HTTP_200_OK) -> Response:
        booking = selectors.booking_get(actor=self.actor(), reference=booking.reference)
        return Response(self.get_serializer(booking).data, status=status_code)

    @extend_schema(
        request=BookingCreateSerializer,
        responses={201: BookingSerializer, **ERROR_RESPONSES},
        summary="Create an export booking (a draft, or confirmed at once with confirm=true)",
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def create(self, request):
        serializer = BookingCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("direction")
        lines = _lines(data.pop("containers"))
        booking = services.booking_create(actor=self.actor(), lines=lines, **data)
        return self._answer(booking, status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={200: BookingSerializer, **ERROR_RESPONSES},
        summary="Confirm: reserve the slots on the departure",
        parameters=[IDEMPOTENCY_KEY],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def confirm(self, request, reference=None):
        booking = services.booking_confirm(actor=self.actor(), booking=self.get_object())
        return self._answer(booking)

    @extend_schema(
        request=BookingAmendSerializer,
        responses={200: BookingSerializer, **ERROR_RESPONSES},
        summary="Amend containers, departure or vessel; slots move atomically",
        parameters=[IDEMPOTENCY_KEY],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def amend(self, request, reference=None):
        booking = self.get_object()
        serializer = BookingAmendSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        lines = _lines(data.pop("containers")) if "containers" in data else None
        booking = services.booking_amend(actor=self.actor(), booking=booking, lines=lines, **data)
        return self._answer(booking)

    @extend_schema(
        request=BookingCancelSerializer,
        responses={200: BookingSerializer, **ERROR_RESPONSES},
        summary="Cancel before loading; frees the slots",
        parameters=[IDEMPOTENCY_KEY],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def cancel(self, request, reference=None):
        booking = self.get_object()
        serializer = BookingCancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        booking = services.booking_cancel(actor=self.actor(), booking=booking, **serializer.validated_data)
        return self._answer(booking)

    @extend_schema(
        request=BookingRollSerializer,
        responses={200: BookingSerializer, **ERROR_RESPONSES},
        summary="Roll onto another vessel (and departure), keeping reference and history",
        parameters=[IDEMPOTENCY_KEY],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def roll(self, request, reference=None):
        booking = self.get_object()
        serializer = BookingRollSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        booking = services.booking_roll(actor=self.actor(), booking=booking, **serializer.validated_data)
        return self._answer(booking)

    @extend_schema(
        methods=["GET"],
        responses={200: ContainerSerializer(many=True), 404: OpenApiTypes.OBJECT},
        summary="The booking's containers",
    )
    @extend_schema(
        methods=["POST"],
        request=ContainerAssignSerializer,
        responses={201: ContainerSerializer, **ERROR_RESPONSES},
        summary="Assign a container number",
        parameters=[IDEMPOTENCY_KEY],
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filterset_class=None)
    def containers(self, request, reference=None):
        booking = self.get_object()
        if request.method == "GET":
            return Response(ContainerSerializer(booking.containers.all(), many=True).data)
        return self._assign(request, booking)

    @idempotent
    def _assign(self, request, booking):
        serializer = ContainerAssignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        container = services.container_assign(actor=self.actor(), booking=booking, **serializer.validated_data)
        return Response(ContainerSerializer(container).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"],
        responses={200: EmptyRequestSerializer(many=True), 404: OpenApiTypes.OBJECT},
        summary="The booking's empty container requests",
    )
    @extend_schema(
        methods=["POST"],
        request=EmptyRequestSerializer,
        responses={201: EmptyRequestSerializer, **ERROR_RESPONSES},
        summary="Ask the station for empty containers",
        parameters=[IDEMPOTENCY_KEY],
    )
    @action(
        detail=True, methods=["get", "post"], url_path="empty-requests", pagination_class=None, filterset_class=None
    )
    def empty_requests(self, request, reference=None):
        booking = self.get_object()
        if request.method == "GET":
            return Response(EmptyRequestSerializer(booking.empty_requests.order_by("requested_at"), many=True).data)
        return self._request_empties(request, booking)

    @idempotent
    def _request_empties(self, request, booking):
        serializer = EmptyRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        created = services.empty_request_create(actor=self.actor(), booking=booking, **serializer.validated_data)
        return Response(EmptyRequestSerializer(created).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ContainerUpdateSerializer,
        responses={200: ContainerSerializer, **ERROR_RESPONSES},
        summary="Record a container's seal and VGM",
    )
    @action(detail=True, methods=["patch"], url_path=r"containers/(?P<number>[A-Za-z0-9]+)", filterset_class=None)
    def container_update(self, request, reference=None, number=None):
        booking = self.get_object()
        container = booking.containers.filter(number=number.upper()).first()
        if container is None:
            raise NotFound()
        serializer = ContainerUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        container = services.container_update(actor=self.actor(), container=container, **serializer.validated_data)
        return Response(ContainerSerializer(container).data)


class ConnectionSerializer(serializers.Serializer):
    departure = serializers.CharField(source="departure.reference")
    service = serializers.CharField(source="departure.service.code")
    mode = serializers.CharField(source="departure.service.mode")
    station = serializers.CharField(source="departure.service.station.code")
    terminal = serializers.CharField(source="departure.service.terminal.code")
    closing_time = serializers.DateTimeField(source="departure.closing_time")
    planned_departure = serializers.DateTimeField(source="departure.planned_departure")
    expected_arrival = serializers.DateTimeField(source="departure.expected_arrival")
    transit_hours = serializers.IntegerField()
    teu_free = serializers.IntegerField()
    vessel_call = serializers.CharField(source="vessel_call.reference")
    vessel_name = serializers.CharField(source="vessel_call.vessel_name")
    voyage = serializers.CharField(source="vessel_call.voyage")
    carrier = serializers.CharField(source="vessel_call.carrier")
    cy_cutoff = serializers.DateTimeField(source="vessel_call.cy_cutoff")
    etd = serializers.DateTimeField(source="vessel_call.etd")
    quote = QuoteSerializer()


CONTAINERS_QUERY = {"type": "string", "maxLength": 200}


class ConnectionQuery(InputPolicy, serializers.Serializer):
    station = serializers.SlugRelatedField(slug_field="code", queryset=Station.objects.all())
    containers = serializers.CharField(max_length=200, help_text=_("Size-types and counts, e.g. 42G1:2,22G1:1"))
    vessel_call = serializers.SlugRelatedField(
        slug_field="reference", required=False, queryset=VesselCall.objects.select_related("terminal")
    )
    destination = CodeRelatedField(slug_field="unlocode", required=False, queryset=Location.objects.all())
    latest_sailing = serializers.DateTimeField(required=False)

    def validate(self, attrs):
        if "vessel_call" not in attrs and "destination" not in attrs:
            raise serializers.ValidationError({"vessel_call": [_("Give a vessel call, or a destination port.")]})
        attrs["lines"] = services.parse_container_request(attrs.pop("containers"))
        return attrs


class ConnectionView(APIView):
    """Departures from a station that make a vessel (or reach a destination port by a date), with quotes."""

    public_read = True
    required_scopes = {"*": Scope.SCHEDULES_READ}

    @extend_schema(
        parameters=[
            OpenApiParameter("station", str, required=True),
            OpenApiParameter("containers", CONTAINERS_QUERY, required=True, description="e.g. 42G1:2,22G1:1"),
            OpenApiParameter("vessel_call", str),
            OpenApiParameter("destination", str),
            OpenApiParameter("latest_sailing", OpenApiTypes.DATETIME),
        ],
        responses={200: ConnectionSerializer(many=True), 400: OpenApiTypes.OBJECT},
        summary="Find connections",
    )
    def get(self, request):
        query = ConnectionQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        connections = selectors.connections_search(**query.validated_data)
        return Response(ConnectionSerializer(connections, many=True).data)


class QuoteQuery(InputPolicy, serializers.Serializer):
    departure = serializers.SlugRelatedField(
        slug_field="reference", queryset=Departure.objects.select_related("service")
    )
    containers = serializers.CharField(max_length=200, help_text=_("Size-types and counts, e.g. 42G1:2,22G1:1"))


class QuoteView(APIView):
    """The price of containers on a departure's service, against road haulage. Kept with a booking once made."""

    public_read = True
    required_scopes = {"*": Scope.SCHEDULES_READ}

    @extend_schema(
        parameters=[
            OpenApiParameter("departure", str, required=True),
            OpenApiParameter("containers", CONTAINERS_QUERY, required=True, description="e.g. 42G1:2"),
        ],
        responses={200: QuoteSerializer, 400: OpenApiTypes.OBJECT},
        summary="Quote",
    )
    def get(self, request):
        query = QuoteQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        lines = services.parse_container_request(query.validated_data["containers"])
        quote = services.quote_build(service=query.validated_data["departure"].service, lines=lines)
        return Response(QuoteSerializer(quote).data)
