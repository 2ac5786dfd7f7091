from django.contrib import admin

from stations.models import (
    CarrierDetention,
    Departure,
    Location,
    Service,
    Station,
    Tariff,
    Terminal,
    VesselCall,
)


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["unlocode", "name", "name_zh", "sea_transit_days"]
    search_fields = ["unlocode", "name", "name_zh"]


@admin.register(Station)
class StationAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_zh", "city", "province", "unlocode", "operator"]
    list_filter = ["province", "has_empty_depot", "has_customs_supervision", "issues_bills_of_lading"]
    search_fields = ["code", "name", "name_zh", "city", "city_zh"]
    list_select_related = ["operator"]
    filter_horizontal = ["inspection_offices"]


@admin.register(Terminal)
class TerminalAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_zh", "unlocode", "port_unlocode", "operator", "handling_buffer_hours"]
    list_select_related = ["operator"]


class TariffInline(admin.TabularInline):
    model = Tariff
    extra = 0


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["code", "short_code", "direction", "station", "terminal", "mode", "operator", "departure_time",
                    "transit_hours", "teu_capacity", "is_active"]
    list_filter = ["direction", "mode", "terminal", "is_active"]
    search_fields = ["code", "short_code", "station__code", "station__name"]
    list_select_related = ["station", "terminal", "operator"]
    inlines = [TariffInline]


@admin.register(Departure)
class DepartureAdmin(admin.ModelAdmin):
    list_display = ["reference", "service", "service_date", "planned_departure", "capacity_teu", "booked_teu",
                    "status"]
    list_filter = ["status", "service__mode", "service__terminal"]
    search_fields = ["reference", "service__code"]
    list_select_related = ["service"]
    date_hierarchy = "service_date"
    # Booked TEU moves only through bookings, which reserve and free it atomically.
    readonly_fields = ["booked_teu"]


@admin.register(VesselCall)
class VesselCallAdmin(admin.ModelAdmin):
    list_display = ["reference", "vessel_name", "imo_number", "voyage", "carrier", "service_code", "terminal", "eta",
                    "etd", "cy_cutoff"]
    list_filter = ["terminal", "carrier"]
    search_fields = ["reference", "vessel_name", "imo_number", "voyage"]
    list_select_related = ["terminal"]
    filter_horizontal = ["destinations"]
    date_hierarchy = "etd"


@admin.register(CarrierDetention)
class CarrierDetentionAdmin(admin.ModelAdmin):
    list_display = ["carrier_scac", "free_days", "per_teu_day", "currency"]
    search_fields = ["carrier_scac"]
