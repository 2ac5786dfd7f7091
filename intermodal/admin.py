from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEntry
from intermodal.access import api_key_revoke
from intermodal.admin_mixins import ReadOnlyAdminMixin
from intermodal.models import ApiKey, Event, Organisation, OutboxMessage, User


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_zh", "kind", "city", "province", "is_active"]
    list_filter = ["kind", "is_active", "province"]
    search_fields = ["code", "name", "name_zh"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "email", "organisation", "language", "is_active", "is_staff"]
    list_filter = ["organisation__kind", "is_active", "is_staff"]
    list_select_related = ["organisation"]
    fieldsets = [*BaseUserAdmin.fieldsets, (_("Organisation"), {"fields": ["organisation", "language"]})]
    add_fieldsets = [*BaseUserAdmin.add_fieldsets, (_("Organisation"), {"fields": ["organisation", "language"]})]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["prefix", "name", "organisation", "created_at", "expires_at", "revoked_at", "last_used_at"]
    list_filter = ["organisation__kind"]
    list_select_related = ["organisation"]
    search_fields = ["prefix", "name", "organisation__code"]
    # Keys are made with `manage.py create_api_key` or the API, which show the secret once.
    readonly_fields = ["prefix", "organisation", "created_at", "created_by", "revoked_at", "last_used_at"]
    exclude = ["secret_hash"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request, queryset):
        for key in queryset:
            api_key_revoke(key=key)


@admin.register(Event)
class EventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Events and outbox rows are facts: they are read here, never edited or deleted."""

    list_display = ["event_datetime", "event_type", "event_code", "classifier", "equipment_reference",
                    "transport_reference", "booking_reference", "facility_code", "reported_by_organisation"]
    list_filter = ["event_type", "classifier", "event_code", "mode_of_transport"]
    search_fields = ["equipment_reference", "booking_reference", "transport_reference", "facility_code"]
    list_select_related = ["reported_by_organisation"]
    date_hierarchy = "event_datetime"


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "topic", "created_at", "processed_at"]
    list_filter = ["topic"]


# The audit trail's own app imports nothing of the platform; its entries are shown here, beside keys and users.
@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read only: nobody adds, changes or deletes an entry here (and the database refuses it anyway)."""

    list_display = ["at", "action", "object_type", "object_ref", "before", "after", "actor_username",
                    "api_key_prefix", "organisation_code", "ip_address"]
    list_filter = ["action", "object_type", "organisation_code", "at"]
    search_fields = ["object_ref", "actor_username", "api_key_prefix", "organisation_code", "ip_address"]
    date_hierarchy = "at"
    readonly_fields = [f.name for f in AuditEntry._meta.fields]
