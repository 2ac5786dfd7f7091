"""The figures dashboard (/figures/) and its API (GET /api/v1/figures/): the same computation, scoped alike."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from databases.replicas import ReplicaReadsMixin, reads_from_replica
from figures import charts
from figures.compute import figures_compute
from figures.exports import figure_tables
from figures.query import (
    FIGURE_VIEWERS,
    MAX_PERIOD_DAYS,
    FigureQuery,
    default_period,
    figure_query,
    services_in_scope,
    stations_in_scope,
)
from intermodal.access import Actor
from intermodal.api import InputPolicy
from intermodal.errors import InvalidInput
from intermodal.exports import FORMATS, export_response
from intermodal.forms import InputPolicyForm
from intermodal.models import Scope
from stations.models import Direction


class FigureFilterForm(InputPolicyForm, forms.Form):
    date_from = forms.DateField(label=gettext_lazy("From"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    date_to = forms.DateField(label=gettext_lazy("To"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    station = forms.ChoiceField(label=gettext_lazy("Station"), required=False)
    service = forms.ChoiceField(label=gettext_lazy("Service"), required=False)
    direction = forms.ChoiceField(label=gettext_lazy("Direction"), required=False,
                                  choices=[("", gettext_lazy("Both directions")), *Direction.choices])

    def __init__(self, *args, actor: Actor, **kwargs):
        super().__init__(*args, **kwargs)
        zh = (get_language() or "").startswith("zh")
        self.fields["station"].choices = [("", _("All stations")),
                                          *[(s.code, f"{s.code} · {s.name_zh if zh else s.name}")
                                            for s in stations_in_scope(actor)]]
        self.fields["service"].choices = [("", _("All services")),
                                          *[(s.code, s.code) for s in services_in_scope(actor)]]
        date_from, date_to = default_period()
        self.fields["date_from"].initial, self.fields["date_to"].initial = date_from, date_to

    def query_kwargs(self) -> dict:
        if not self.is_bound or not self.is_valid():
            return {}
        return {key: value for key, value in self.cleaned_data.items() if value}


def figures_query_from(request, actor: Actor) -> tuple[FigureFilterForm, FigureQuery]:
    """The filters of the request as a checked query; invalid filters are shown on the form and the defaults
    apply. Shared by the dashboard and the exports, so an export has the figures on the screen."""
    form = FigureFilterForm(request.GET or None, actor=actor)
    try:
        return form, figure_query(actor=actor, **form.query_kwargs())
    except InvalidInput as error:
        for name, messages in error.errors.items():
            for message in messages:
                form.add_error(name if name in form.fields else None, message)
        return form, figure_query(actor=actor)


def _month_labels(rows: list[dict]) -> list[str]:
    return [row["month"].strftime("%Y-%m") for row in rows]


def _station_label(row: dict) -> str:
    return row["name_zh"] if (get_language() or "").startswith("zh") and row.get("name_zh") else row["name"]


def figure_charts(figures: dict) -> dict:
    """The dashboard's charts, in the page's language."""
    out = {}
    on_schedule = figures["on_schedule"]
    out["on_schedule"] = charts.bar_chart(
        "chart-on-schedule", _("On-schedule shipment rate by month"), _month_labels(on_schedule["by_month"]),
        [charts.Series(_("On schedule"), [row["rate"] for row in on_schedule["by_month"]])],
        unit="%", y_label=_("percent of containers"), goal=on_schedule["goal"], goal_label=_("Goal"), top_value=100,
    )
    wait = figures["empty_wait"]
    out["empty_wait"] = charts.line_chart(
        "chart-empty-wait", _("Empty-container wait by month"), _month_labels(wait["by_month"]),
        [charts.Series(_("Median"), [row["median_hours"] for row in wait["by_month"]]),
         charts.Series(_("90th percentile"), [row["p90_hours"] for row in wait["by_month"]])],
        y_label=_("hours"),
    )
    throughput = figures["throughput"]
    out["teu_by_month"] = charts.bar_chart(
        "chart-teu-month", _("TEU by month"), _month_labels(throughput["by_month"]),
        [charts.Series(_("TEU"), [row["teu"] for row in throughput["by_month"]])], y_label=_("TEU"),
    )
    out["teu_by_station"] = charts.hbar_chart(
        "chart-teu-station", _("TEU by station"), [_station_label(row) for row in throughput["by_station"]],
        [charts.Series(_("TEU"), [row["teu"] for row in throughput["by_station"]])], x_label=_("TEU"),
    )
    if figures["load_factor"] is not None:
        load = figures["load_factor"]
        out["load_factor"] = charts.bar_chart(
            "chart-load-factor", _("Departures' load factor by month"), _month_labels(load["by_month"]),
            [charts.Series(_("Load factor"), [row["rate"] for row in load["by_month"]])],
            unit="%", y_label=_("percent of TEU offered"), top_value=100,
        )
    if figures["cost"] is not None:
        cost = figures["cost"]
        out["cost"] = charts.hbar_chart(
            "chart-cost", _("Cost per container: sea-rail against road"),
            [_station_label(row) for row in cost["by_station"]],
            [charts.Series(_("Sea-rail"), [row["sea_rail_per_container"] for row in cost["by_station"]]),
             charts.Series(_("Road"), [row["road_per_container"] for row in cost["by_station"]])],
            x_label=_("%(currency)s per container") % {"currency": cost["currency"]},
        )
    dwell = figures["dwell"]
    out["dwell"] = charts.line_chart(
        "chart-dwell", _("Import dwell at the station by month"), _month_labels(dwell["by_month"]),
        [charts.Series(_("Median"), [row["median_hours"] for row in dwell["by_month"]]),
         charts.Series(_("90th percentile"), [row["p90_hours"] for row in dwell["by_month"]])],
        y_label=_("hours"),
    )
    match = figures["match_back"]
    out["match_back"] = charts.bar_chart(
        "chart-match-back", _("Export empties that were import returns, by month"), _month_labels(match["by_month"]),
        [charts.Series(_("Match-back"), [row["share"] for row in match["by_month"]])],
        unit="%", y_label=_("percent of empties handed out"), top_value=100,
    )
    if figures.get("clearance") is not None:
        clearance = figures["clearance"]
        out["clearance"] = charts.line_chart(
            "chart-clearance", _("Clearance time by month (median)"), _month_labels(clearance["by_month"]),
            [charts.Series(_("Median"), [row["median_hours"] for row in clearance["by_month"]])],
            y_label=_("hours"),
        )
    if figures.get("cargo_mix"):
        mix = figures["cargo_mix"][:12]
        out["cargo_mix"] = charts.hbar_chart(
            "chart-cargo-mix", _("Cargo mix by HS chapter (gross weight)"),
            [f"{row['chapter']} {row['name']}" for row in mix],
            [charts.Series(_("Tonnes"), [round(row["gross_weight_kg"] / 1000, 1) for row in mix])],
            x_label=_("tonnes"),
        )
    return out


@login_required
@reads_from_replica
def dashboard(request):
    actor = Actor.from_request(request)
    if actor.kind not in FIGURE_VIEWERS:
        return render(request, "figures/not_for_you.html", status=403)
    form, query = figures_query_from(request, actor)
    figures = figures_compute(query)
    return render(request, "figures/dashboard.html", {
        "form": form, "query": query, "figures": figures, "charts": figure_charts(figures),
        "querystring": request.GET.urlencode(),
    })


# --- API -------------------------------------------------------------------------------------------------


class _Month(serializers.Serializer):
    month = serializers.DateField()


class _OnScheduleMonth(_Month):
    total = serializers.IntegerField()
    on_schedule = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True)


class _OnScheduleTotal(serializers.Serializer):
    containers = serializers.IntegerField()
    on_schedule = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True, help_text="percent")


class _OnScheduleDirections(serializers.Serializer):
    export = _OnScheduleTotal(help_text="containers whose first-booked vessel sailed; on schedule: loaded on it")
    # "import" is a keyword: the field is named in __init__.

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["import"] = _OnScheduleTotal(
            help_text="containers due at their inland station (the departure's planned arrival) and judged; on "
                      "schedule: available for pick-up there by the promised day (planned arrival plus the "
                      "terminal's handling buffer, in the station's calendar)")


class _OnSchedule(_OnScheduleTotal):
    goal = serializers.FloatField()
    by_month = _OnScheduleMonth(many=True)
    by_direction = _OnScheduleDirections()


class _WaitMonth(_Month):
    requests = serializers.IntegerField()
    median_hours = serializers.FloatField(allow_null=True)
    p90_hours = serializers.FloatField(allow_null=True)


class _EmptyWait(serializers.Serializer):
    requests = serializers.IntegerField()
    median_hours = serializers.FloatField(allow_null=True)
    p90_hours = serializers.FloatField(allow_null=True)
    mean_hours = serializers.FloatField(allow_null=True)
    by_month = _WaitMonth(many=True)


class _StationTeu(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    name_zh = serializers.CharField()
    teu = serializers.IntegerField()
    bookings = serializers.IntegerField()


class _TeuMonth(_Month):
    teu = serializers.IntegerField()


class _Throughput(serializers.Serializer):
    teu = serializers.IntegerField()
    by_station = _StationTeu(many=True)
    by_month = _TeuMonth(many=True)


class _LoadMonth(_Month):
    departures = serializers.IntegerField()
    booked = serializers.IntegerField()
    capacity = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True)


class _LoadFactor(serializers.Serializer):
    departures = serializers.IntegerField()
    booked_teu = serializers.IntegerField()
    capacity_teu = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True, help_text="percent")
    by_month = _LoadMonth(many=True)


class _CostRow(serializers.Serializer):
    containers = serializers.IntegerField()
    sea_rail = serializers.FloatField()
    road = serializers.FloatField()
    saving = serializers.FloatField()
    sea_rail_per_container = serializers.FloatField(allow_null=True)
    road_per_container = serializers.FloatField(allow_null=True)
    saving_per_container = serializers.FloatField(allow_null=True)


class _CostStation(_CostRow):
    code = serializers.CharField()
    name = serializers.CharField()
    name_zh = serializers.CharField()


class _Cost(_CostRow):
    currency = serializers.CharField()
    by_station = _CostStation(many=True)


class _ClearanceMonth(_Month):
    released = serializers.IntegerField()
    median_hours = serializers.FloatField(allow_null=True)
    share_without_inspection = serializers.FloatField(allow_null=True)


class _Clearance(serializers.Serializer):
    released = serializers.IntegerField()
    median_hours = serializers.FloatField(allow_null=True)
    p90_hours = serializers.FloatField(allow_null=True)
    without_inspection = serializers.IntegerField()
    share_without_inspection = serializers.FloatField(allow_null=True, help_text="percent")
    by_month = _ClearanceMonth(many=True)


class _Chapter(serializers.Serializer):
    chapter = serializers.CharField()
    name = serializers.CharField()
    gross_weight_kg = serializers.FloatField()
    lines = serializers.IntegerField()
    share = serializers.FloatField(allow_null=True)


def _durations_serializer(name: str, unit: str, counted: str) -> type[serializers.Serializer]:
    """A duration figure in `unit` (hours or days): containers, median, 90th percentile, mean, and by month."""

    def values(**extra):
        return {"containers": serializers.IntegerField(**extra),
                f"median_{unit}": serializers.FloatField(allow_null=True),
                f"p90_{unit}": serializers.FloatField(allow_null=True)}

    month = type(f"_{name}Month", (_Month,), values())
    return type(f"_{name}", (serializers.Serializer,), {
        **values(help_text=counted), f"mean_{unit}": serializers.FloatField(allow_null=True),
        "by_month": month(many=True)})


_Dwell = _durations_serializer("Dwell", "hours", "import containers gated out to their consignee in the period")
_Detention = _durations_serializer("Detention", "days", "import containers returned empty in the period")


class _Amount(serializers.Serializer):
    currency = serializers.CharField()
    amount = serializers.FloatField()


class _Clock(serializers.Serializer):
    containers = serializers.IntegerField(help_text="clocks ended in the period")
    charged = serializers.IntegerField(help_text="of them, past their free days")
    chargeable_days = serializers.IntegerField()
    amounts = _Amount(many=True)


class _FreeTimeCharges(serializers.Serializer):
    demurrage = _Clock(help_text="at the station, ended by the gate-out to the consignee")
    detention = _Clock(help_text="with the consignee, ended by the empty's return")


class _MatchBackMonth(_Month):
    empties = serializers.IntegerField()
    matched = serializers.IntegerField()
    share = serializers.FloatField(allow_null=True)
    km_saved = serializers.IntegerField()


class _MatchBack(serializers.Serializer):
    empties = serializers.IntegerField(help_text="empties handed out for exports in the period")
    matched = serializers.IntegerField(help_text="of them, import containers returned empty at the station")
    share = serializers.FloatField(allow_null=True, help_text="percent")
    km_saved = serializers.IntegerField(help_text="road kilometres of empties from the port not run")
    by_month = _MatchBackMonth(many=True)


class _Period(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()


class FiguresSerializer(serializers.Serializer):
    period = _Period()
    station = serializers.CharField(allow_null=True)
    service = serializers.CharField(allow_null=True)
    direction = serializers.CharField(allow_null=True, help_text="export or import; null: both")
    on_schedule = _OnSchedule()
    empty_wait = _EmptyWait()
    throughput = _Throughput()
    load_factor = _LoadFactor(allow_null=True, help_text="null for an enterprise")
    cost = _Cost(allow_null=True, help_text="null for a local government: nothing commercial")
    clearance = _Clearance(required=False)
    cargo_mix = _Chapter(many=True, required=False)
    dwell = _Dwell(help_text="imports: from the discharge at the inland station to the gate-out")
    detention = _Detention(help_text="imports: from the gate-out to the empty's return")
    free_time_charges = _FreeTimeCharges(allow_null=True, help_text="null for a local government")
    match_back = _MatchBack(help_text="exports: empties handed out that were import returns")


class FiguresQuery(InputPolicy, serializers.Serializer):
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)
    station = serializers.CharField(required=False, allow_blank=True, max_length=20)
    service = serializers.CharField(required=False, allow_blank=True, max_length=30)
    direction = serializers.ChoiceField(choices=Direction.choices, required=False, allow_blank=True)


class FiguresView(ReplicaReadsMixin, APIView):
    """The network's figures for a period (default: twelve calendar months up to today), scoped to the caller."""

    required_scopes = {"*": Scope.KPI_READ}

    @extend_schema(
        parameters=[
            OpenApiParameter("date_from", OpenApiTypes.DATE,
                             description="first day (Asia/Shanghai); default: the first day of the month eleven months "
                                         "before date_to's, so twelve calendar months"),
            OpenApiParameter("date_to", OpenApiTypes.DATE,
                             description=f"last day, included, not before date_from and at most {MAX_PERIOD_DAYS} "
                                         "days (three years) after it; a longer period is a 400"),
            OpenApiParameter("station", {"type": "string", "maxLength": 20},
                             description="a station code within the caller's scope"),
            OpenApiParameter("service", {"type": "string", "maxLength": 30},
                             description="a service code within the caller's scope"),
            OpenApiParameter("direction", {"type": "string", "enum": Direction.values},
                             description="export (inland station -> vessel) or import (vessel -> inland station); "
                                         "none: both"),
        ],
        responses={200: FiguresSerializer, 400: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT},
        summary="Figures (KPIs)",
    )
    def get(self, request):
        params = FiguresQuery(data=request.query_params)
        params.is_valid(raise_exception=True)
        query = figure_query(actor=Actor.from_request(request), **params.validated_data)
        return Response(FiguresSerializer(figures_compute(query)).data)


@login_required
def figures_export(request, file_format: str):
    """The dashboard's figures, with the filters on the screen, as CSV or Excel."""
    actor = Actor.from_request(request)
    if actor.kind not in FIGURE_VIEWERS or file_format not in FORMATS:
        return render(request, "figures/not_for_you.html", status=403 if file_format in FORMATS else 404)
    _form, query = figures_query_from(request, actor)
    return export_response(figure_tables(figures_compute(query)), filename="figures", file_format=file_format)
