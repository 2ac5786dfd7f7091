from django import forms
from django.contrib import admin

from intermodal.admin_mixins import ReadOnlyAdminMixin
from notifications import egress
from notifications.models import Delivery, DeliveryAttempt, EmailPreference, Notification, Subscription


class SubscriptionAdminForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")

    def clean_url(self):
        # The egress guard holds here too: the admin is one more way to set a URL the workers post to.
        url = self.cleaned_data["url"]
        try:
            egress.url_check(url)
        except egress.EgressRefused as refused:
            raise forms.ValidationError(str(refused)) from None
        return url


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    form = SubscriptionAdminForm
    list_display = ["subscription_id", "organisation", "name", "url", "format", "is_active", "consecutive_failures"]
    list_filter = ["format", "is_active", "organisation__kind"]
    search_fields = ["name", "url", "subscription_id", "organisation__code"]
    # The secret never shows here: rotate it from the subscription's page or the API.
    exclude = ["secret"]
    readonly_fields = ["subscription_id", "disabled_at", "consecutive_failures", "created_at", "updated_at"]


class AttemptInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    readonly_fields = ["number", "started_at", "status_code", "latency_ms", "error"]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["webhook_id", "subscription", "topic", "status", "attempts", "last_status_code", "created_at"]
    list_filter = ["status", "is_test"]
    search_fields = ["webhook_id", "subscription__url"]
    list_select_related = ["subscription"]
    readonly_fields = [f.name for f in Delivery._meta.fields]
    inlines = [AttemptInline]

    def has_add_permission(self, request):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "created_at", "read_at", "emailed_at"]
    list_filter = ["kind"]
    search_fields = ["user__username", "dedupe_key"]
    readonly_fields = ["user", "kind", "params", "link", "dedupe_key", "created_at", "emailed_at"]


@admin.register(EmailPreference)
class EmailPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "by_email"]
    list_filter = ["kind", "by_email"]
