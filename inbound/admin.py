from django.contrib import admin

from inbound.models import ArrivingContainer, ReturnedEmpty
from intermodal.admin_mixins import ReadOnlyAdminMixin


@admin.register(ArrivingContainer)
class ArrivingContainerAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read here; the port announces and releases through its pages and the API."""

    list_display = ["number", "vessel_call", "bl_number", "consignee", "size_type", "discharged_at", "freight_hold",
                    "terminal_hold", "booking"]
    list_filter = ["freight_hold", "terminal_hold"]
    search_fields = ["number", "bl_number", "consignee__code", "vessel_call__reference"]
    list_select_related = ["vessel_call", "consignee", "booking"]


@admin.register(ReturnedEmpty)
class ReturnedEmptyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["number", "station", "size_type", "owner_scac", "returned_at", "used_at"]
    list_filter = ["station", "size_type"]
    search_fields = ["number"]
    list_select_related = ["station"]
