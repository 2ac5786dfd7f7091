"""Published schedules: stations, services, departures and vessel calls. Readable without a key."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError

from databases.replicas import ReplicaReadsMixin
from intermodal.api import CodeFilter, IsoDateTimeFilter, ReferenceFilter
from intermodal.models import Scope
from stations import selectors
from stations.models import Departure, DepartureStatus, Mode, Service, Station, Tariff, VesselCall


class StationSerializer(serializers.ModelSerializer):
    operator = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    services = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = Station
        fields = [
            "code", "name", "name_zh", "city", "city_zh", "province", "province_zh", "unlocode", "timezone",
            "has_empty_depot", "has_customs_supervision", "issues_bills_of_lading", "operator", "services",
        ]


class TariffSerializer(serializers.ModelSerializer):
    total = serializers.DecimalField(max_digits=11, decimal_places=2, read_only=True)
    saving = serializers.DecimalField(max_digits=11, decimal_places=2, read_only=True)

    class Meta:
        model = Tariff
        fields = [
            "container_size", "transport_price", "port_handling", "documentation", "total",
            "road_haulage_price", "saving", "currency",
        ]


@extend_schema_field({"type": "string", "pattern": r"^\d{2}:\d{2}:\d{2}$", "example": "09:30:00"})
class LocalTimeField(serializers.TimeField):
    """A wall-clock time in the station's zone: OpenAPI's "time" format would demand a UTC offset it has not."""


class ServiceSerializer(serializers.ModelSerializer):
    departure_time = LocalTimeField(read_only=True)
    station = serializers.SlugRelatedField(slug_field="code", read_only=True)
    terminal = serializers.SlugRelatedField(slug_field="code", read_only=True)
    operator = serializers.SlugRelatedField(slug_field="code", read_only=True)
    weekdays = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=7), read_only=True)
    dangerous_goods_classes = serializers.ListField(child=serializers.CharField(), read_only=True)
    tariffs = TariffSerializer(many=True, read_only=True)

    class Meta:
        model = Service
        fields = [
            "code", "short_code", "station", "terminal", "mode", "operator", "weekdays", "departure_time",
            "transit_hours", "closing_hours", "teu_capacity", "distance_km", "dangerous_goods_classes", "is_active",
            "tariffs",
        ]


class DepartureSerializer(serializers.ModelSerializer):
    service = serializers.SlugRelatedField(slug_field="code", read_only=True)
    station = serializers.CharField(source="service.station.code", read_only=True)
    terminal = serializers.CharField(source="service.terminal.code", read_only=True)
    mode = serializers.CharField(source="service.mode", read_only=True)
    teu_free = serializers.IntegerField(read_only=True)

    class Meta:
        model = Departure
        fields = [
            "reference", "service", "station", "terminal", "mode", "service_date", "status", "capacity_teu",
            "booked_teu", "teu_free", "closing_time", "planned_departure", "planned_arrival",
            "estimated_departure", "estimated_arrival", "actual_departure", "actual_arrival",
        ]


class VesselCallSerializer(serializers.ModelSerializer):
    terminal = serializers.SlugRelatedField(slug_field="code", read_only=True)
    destinations = serializers.SlugRelatedField(slug_field="unlocode", many=True, read_only=True)

    class Meta:
        model = VesselCall
        fields = [
            "reference", "vessel_name", "imo_number", "voyage", "carrier", "carrier_scac", "service_code",
            "service_name", "terminal", "eta",
            "etd", "cy_cutoff", "vgm_cutoff", "si_cutoff", "customs_cutoff", "dg_cutoff", "destinations",
            "actual_departure",
        ]


class StationFilter(django_filters.FilterSet):
    city = django_filters.CharFilter(lookup_expr="iexact")
    province = django_filters.CharFilter(lookup_expr="iexact")
    unlocode = CodeFilter(lookup_expr="iexact")
    q = django_filters.CharFilter(method="filter_text", label=_("Name or city contains"))

    class Meta:
        model = Station
        fields = ["city", "province", "unlocode", "has_empty_depot", "has_customs_supervision",
                  "issues_bills_of_lading"]

    def filter_text(self, queryset, name, value):
        return queryset.filter(
            Q(name__icontains=value) | Q(name_zh__icontains=value) | Q(city__icontains=value)
            | Q(city_zh__icontains=value) | Q(code__icontains=value)
        )


class ServiceFilter(django_filters.FilterSet):
    station = ReferenceFilter(field_name="station__code")
    terminal = ReferenceFilter(field_name="terminal__code")
    operator = django_filters.CharFilter(field_name="operator__code")
    mode = django_filters.ChoiceFilter(choices=Mode.choices)

    class Meta:
        model = Service
        fields = ["station", "terminal", "operator", "mode", "short_code", "is_active"]


class DepartureFilter(django_filters.FilterSet):
    station = ReferenceFilter(field_name="service__station__code")
    terminal = ReferenceFilter(field_name="service__terminal__code")
    service = ReferenceFilter(field_name="service__code")
    mode = django_filters.ChoiceFilter(field_name="service__mode", choices=Mode.choices)
    status = django_filters.MultipleChoiceFilter(choices=DepartureStatus.choices)
    date_from = django_filters.DateFilter(field_name="service_date", lookup_expr="gte", label=_("Date from"))
    date_to = django_filters.DateFilter(field_name="service_date", lookup_expr="lte", label=_("Date to"))
    departs_after = IsoDateTimeFilter(field_name="planned_departure", lookup_expr="gte")
    departs_before = IsoDateTimeFilter(field_name="planned_departure", lookup_expr="lte")
    has_free_capacity = django_filters.BooleanFilter(method="filter_has_free", label=_("Has free TEU"))
    min_free_teu = django_filters.NumberFilter(field_name="free_teu", lookup_expr="gte", min_value=0)
    connects_to = django_filters.CharFilter(method="filter_connects_to", label=_("Connects to vessel call"))

    class Meta:
        model = Departure
        fields = ["station", "terminal", "service", "mode", "status"]

    def filter_has_free(self, queryset, name, value):
        return queryset.filter(free_teu__gt=0) if value else queryset.filter(free_teu__lte=0)

    def filter_connects_to(self, queryset, name, value):
        vessel_call = VesselCall.objects.select_related("terminal").filter(reference=value).first()
        if vessel_call is None:
            raise ValidationError({"connects_to": [_("No vessel call with reference %(ref)s.") % {"ref": value}]})
        return selectors.departures_connecting_to(queryset, vessel_call)


class VesselCallFilter(django_filters.FilterSet):
    terminal = ReferenceFilter(field_name="terminal__code")
    carrier = django_filters.CharFilter(lookup_expr="icontains")
    destination = CodeFilter(field_name="destinations__unlocode", label=_("Destination UN/LOCODE"))
    imo_number = CodeFilter()
    etd_after = IsoDateTimeFilter(field_name="etd", lookup_expr="gte")
    etd_before = IsoDateTimeFilter(field_name="etd", lookup_expr="lte")
    cy_cutoff_after = IsoDateTimeFilter(field_name="cy_cutoff", lookup_expr="gte")

    class Meta:
        model = VesselCall
        fields = ["terminal", "carrier", "destination", "imo_number"]


class ScheduleViewSet(ReplicaReadsMixin, viewsets.ReadOnlyModelViewSet):
    """Published schedules: anyone may read; a key needs the schedules scope."""

    public_read = True
    required_scopes = {"*": Scope.SCHEDULES_READ}


@extend_schema_view(list=extend_schema(summary="Inland stations"), retrieve=extend_schema(summary="One station"))
class StationViewSet(ScheduleViewSet):
    serializer_class = StationSerializer
    filterset_class = StationFilter
    lookup_field = "code"
    ordering_fields = ["code", "city", "province", "name"]
    ordering = ["province", "city", "code"]

    def get_queryset(self):
        return selectors.station_list().prefetch_related("services")


@extend_schema_view(list=extend_schema(summary="Scheduled services"), retrieve=extend_schema(summary="One service"))
class ServiceViewSet(ScheduleViewSet):
    serializer_class = ServiceSerializer
    filterset_class = ServiceFilter
    lookup_field = "code"
    ordering_fields = ["code", "transit_hours", "teu_capacity"]
    ordering = ["code"]

    def get_queryset(self):
        return selectors.service_list()


@extend_schema_view(list=extend_schema(summary="Departures"), retrieve=extend_schema(summary="One departure"))
class DepartureViewSet(ScheduleViewSet):
    serializer_class = DepartureSerializer
    filterset_class = DepartureFilter
    lookup_field = "reference"
    ordering_fields = ["planned_departure", "planned_arrival", "service_date", "free_teu", "reference"]
    ordering = ["planned_departure", "reference"]

    def get_queryset(self):
        return selectors.departure_list()


@extend_schema_view(list=extend_schema(summary="Vessel calls"), retrieve=extend_schema(summary="One vessel call"))
class VesselCallViewSet(ScheduleViewSet):
    serializer_class = VesselCallSerializer
    filterset_class = VesselCallFilter
    lookup_field = "reference"
    ordering_fields = ["etd", "eta", "cy_cutoff", "reference"]
    ordering = ["etd", "reference"]

    def get_queryset(self):
        qs = selectors.vessel_call_list()
        # A destination filter joins the many-to-many; keep one row per call.
        return qs.distinct() if "destination" in self.request.query_params else qs
