"""Declarations API: shippers create, change drafts, submit and amend; officers decide, schedule and record
the joint inspection. Scoped by the selectors: another organisation's declaration is a 404."""

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from bookings.selectors import booking_list
from customs import selectors, services
from customs.models import (
    GOODS_LINE_CODES,
    GOODS_LINE_FIELDS,
    MAX_DECLARATION_CONTAINERS,
    MAX_GOODS_LINES,
    Decision,
    DecisionKind,
    Declaration,
    DeclarationStatus,
    GoodsLine,
    Inspection,
    InspectionResult,
    TradeMode,
    TransportMode,
)
from customs.selectors import sees_officers_notes
from databases.replicas import ReplicaReadsMixin
from intermodal.access import Actor
from intermodal.api import MULTI_LINE, CodeField, IsoDateTimeFilter, KnownFieldsOnly, ReferenceFilter
from intermodal.errors import InvalidInput
from intermodal.idempotency import IDEMPOTENCY_KEY, idempotent
from intermodal.models import PartyKind, Scope, validate_uscc

ERRORS = dict.fromkeys((400, 401, 403, 404, 409, 422), OpenApiTypes.OBJECT)
KEY = [IDEMPOTENCY_KEY]


class GoodsLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = GoodsLine
        fields = ["line_no", *GOODS_LINE_FIELDS]
        read_only_fields = ["line_no"]
        extra_kwargs = {"un_number": {"required": False}}


class GoodsLineWriteSerializer(KnownFieldsOnly, serializers.ModelSerializer):
    """A goods line as the declarant sends it: the model's fields, types and limits (one definition,
    GOODS_LINE_FIELDS), codes normalised; nothing else is taken."""

    class Meta:
        model = GoodsLine
        fields = list(GOODS_LINE_FIELDS)
        extra_kwargs = {"un_number": {"required": False}}

    def build_standard_field(self, field_name, model_field):
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        return (CodeField if field_name in GOODS_LINE_CODES else field_class), kwargs


def _lines_field(**kwargs):
    return GoodsLineWriteSerializer(many=True, allow_empty=False, max_length=MAX_GOODS_LINES, **kwargs)


def _containers_field(**kwargs):
    return serializers.ListField(
        child=CodeField(max_length=11), max_length=MAX_DECLARATION_CONTAINERS,
        help_text=_("Optional: container numbers to check against the booking. The declaration covers every "
                    "container of the booking, including those numbered after it is filed."),
        **kwargs,
    )


class DecisionSerializer(serializers.ModelSerializer):
    officer = serializers.CharField(source="officer.get_full_name", default=None, allow_null=True)

    class Meta:
        model = Decision
        fields = ["agency", "kind", "reason", "officer", "at"]


class InspectionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Inspection
        fields = ["requested_by", "appointment_at", "place", "result", "findings", "recorded_at"]


class DeclarationSerializer(serializers.ModelSerializer):
    booking = serializers.CharField(source="booking.reference")
    declarant = serializers.CharField(source="declarant.code")
    station = serializers.CharField(source="station.code")
    previous = serializers.CharField(source="previous.reference", default=None, allow_null=True)
    containers = serializers.SlugRelatedField(
        source="booking.containers", slug_field="number", many=True, read_only=True,
        help_text=_("Every container of the booking: the declaration covers them all, numbered later ones too."),
    )
    lines = GoodsLineSerializer(many=True, read_only=True)
    decisions = DecisionSerializer(many=True, read_only=True)
    inspection = serializers.SerializerMethodField()
    total_value = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)
    total_gross_kg = serializers.DecimalField(max_digits=12, decimal_places=1, read_only=True)

    class Meta:
        model = Declaration
        fields = [
            "reference",
            "version",
            "previous",
            "booking",
            "declarant",
            "declarant_uscc",
            "station",
            "trade_mode",
            "transport_mode",
            "status",
            "containers",
            "lines",
            "total_value",
            "total_gross_kg",
            "risk_selected",
            "risk_reasons",
            "rejection_reason",
            "decisions",
            "inspection",
            "created_at",
            "submitted_at",
            "decided_at",
            "released_at",
        ]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not sees_officers_notes(self.context.get("party_kind")):
            # The trader: that an inspection is asked for, not which rules chose it; a rejection's reason only.
            data["risk_reasons"] = []
            for decision in data["decisions"]:
                if decision["kind"] != DecisionKind.REJECT:
                    decision["reason"] = ""
        return data

    @extend_schema_field(InspectionSerializer(allow_null=True))
    def get_inspection(self, declaration) -> dict | None:
        inspection = getattr(declaration, "inspection", None)
        return InspectionSerializer(inspection).data if inspection else None


class DeclarationWriteSerializer(KnownFieldsOnly, serializers.Serializer):
    booking = serializers.CharField(max_length=20)
    declarant_uscc = CodeField(max_length=18, required=False, allow_blank=True, default="", validators=[validate_uscc])
    trade_mode = serializers.ChoiceField(choices=TradeMode.choices)
    transport_mode = serializers.ChoiceField(choices=TransportMode.choices)
    containers = _containers_field(required=False, default=list)
    lines = _lines_field()


class DeclarationUpdateSerializer(KnownFieldsOnly, serializers.Serializer):
    declarant_uscc = CodeField(max_length=18, required=False, validators=[validate_uscc])
    trade_mode = serializers.ChoiceField(choices=TradeMode.choices, required=False)
    transport_mode = serializers.ChoiceField(choices=TransportMode.choices, required=False)
    containers = _containers_field(required=False)
    lines = _lines_field(required=False)


class DecideSerializer(KnownFieldsOnly, serializers.Serializer):
    decision = serializers.ChoiceField(choices=DecisionKind.choices)
    reason = serializers.CharField(max_length=500)


class ScheduleSerializer(KnownFieldsOnly, serializers.Serializer):
    appointment_at = serializers.DateTimeField()
    place = serializers.CharField(max_length=200, required=False, default="")


class ResultSerializer(KnownFieldsOnly, serializers.Serializer):
    result = serializers.ChoiceField(choices=InspectionResult.choices)
    findings = serializers.CharField(max_length=4000, style=MULTI_LINE)


class DeclarationFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=DeclarationStatus.choices)
    station = ReferenceFilter(field_name="station__code")
    booking = ReferenceFilter(field_name="booking__reference")
    risk_selected = django_filters.BooleanFilter()
    submitted_before = IsoDateTimeFilter(
        field_name="submitted_at", lookup_expr="lte", label=_("Submitted before (age)")
    )

    class Meta:
        model = Declaration
        fields = ["status", "station", "booking", "risk_selected"]


@extend_schema_view(
    list=extend_schema(summary="Declarations the caller may see"),
    retrieve=extend_schema(
        summary="One declaration version", responses={200: DeclarationSerializer, 404: OpenApiTypes.OBJECT}
    ),
)
class DeclarationViewSet(ReplicaReadsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = DeclarationSerializer
    filterset_class = DeclarationFilter
    lookup_field = "reference"
    lookup_value_regex = r"[A-Za-z0-9-]+"
    ordering_fields = ["submitted_at", "created_at", "reference"]
    ordering = ["submitted_at", "id"]
    required_scopes = {
        "GET": Scope.DECLARATIONS_READ,
        "POST": Scope.DECLARATIONS_WRITE,
        "PATCH": Scope.DECLARATIONS_WRITE,
    }

    def actor(self) -> Actor:
        return Actor.from_request(self.request)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "party_kind": self.actor().kind}

    def get_queryset(self):
        return (
            selectors.declaration_list(actor=self.actor())
            .prefetch_related("booking__containers", "decisions__officer")
            .select_related("inspection")
        )

    def get_object(self):
        return selectors.declaration_get(actor=self.actor(), reference=self.kwargs["reference"])

    def _answer(self, declaration, code=status.HTTP_200_OK):
        declaration = selectors.declaration_get(actor=self.actor(), reference=declaration.reference)
        return Response(DeclarationSerializer(declaration, context=self.get_serializer_context()).data, status=code)

    @extend_schema(
        request=DeclarationWriteSerializer,
        responses={201: DeclarationSerializer, **ERRORS},
        summary="Create a draft declaration for a booking",
        parameters=KEY,
    )
    @idempotent
    def create(self, request):
        if self.actor().kind not in (PartyKind.ENTERPRISE, PartyKind.PLATFORM_ADMIN):
            # Before the input is read: an officer or an operator gets a 403, not a field error about a booking.
            raise PermissionDenied(_("Only the shipper can declare its goods."))
        serializer = DeclarationWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        booking = booking_list(actor=self.actor()).filter(reference=data.pop("booking")).first()
        if booking is None:
            raise InvalidInput(errors={"booking": [_("No such booking of yours.")]})
        declaration = services.declaration_create(actor=self.actor(), booking=booking, **data)
        return self._answer(declaration, status.HTTP_201_CREATED)

    @extend_schema(
        request=DeclarationUpdateSerializer, responses={200: DeclarationSerializer, **ERRORS}, summary="Change a draft"
    )
    def partial_update(self, request, reference=None):
        declaration = self.get_object()
        serializer = DeclarationUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        declaration = services.declaration_update(
            actor=self.actor(), declaration=declaration, **serializer.validated_data
        )
        return self._answer(declaration)

    @extend_schema(
        request=None,
        responses={200: DeclarationSerializer, **ERRORS},
        parameters=KEY,
        summary="Submit to customs and border inspection",
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def submit(self, request, reference=None):
        return self._answer(services.declaration_submit(actor=self.actor(), declaration=self.get_object()))

    @extend_schema(
        request=DecideSerializer,
        responses={200: DeclarationSerializer, **ERRORS},
        parameters=KEY,
        summary="An agency's decision: clear, inspect or reject, with the reason",
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def decide(self, request, reference=None):
        declaration = self.get_object()
        serializer = DecideSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        declaration = services.declaration_decide(
            actor=self.actor(),
            declaration=declaration,
            kind=serializer.validated_data["decision"],
            reason=serializer.validated_data["reason"],
        )
        return self._answer(declaration)

    @extend_schema(
        request=ScheduleSerializer,
        responses={200: DeclarationSerializer, **ERRORS},
        parameters=KEY,
        summary="Set the joint inspection's appointment",
    )
    @action(detail=True, methods=["post"], url_path="inspection/schedule")
    @idempotent
    def schedule(self, request, reference=None):
        declaration = self.get_object()
        serializer = ScheduleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.inspection_schedule(actor=self.actor(), declaration=declaration, **serializer.validated_data)
        return self._answer(declaration)

    @extend_schema(
        request=ResultSerializer,
        responses={200: DeclarationSerializer, **ERRORS},
        parameters=KEY,
        summary="Record the joint inspection's one result",
    )
    @action(detail=True, methods=["post"], url_path="inspection/result")
    @idempotent
    def result(self, request, reference=None):
        declaration = self.get_object()
        serializer = ResultSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        declaration = services.inspection_record(
            actor=self.actor(), declaration=declaration, **serializer.validated_data
        )
        return self._answer(declaration)

    @extend_schema(
        request=None,
        responses={201: DeclarationSerializer, **ERRORS},
        parameters=KEY,
        summary="Amend a rejected declaration as a new version",
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def amend(self, request, reference=None):
        amended = services.declaration_amend(actor=self.actor(), declaration=self.get_object())
        return self._answer(amended, status.HTTP_201_CREATED)
