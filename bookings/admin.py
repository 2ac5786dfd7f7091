from django.contrib import admin

from bookings.models import BillOfLading, Booking, BookingChange, BookingImport, BookingLine, Container
from intermodal.admin_mixins import ReadOnlyAdminMixin


class BookingLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = BookingLine
    extra = 0
    readonly_fields = ["size_type", "quantity", "teu", "unit_price", "unit_road_price"]


class ContainerInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Container
    extra = 0
    readonly_fields = ["number", "size_type", "status", "is_active", "seal_number", "vgm_kg", "vgm_method",
                       "vgm_signatory"]


@admin.register(Booking)
class BookingAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read here; bookings change only through their lifecycle (the pages and the API)."""

    list_display = ["reference", "direction", "shipper", "status", "departure", "vessel_call", "teu", "quote_total",
                    "created_at"]
    list_filter = ["direction", "status", "departure__service__station"]
    search_fields = ["reference", "shipper__code", "shipper__name", "commodity"]
    list_select_related = ["shipper", "departure", "vessel_call"]
    date_hierarchy = "created_at"
    inlines = [BookingLineInline, ContainerInline]


@admin.register(Container)
class ContainerAdmin(admin.ModelAdmin):
    list_display = ["number", "booking", "size_type", "status", "is_active", "seal_number", "vgm_kg"]
    list_filter = ["status", "is_active", "size_type"]
    search_fields = ["number", "booking__reference", "seal_number"]
    list_select_related = ["booking"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(BookingChange)
class BookingChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["booking", "kind", "at", "organisation", "user", "reason"]
    list_filter = ["kind"]
    search_fields = ["booking__reference"]
    list_select_related = ["booking", "organisation", "user"]


@admin.register(BillOfLading)
class BillOfLadingAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read here: a B/L is asked for by its shipper and issued by its station, and never changes once issued."""

    list_display = ["number", "booking", "status", "consignee_name", "place_of_issue", "issued_at"]
    list_filter = ["status", "place_of_issue"]
    search_fields = ["number", "booking__reference", "consignee_name", "shipper_name"]
    exclude = ["pdf", "verification_token"]
    readonly_fields = [f.name for f in BillOfLading._meta.fields if f.name not in ("pdf", "verification_token")]


@admin.register(BookingImport)
class BookingImportAdmin(admin.ModelAdmin):
    list_display = ["file_name", "organisation", "status", "total_rows", "processed_rows", "created_at"]
    list_filter = ["status"]
    exclude = ["content"]
    readonly_fields = ["organisation", "created_by", "file_name", "status", "total_rows", "processed_rows", "errors",
                       "created_references", "started_at", "finished_at", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
