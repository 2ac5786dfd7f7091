from django import forms
from django.utils.translation import gettext_lazy as _

from intermodal.forms import InputPolicyForm
from notifications.models import DeliveryStatus, NotificationKind
from notifications.services import EVENT_KINDS
from stations.models import Station


def _kind_label(kind: str) -> str:
    if kind == "*":
        return str(_("Every event"))
    event_type, code = kind.split(".")
    if code == "*":
        return str(_("Every %(type)s event") % {"type": event_type.upper()})
    return f"{event_type.upper()} {code.upper()}"


class SubscriptionForm(InputPolicyForm, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, required=False,
                           help_text=_("So you know it again, e.g. “ERP production”."))
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https",
                         help_text=_("We POST each event here as JSON, signed per Standard Webhooks."))
    event_kinds = forms.MultipleChoiceField(
        label=_("Event kinds"), choices=[(k, _kind_label(k)) for k in EVENT_KINDS],
        widget=forms.SelectMultiple(attrs={"size": 10}), initial=["*"],
        help_text=_("Hold Ctrl (or ⌘) to choose several."))
    station_code = forms.ChoiceField(label=_("Only at station"), required=False)
    booking_reference = forms.CharField(label=_("Only for booking"), max_length=20, required=False)
    equipment_reference = forms.CharField(label=_("Only for container"), max_length=15, required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    mark_optional = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["station_code"].choices = [("", _("Any station"))] + [
            (s.code, f"{s.display_name} ({s.code})") for s in Station.objects.order_by("code")]

    def clean_booking_reference(self):
        return self.cleaned_data["booking_reference"].strip().upper()

    def clean_equipment_reference(self):
        return self.cleaned_data["equipment_reference"].strip().upper()


class DeliveryFilterForm(InputPolicyForm, forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("Any status"))] + list(DeliveryStatus.choices))


class EmailPreferencesForm(InputPolicyForm, forms.Form):
    """One checkbox per kind of notification: also by email."""

    def __init__(self, *args, chosen: dict[str, bool], **kwargs):
        super().__init__(*args, **kwargs)
        for kind, label in NotificationKind.choices:
            self.fields[kind] = forms.BooleanField(label=label, required=False, initial=chosen[kind])
