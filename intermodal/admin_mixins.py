"""What every app's admin shares; imports nothing of the platform, so any app's admin (the audit trail's
too) may use it."""


class ReadOnlyAdminMixin:
    """Rows that change only through their own lifecycle, or never: shown in the admin, never added, changed or
    deleted there. Put it before the admin class (`class XAdmin(ReadOnlyAdminMixin, admin.ModelAdmin)`); it
    serves model admins and inlines alike (an inline asks with the parent object as `obj`)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
