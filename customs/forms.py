"""Forms of the declaration pages: the shipper's declaration (with a fixed number of goods-line rows), the
officers' queue filters, decision, inspection appointment and inspection result.

They check the shape of the input; the customs rules stay in customs/services.py, whose refusals the views
put on these forms with `add_declaration_error` (goods-line errors "lines.<i>.<field>" go to their row).
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from customs.models import GOODS_LINE_FIELDS, DecisionKind, GoodsLine, InspectionResult, TradeMode, TransportMode
from intermodal.errors import ApplicationError
from intermodal.forms import CodeFormField, InputPolicyForm

LINE_ROWS = 3
# A row with none of these filled in is a blank row and ignored (currency and origin come prefilled).
LINE_CONTENT = tuple(name for name in GOODS_LINE_FIELDS if name not in ("currency", "origin_country"))
# A row that is not blank needs these (the ones the model does not let be blank).
LINE_REQUIRED = tuple(name for name in GOODS_LINE_FIELDS if not GoodsLine._meta.get_field(name).blank)


def _line_fields() -> dict[str, forms.Field]:
    decimal = {"inputmode": "decimal"}
    return {
        "hs_code": CodeFormField(
            label=_("HS code"),
            max_length=10,
            required=False,
            widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "9503008900", "autocomplete": "off"}),
        ),
        "description": forms.CharField(label=_("Description"), max_length=300, required=False),
        "quantity": forms.DecimalField(
            label=_("Quantity"), required=False, max_digits=12, decimal_places=3,
            widget=forms.NumberInput(attrs={**decimal, "step": "any"}),
        ),
        "unit": forms.CharField(
            label=_("Unit"), max_length=10, required=False, widget=forms.TextInput(attrs={"placeholder": "pcs"})
        ),
        "gross_weight_kg": forms.DecimalField(
            label=_("Gross weight (kg)"), required=False, max_digits=10, decimal_places=1,
            widget=forms.NumberInput(attrs={**decimal, "step": "0.1"}),
        ),
        "value": forms.DecimalField(
            label=_("Value"), required=False, max_digits=14, decimal_places=2,
            widget=forms.NumberInput(attrs={**decimal, "step": "0.01"}),
        ),
        "currency": CodeFormField(label=_("Currency"), max_length=3, required=False, initial="USD"),
        "origin_country": CodeFormField(label=_("Origin country"), max_length=2, required=False, initial="CN"),
        "un_number": CodeFormField(
            label=_("UN number"), max_length=4, required=False, widget=forms.TextInput(attrs={"inputmode": "numeric"})
        ),
    }


class DeclarationForm(InputPolicyForm, forms.Form):
    """The single declaration of a booking: declarant, modes and goods lines. It covers every container of the
    booking, those numbered later included, so the shipper need not wait for numbers to declare."""

    declarant_uscc = CodeFormField(
        label=_("Declarant USCC"),
        max_length=18,
        help_text=_("The unified social credit code of the declaring enterprise (18 characters)."),
    )
    trade_mode = forms.ChoiceField(label=_("Trade mode"), choices=TradeMode.choices)
    transport_mode = forms.ChoiceField(label=_("Transport mode"), choices=TransportMode.choices)

    def __init__(self, *args, booking, declaration=None, **kwargs):
        super().__init__(*args, **kwargs)
        lines = list(declaration.lines.all()) if declaration is not None else []
        self.rows = max(LINE_ROWS, len(lines) + 1) if declaration is not None else LINE_ROWS
        for row in range(self.rows):
            for name, field in _line_fields().items():
                self.fields[f"line{row}_{name}"] = field
        if declaration is not None:
            self.initial.update(
                declarant_uscc=declaration.declarant_uscc,
                trade_mode=declaration.trade_mode,
                transport_mode=declaration.transport_mode,
            )
            for row, line in enumerate(lines):
                for name in GOODS_LINE_FIELDS:
                    self.initial[f"line{row}_{name}"] = getattr(line, name)
        else:
            self.initial.setdefault("declarant_uscc", booking.shipper.uscc)
        self.line_rows: list[int] = []  # the form rows sent to the service, in order

    def line_table(self):
        """Rows of bound fields for the template: [(row number, [bound field, ...]), ...]."""
        return [(row + 1, [self[f"line{row}_{name}"] for name in GOODS_LINE_FIELDS]) for row in range(self.rows)]

    def clean(self):
        cleaned = super().clean()
        self.line_rows = []
        for row in range(self.rows):
            values = {name: cleaned.get(f"line{row}_{name}") for name in GOODS_LINE_FIELDS}
            raw = {name: (self.data.get(self.add_prefix(f"line{row}_{name}")) or "").strip()
                   for name in GOODS_LINE_FIELDS}
            if not any(raw[name] for name in LINE_CONTENT):
                continue
            self.line_rows.append(row)
            for name in LINE_REQUIRED:
                field = f"line{row}_{name}"
                if values[name] in (None, "") and field not in self.errors:
                    self.add_error(field, _("This field is required."))
        if not self.line_rows:
            self.add_error(None, _("Declare at least one goods line."))
        return cleaned

    def lines(self) -> list[dict]:
        """The goods lines as customs.services takes them (blank rows left out)."""
        data = self.cleaned_data
        lines = []
        for row in self.line_rows:
            line = {}
            for name in GOODS_LINE_FIELDS:
                value = data.get(f"line{row}_{name}")
                if isinstance(value, str):
                    value = value.strip()
                    if name in ("currency", "origin_country"):
                        value = value.upper()
                line[name] = "" if value is None else value
            lines.append(line)
        return lines

    def service_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "declarant_uscc": data["declarant_uscc"].strip().upper(),
            "trade_mode": data["trade_mode"],
            "transport_mode": data["transport_mode"],
            "lines": self.lines(),
        }


def add_declaration_error(form: forms.Form, error: ApplicationError) -> None:
    """Put a service's refusal on the form: goods-line errors on their row, field errors on their field, the rest
    above the form."""
    placed = False
    rows = getattr(form, "line_rows", [])
    for key, messages in (error.errors or {}).items():
        name = key
        if key.startswith("lines."):
            _lines, index, field = (key.split(".", 2) + ["", ""])[:3]
            row = rows[int(index)] if index.isdigit() and int(index) < len(rows) else None
            name = f"line{row}_{field}" if row is not None else ""
        elif key == "decision":
            name = "kind"
        form.add_error(name if name in form.fields else None, [str(m) for m in messages])
        placed = True
    if not placed:
        form.add_error(None, str(error.message))


class QueueFilterForm(InputPolicyForm, forms.Form):
    station = forms.ChoiceField(label=_("Station"), required=False)
    older_than_hours = forms.IntegerField(
        label=_("Waiting longer than (hours)"), required=False, min_value=1, max_value=24 * 90,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    risk = forms.ChoiceField(
        label=_("Risk selection"),
        required=False,
        choices=[("", _("Any")), ("yes", _("Selected for inspection")), ("no", _("Not selected"))],
    )

    def __init__(self, *args, stations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["station"].choices = [
            ("", _("All your stations")),
            *((s.code, f"{s.display_name} ({s.code})") for s in stations),
        ]

    def queue_kwargs(self) -> dict:
        """The filter arguments of customs.selectors.declaration_queue (invalid filters are ignored)."""
        if not self.is_bound or not self.is_valid():
            data = {k: v for k, v in getattr(self, "cleaned_data", {}).items() if k not in self.errors}
        else:
            data = self.cleaned_data
        risk = data.get("risk")
        return {
            "station": data.get("station") or "",
            "older_than_hours": data.get("older_than_hours"),
            "risk": {"yes": True, "no": False}.get(risk),
        }

    @property
    def is_filtered(self) -> bool:
        return bool(getattr(self, "cleaned_data", None)) and any(
            v not in (None, "") for v in self.cleaned_data.values()
        )


class DecisionForm(InputPolicyForm, forms.Form):
    kind = forms.ChoiceField(label=_("Decision"), choices=DecisionKind.choices, widget=forms.RadioSelect)
    reason = forms.CharField(
        label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Shown to the declarant and to the other agency."),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "decision")
        super().__init__(*args, **kwargs)


class BulkClearForm(InputPolicyForm, forms.Form):
    """Officers clear several declarations of their queue at once, with one reason."""

    references = forms.MultipleChoiceField(label=_("Declarations"), error_messages={
        "required": _("Select the declarations to clear.")})
    reason = forms.CharField(
        label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Recorded on each declaration, shown to its declarant and to the other agency."),
    )

    def __init__(self, *args, references=(), **kwargs):
        kwargs.setdefault("prefix", "bulk")
        super().__init__(*args, **kwargs)
        self.fields["references"].choices = [(reference, reference) for reference in references]


class ScheduleForm(InputPolicyForm, forms.Form):
    appointment_at = forms.DateTimeField(
        label=_("Appointment"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("China Standard Time (Asia/Shanghai)."),
    )
    place = forms.CharField(label=_("Place"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "schedule")
        super().__init__(*args, **kwargs)


class ResultForm(InputPolicyForm, forms.Form):
    result = forms.ChoiceField(label=_("Result"), choices=InspectionResult.choices, widget=forms.RadioSelect)
    findings = forms.CharField(label=_("Findings"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "result")
        super().__init__(*args, **kwargs)
