"""Forms of the import pages: the port's announcement of a vessel's arriving containers (pasted rows), the
consignee's booking of arriving containers inland, and the dates of a report on the vessel.

They check the shape of what is typed; whether the step may happen is for bookings.arrivals and journey.imports
to decide, and their refusals are put on these forms with journey.forms.add_refusal.
"""

import csv
import io

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from bookings.forms import local_time
from bookings.models import Booking
from inbound.api import AnnouncedSerializer
from inbound.models import HoldKind
from inbound.services import MAX_ANNOUNCED, Announced
from intermodal.errors import InvalidInput
from intermodal.forms import InputPolicyForm

# The columns of a pasted row, in order; the last (holds) may be left out.
ANNOUNCE_COLUMNS = ["number", "size_type", "seal_number", "gross_weight_kg", "bl_number", "consignee",
                    "port_of_loading", "holds"]
COLUMN_LABELS = {
    "number": _("container number"), "size_type": _("size-type"), "seal_number": _("seal"),
    "gross_weight_kg": _("weight (kg)"), "bl_number": _("B/L"), "consignee": _("consignee code"),
    "port_of_loading": _("port of loading"), "holds": _("holds"), "non_field_errors": _("row"),
}
HOLD_WORDS = {HoldKind.FREIGHT: HoldKind.FREIGHT, HoldKind.TERMINAL: HoldKind.TERMINAL,
              "运费": HoldKind.FREIGHT, "码头": HoldKind.TERMINAL}


def _hold_flags(text: str) -> dict:
    """`freight`, `terminal`, both (separated by spaces, + or /) or nothing."""
    words = [word for word in text.replace("+", " ").replace("/", " ").lower().split() if word]
    unknown = [word for word in words if word not in HOLD_WORDS]
    if unknown:
        raise ValidationError(gettext("Holds are “freight”, “terminal” or both, not “%(word)s”.")
                              % {"word": unknown[0]})
    kinds = {HOLD_WORDS[word] for word in words}
    return {"freight_hold": HoldKind.FREIGHT in kinds, "terminal_hold": HoldKind.TERMINAL in kinds}


class AnnounceForm(InputPolicyForm, forms.Form):
    """A vessel call's arriving containers, one per line as the carrier's list has them (pasted from a spreadsheet:
    tabs, commas or semicolons). Every row is checked; one wrong row keeps the whole list out, each error named
    by its row and column."""

    rows = forms.CharField(
        label=_("Arriving containers"), max_length=MAX_ANNOUNCED * 120,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false", "autocomplete": "off",
                                     "class": "input-code"}),
        help_text=_("One container per line: number, size-type, seal, weight (kg), B/L, consignee code, port of "
                    "loading, holds (freight, terminal, both or none). A first line of column names is skipped."))

    def clean_rows(self):
        text = self.cleaned_data["rows"]
        lines = [line for line in text.splitlines() if line.strip()]
        if lines and lines[0].split(",")[0].split("\t")[0].split(";")[0].strip().lower() in ("number", "箱号"):
            lines = lines[1:]  # the column names
        if not lines:
            raise ValidationError(_("Paste at least one container."))
        if len(lines) > MAX_ANNOUNCED:
            raise ValidationError(gettext("At most %(n)s containers at once.") % {"n": MAX_ANNOUNCED})
        items, errors = [], []
        for n, line in enumerate(lines, start=1):
            delimiter = "\t" if "\t" in line else (";" if ";" in line and "," not in line else ",")
            cells = [cell.strip() for cell in next(csv.reader(io.StringIO(line), delimiter=delimiter))]
            if len(cells) < len(ANNOUNCE_COLUMNS) - 1 or len(cells) > len(ANNOUNCE_COLUMNS):
                errors.append(gettext("Row %(n)s: %(count)s columns; a row has 7 or 8.")
                              % {"n": n, "count": len(cells)})
                continue
            row = dict(zip(ANNOUNCE_COLUMNS, cells, strict=False))
            row_errors = []
            try:
                row.update(_hold_flags(row.pop("holds", "")))
            except ValidationError as error:
                row_errors.append(_row_error(n, "holds", error.messages))
            row = {name: value for name, value in row.items() if value != "" or name == "seal_number"}
            serializer = AnnouncedSerializer(data=row)
            try:
                valid = serializer.is_valid()
                problems = serializer.errors
            except InvalidInput as error:  # the container number's check digit (bookings.inbound.check_number)
                valid, problems = False, {"number": error.errors.get("containers", [error.message])}
            if not valid:
                row_errors[:0] = [_row_error(n, name, messages) for name, messages in problems.items()]
            if row_errors:
                errors.extend(row_errors)
                continue
            items.append(Announced(**serializer.validated_data))
        if errors:
            raise ValidationError(errors)
        return items


def _row_error(n: int, column: str, messages) -> str:
    return gettext("Row %(n)s, %(column)s: %(message)s") % {
        "n": n, "column": COLUMN_LABELS.get(column, column), "message": " ".join(str(m) for m in messages)}


class ImportBookForm(InputPolicyForm, forms.Form):
    """The consignee books containers announced for it on one vessel call, on an import departure from the
    vessel's terminal: the choices are the containers not booked yet and the departures that can take them."""

    numbers = forms.MultipleChoiceField(label=_("Containers to book"), widget=forms.CheckboxSelectMultiple,
                                        error_messages={"required": _("Tick the containers to book.")})
    departure = forms.ChoiceField(label=_("Import departure"),
                                  help_text=_("Trains and barges from the vessel's terminal that close after its "
                                              "containers can be discharged."))
    commodity = forms.CharField(label=_("Commodity"), max_length=200)

    def __init__(self, *args, arrivals=(), departures=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["numbers"].choices = [(row.number, row.number) for row in arrivals]
        self.fields["departure"].choices = [("", _("Choose a departure"))] + [
            (d.reference, import_departure_label(d)) for d in departures]
        self.departures = {d.reference: d for d in departures}
        if not departures:
            self.fields["departure"].help_text = _("No import departure from the vessel's terminal can take its "
                                                   "containers now.")

    def clean_departure(self):
        return self.departures[self.cleaned_data["departure"]]


def import_departure_label(departure) -> str:
    """An import departure as a consignee chooses it: it leaves the terminal for the inland station."""
    return _("%(when)s to %(station)s (%(free)s TEU free, closes %(closing)s)") % {
        "when": local_time(departure.planned_departure),
        "station": departure.service.station.display_name,
        "free": departure.teu_free,
        "closing": local_time(departure.closing_time),
    }


class ImportMoveForm(InputPolicyForm, forms.Form):
    """Another import departure from the same terminal for an import booking whose containers are not on a train."""

    def __init__(self, *args, booking: Booking, departures=(), **kwargs):
        kwargs.setdefault("prefix", "move")
        super().__init__(*args, **kwargs)
        self._departures = {d.reference: d for d in departures if d.pk != booking.departure_id}
        self.fields["departure"] = forms.ChoiceField(
            label=_("New departure"),
            choices=[("", _("Choose a departure")),
                     *((ref, import_departure_label(d)) for ref, d in self._departures.items())],
            help_text=_("Trains and barges from %(terminal)s that can still take the containers.")
            % {"terminal": booking.vessel_call.terminal.display_name})
        self.fields["reason"] = forms.CharField(label=_("Reason"), max_length=250, required=False,
                                                help_text=_("Shown in the booking's history."))

    def clean_departure(self):
        return self._departures[self.cleaned_data["departure"]]
