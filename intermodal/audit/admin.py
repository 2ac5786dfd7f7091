from django.contrib import admin

from intermodal.admin_mixins import ReadOnlyAdminMixin
from intermodal.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read only: nobody adds, changes or deletes an entry here (and the database refuses it anyway)."""

    list_display = ["at", "action", "object_type", "object_ref", "before", "after", "actor_username",
                    "api_key_prefix", "organisation_code", "ip_address"]
    list_filter = ["action", "object_type", "organisation_code", "at"]
    search_fields = ["object_ref", "actor_username", "api_key_prefix", "organisation_code", "ip_address"]
    date_hierarchy = "at"
    readonly_fields = [f.name for f in AuditEntry._meta.fields]
