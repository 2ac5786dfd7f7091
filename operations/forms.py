"""Forms of the operations pages: the gate scan, empty hand-out, reports on trains and vessels, tracking.

They check the shape of what people type at a gate or a desk; whether the step may happen is for
journey.services to decide, and its refusals are put on these forms with `add_refusal`.
"""


import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bookings.models import VgmMethod, validate_container_number
from guard.text import normalise_code
from intermodal.errors import ApplicationError
from intermodal.forms import CodeFormField, InputPolicyForm, container_number_widget
from journey.services import FUTURE_TOLERANCE

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
# An actual time a few minutes ahead is a clock out of step; more is a mistake.


def _datetime_widget() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL)


def _datetime_field(label, help_text="", required=False) -> forms.DateTimeField:
    return forms.DateTimeField(label=label, required=required, help_text=help_text, widget=_datetime_widget(),
                               input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"])


def clean_container_number(value: str) -> str:
    number = (value or "").strip().upper().replace(" ", "").replace("-", "")
    validate_container_number(number)
    return number


def add_refusal(form: forms.Form, error: ApplicationError, field_map: dict[str, str] | None = None) -> None:
    """Put a journey refusal on the form: field messages on their fields, the reason above the form."""
    field_map = field_map or {}
    placed = False
    for name, messages in (error.errors or {}).items():
        name = field_map.get(name, name)
        form.add_error(name if name in form.fields else None, list(messages))
        placed = True
    if not placed:
        form.add_error(None, str(error.message))


def refusal_text(error: ApplicationError) -> str:
    """The reason of a refusal in one line, field messages included."""
    details = [str(message) for messages in (error.errors or {}).values() for message in messages]
    return " ".join(details) if details else str(error.message)


class ScanAction:
    GATE_IN = "gate_in"
    TRAIN_LOAD = "train_load"
    # Imports (journey.imports): off the train, out to the consignee, the empty back.
    STATION_DISCHARGE = "station_discharge"
    GATE_OUT = "gate_out"
    EMPTY_RETURN = "empty_return"
    CHOICES = [(GATE_IN, _("Gate in laden")), (TRAIN_LOAD, _("Load on train")),
               (STATION_DISCHARGE, _("Import: discharge from the train")),
               (GATE_OUT, _("Import: gate out to the consignee")), (EMPTY_RETURN, _("Import: take the empty back"))]


# Short enough for a select at the gate; VgmMethod's labels say the whole of it.
SCAN_VGM_METHODS = [(VgmMethod.WEIGHED, _("Method 1 (weighed)")), (VgmMethod.CALCULATED, _("Method 2 (calculated)"))]


class ScanForm(InputPolicyForm, forms.Form):
    """One scan at the station gate or the rail siding: a container number and what happens to it."""

    action = forms.ChoiceField(label=_("Action"), choices=ScanAction.CHOICES, initial=ScanAction.GATE_IN,
                               widget=forms.Select(attrs={"data-scan-action": ""}))
    number = CodeFormField(label=_("Container number"), max_length=13,
                             widget=container_number_widget(**{"data-scan-number": "", "enterkeyhint": "go"}),
                             help_text=_("Scan the code or type the number, e.g. CSQU3054383."))
    seal_number = CodeFormField(label=_("Seal number"), max_length=30, required=False,
                                  widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false",
                                                                "class": "input-code"}))
    vgm_kg = forms.DecimalField(label=_("VGM (kg)"), required=False, min_value=1000, max_value=60000,
                                max_digits=8, decimal_places=1,
                                widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.1"}))
    vgm_method = forms.TypedChoiceField(label=_("VGM method"), choices=SCAN_VGM_METHODS, coerce=int,
                                        initial=VgmMethod.WEIGHED, required=False)
    vgm_signatory = forms.CharField(label=_("VGM signatory"), max_length=100, required=False,
                                    widget=forms.TextInput(attrs={"autocomplete": "off"}))

    GATE_IN_FIELDS = ("seal_number", "vgm_kg", "vgm_method", "vgm_signatory")

    def clean_number(self):
        return clean_container_number(self.cleaned_data["number"])

    def clean_seal_number(self):
        return self.cleaned_data["seal_number"].strip().upper()

    def clean(self):
        data = super().clean()
        if data.get("action") != ScanAction.GATE_IN:
            return data
        if not data.get("seal_number") and "seal_number" not in self.errors:
            self.add_error("seal_number", _("A laden container needs its seal number."))
        kg, signatory = data.get("vgm_kg"), (data.get("vgm_signatory") or "").strip()
        data["vgm_signatory"] = signatory
        # The VGM may follow later from the shipper; if it is given here, it is given whole.
        if kg is not None or signatory:
            if kg is None and "vgm_kg" not in self.errors:
                self.add_error("vgm_kg", _("A VGM needs the mass, the method and the signatory."))
            if not signatory:
                self.add_error("vgm_signatory", _("A VGM needs the mass, the method and the signatory."))
            if not data.get("vgm_method"):
                self.add_error("vgm_method", _("A VGM needs the mass, the method and the signatory."))
        return data

    def vgm(self) -> dict:
        data = self.cleaned_data
        if data.get("vgm_kg") is None:
            return {"vgm_kg": None, "vgm_method": None, "vgm_signatory": None}
        return {"vgm_kg": data["vgm_kg"], "vgm_method": data["vgm_method"], "vgm_signatory": data["vgm_signatory"]}

    def focus_field(self) -> str:
        """Where the cursor goes when the page opens: the first field to fix, else the number for the next scan."""
        for name in self.fields:
            if name in self.errors:
                return name
        return "number"


BULK_HAND_OUT_MAX = 50  # as the help text says
_NUMBER_SEPARATORS = re.compile(r"[\s,;]+")


class HandOutForm(InputPolicyForm, forms.Form):
    """One empty handed out by its number, or several at once (a list pasted or scanned one per line): each is
    handed out on its own, with its own result."""

    number = CodeFormField(label=_("Container number"), max_length=13, required=False,
                           widget=container_number_widget())
    numbers = forms.CharField(
        label=_("Several container numbers"), required=False, max_length=BULK_HAND_OUT_MAX * 14,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off", "spellcheck": "false",
                                     "autocapitalize": "characters"}),
        help_text=_("One per line, or separated by spaces or commas; up to 50 at once."),
    )

    def clean_number(self):
        number = self.cleaned_data["number"]
        return clean_container_number(number) if number else ""

    def clean_numbers(self):
        """The numbers as typed, normalised but not checked: each is checked (and refused) on its own."""
        typed = [normalise_code(n) for n in _NUMBER_SEPARATORS.split(self.cleaned_data["numbers"]) if n.strip()]
        if len(typed) > BULK_HAND_OUT_MAX:
            raise ValidationError(_("At most %(n)s numbers at once.") % {"n": BULK_HAND_OUT_MAX})
        return list(dict.fromkeys(typed))

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("number") and not cleaned.get("numbers") and not self.errors:
            self.add_error("number", _("Enter the container number."))
        return cleaned


class ActualTimeForm(InputPolicyForm, forms.Form):
    """When it happened; empty means now."""

    at = _datetime_field(_("Actual time"), help_text=_("Leave empty for now."))

    def clean_at(self):
        at = self.cleaned_data["at"]
        if at is not None and at > timezone.now() + FUTURE_TOLERANCE:
            raise ValidationError(_("An actual time cannot be in the future."))
        return at


class DepartureDelayForm(InputPolicyForm, forms.Form):
    estimated_departure = _datetime_field(_("New estimated departure"))
    estimated_arrival = _datetime_field(_("New estimated arrival at the terminal"),
                                        help_text=_("Leave empty to move the arrival by the same delay."))
    reason = forms.CharField(label=_("Reason"), max_length=250,
                             help_text=_("Shippers and the port see it, e.g. “Line works near Jinhua”."))

    def clean(self):
        data = super().clean()
        if data.get("estimated_departure") is None and data.get("estimated_arrival") is None and not (
                {"estimated_departure", "estimated_arrival"} & set(self.errors)):
            raise ValidationError(_("Give the new departure or arrival time."))
        return data


class VesselEstimateForm(InputPolicyForm, forms.Form):
    eta = _datetime_field(_("New ETA"))
    etd = _datetime_field(_("New ETD"))
    reason = forms.CharField(label=_("Reason"), max_length=250)

    def clean(self):
        data = super().clean()
        if data.get("eta") is None and data.get("etd") is None and not ({"eta", "etd"} & set(self.errors)):
            raise ValidationError(_("Give the new arrival or departure time."))
        return data


class CorrectionForm(ActualTimeForm):
    """The right time of a step the organisation reported (not in the future, as any actual time), and why the
    first report was wrong."""

    at = _datetime_field(_("Right time"), required=True)
    reason = forms.CharField(label=_("Reason"), max_length=250, required=False,
                             help_text=_("Subscribers see it, e.g. “Entered the loading time by mistake”."))
