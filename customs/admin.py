from django.contrib import admin

from customs.models import Decision, Declaration, GoodsLine, Inspection, RiskRule
from intermodal.admin_mixins import ReadOnlyAdminMixin


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0


class GoodsLineInline(ReadOnlyInline):
    model = GoodsLine


class DecisionInline(ReadOnlyInline):
    model = Decision


@admin.register(Declaration)
class DeclarationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read here; declarations move only through the shipper's and the officers' actions."""

    list_display = [
        "reference",
        "booking",
        "declarant",
        "station",
        "status",
        "risk_selected",
        "submitted_at",
        "released_at",
    ]
    list_filter = ["status", "risk_selected", "station"]
    search_fields = ["reference", "booking__reference", "declarant__code"]
    list_select_related = ["booking", "declarant", "station"]
    inlines = [GoodsLineInline, DecisionInline]


@admin.register(Inspection)
class InspectionAdmin(admin.ModelAdmin):
    list_display = ["declaration", "requested_by", "appointment_at", "place", "result", "recorded_at"]
    list_filter = ["result"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(RiskRule)
class RiskRuleAdmin(admin.ModelAdmin):
    """Officers' rules: tuned here by platform admins on the officers' word."""

    list_display = ["name", "kind", "agency", "parameters", "is_active", "updated_at"]
    list_filter = ["kind", "agency", "is_active"]
