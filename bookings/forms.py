"""Forms of the booking pages: the wizard's steps, the list's filters and the changes to a booking.

They read their choices through selectors and check the shape of the input; the booking rules (capacity,
cut-offs, dangerous goods, who may change what) stay in services.py, whose refusals the views put on these
forms with `add_application_error`.
"""

from datetime import datetime, time

from django import forms
from django.utils import dateformat, timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from bookings.models import SIZE_TYPE_CHOICES, SIZE_TYPES, Booking, BookingStatus
from intermodal.errors import ApplicationError
from intermodal.forms import CodeFormField, InputPolicyForm, container_number_widget
from stations.models import IMDG_CLASSES, Direction, Location
from stations.selectors import departure_list, station_list, vessel_call_list

CONTAINER_ROWS = 3
DATE_FORMAT_CONTEXT = "date format of departures and cut-offs, see the date template filter"
SEARCH_FIELDS = ["station", "vessel_call", "destination", "latest_sailing"] + [
    name for n in range(1, CONTAINER_ROWS + 1) for name in (f"st{n}", f"q{n}")
]
CHOICE_FIELDS = ["departure", "vessel"]


def local_time(moment) -> str:
    """A moment as the pages show it: in the site's time zone, in the page language's short format."""
    return dateformat.format(timezone.localtime(moment), pgettext(DATE_FORMAT_CONTEXT, "D j M H:i"))


def add_application_error(form: forms.Form, error: ApplicationError) -> None:
    """Put a service's refusal on the form: field messages on their fields, the rest above the form."""
    placed = False
    for name, messages in (error.errors or {}).items():
        form.add_error(name if name in form.fields else None, list(messages))
        placed = True
    if not placed:
        form.add_error(None, str(error.message))


def _station_choices():
    """Stations grouped by province, each as its name and code."""
    grouped: dict[str, list[tuple[str, str]]] = {}
    stations = sorted(station_list(), key=lambda s: (s.display_province, s.display_name))
    for station in stations:
        grouped.setdefault(station.display_province, []).append(
            (station.code, f"{station.display_name} ({station.code})")
        )
    return stations, list(grouped.items())


DESTINATIONS_NAMED = 4  # in a vessel call's label; more are counted


def _destinations(call) -> str:
    """Where the vessel goes (from its prefetched destinations), so a shipper picks the vessel by its ports."""
    places = sorted(call.destinations.all(), key=lambda place: place.unlocode)
    names = [place.display_name for place in places[:DESTINATIONS_NAMED]]
    if len(places) > DESTINATIONS_NAMED:
        names.append(_("+%(n)s more") % {"n": len(places) - DESTINATIONS_NAMED})
    return ", ".join(names)


def vessel_call_label(call) -> str:
    return _("%(vessel)s %(voyage)s · %(terminal)s → %(destinations)s · ETD %(etd)s · CY cut-off %(cutoff)s") % {
        "vessel": call.vessel_name,
        "voyage": call.voyage,
        "terminal": call.terminal.display_name,
        "destinations": _destinations(call) or "–",
        "etd": local_time(call.etd),
        "cutoff": local_time(call.cy_cutoff),
    }


def departure_label(departure) -> str:
    return _("%(when)s to %(terminal)s (%(free)s TEU free, closes %(closing)s)") % {
        "when": local_time(departure.planned_departure),
        "terminal": departure.service.terminal.display_name,
        "free": departure.teu_free,
        "closing": local_time(departure.closing_time),
    }


def _lines_from_rows(form: forms.Form, rows) -> dict[str, int]:
    """Size-type and quantity pairs into {size-type: count}; a half-filled row is an error on its empty half."""
    lines: dict[str, int] = {}
    for size_field, quantity_field in rows:
        size_type = form.cleaned_data.get(size_field)
        quantity = form.cleaned_data.get(quantity_field)
        if size_field in form.errors or quantity_field in form.errors:
            continue
        if size_type and not quantity:
            form.add_error(quantity_field, _("How many %(size_type)s containers?") % {"size_type": size_type})
        elif quantity and not size_type:
            form.add_error(size_field, _("Choose the size-type of these containers."))
        elif size_type:
            lines[size_type] = lines.get(size_type, 0) + quantity
    return lines


SIZE_TYPE_OPTIONS = [("", _("None")), *SIZE_TYPE_CHOICES]


class SearchForm(InputPolicyForm, forms.Form):
    """Step 1: where from, to which vessel (or destination and date), and which containers."""

    station = forms.ChoiceField(label=_("Inland station"))
    vessel_call = forms.ChoiceField(
        label=_("Vessel call"),
        required=False,
        help_text=_("The vessel your containers should make. Or leave it empty and give a destination port."),
    )
    destination = forms.ModelChoiceField(
        label=_("Destination port"),
        queryset=Location.objects.order_by("name"),
        to_field_name="unlocode",
        required=False,
        empty_label=_("Any destination"),
    )
    latest_sailing = forms.DateField(
        label=_("Sailing at the latest on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Only vessels leaving by this date (China Standard Time)."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stations, grouped = _station_choices()
        self._stations = {station.code: station for station in stations}
        self.fields["station"].choices = [("", _("Choose a station")), *grouped]
        now = timezone.now()
        calls = list(
            vessel_call_list().filter(cy_cutoff__gt=now, actual_departure__isnull=True).order_by("etd", "reference")
        )
        self._calls = {call.reference: call for call in calls}
        self.fields["vessel_call"].choices = [
            ("", _("Any vessel to the destination port")),
            *((call.reference, vessel_call_label(call)) for call in calls),
        ]
        self.fields["destination"].label_from_instance = lambda place: f"{place.display_name} ({place.unlocode})"
        for n in range(1, CONTAINER_ROWS + 1):
            self.fields[f"st{n}"] = forms.ChoiceField(
                label=_("Size-type"), choices=SIZE_TYPE_OPTIONS, required=False, initial="42G1" if n == 1 else ""
            )
            self.fields[f"q{n}"] = forms.IntegerField(
                label=_("Containers"),
                min_value=1,
                max_value=200,
                required=False,
                initial=1 if n == 1 else None,
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
            )
        self.lines: dict[str, int] = {}

    def container_rows(self):
        return [(self[f"st{n}"], self[f"q{n}"]) for n in range(1, CONTAINER_ROWS + 1)]

    def clean_station(self):
        return self._stations[self.cleaned_data["station"]]

    def clean_vessel_call(self):
        reference = self.cleaned_data.get("vessel_call")
        return self._calls[reference] if reference else None

    def clean(self):
        cleaned = super().clean()
        rows = [(f"st{n}", f"q{n}") for n in range(1, CONTAINER_ROWS + 1)]
        self.lines = _lines_from_rows(self, rows)
        if not self.lines and not any(name in self.errors for row in rows for name in row):
            self.add_error("st1", _("Request at least one container."))
        if not cleaned.get("vessel_call") and not cleaned.get("destination") and "vessel_call" not in self.errors:
            self.add_error("vessel_call", _("Choose a vessel call, or a destination port."))
        return cleaned

    @property
    def has_reefer(self) -> bool:
        return any(SIZE_TYPES[code].reefer for code in self.lines)

    def search_kwargs(self) -> dict:
        """The arguments of selectors.connections_search."""
        data = self.cleaned_data
        kwargs = {"station": data["station"], "lines": self.lines}
        if data.get("vessel_call"):
            kwargs["vessel_call"] = data["vessel_call"]
        else:
            kwargs["destination"] = data["destination"]
            if data.get("latest_sailing"):
                # The whole day counts, in the site's time zone (China Standard Time).
                kwargs["latest_sailing"] = timezone.make_aware(datetime.combine(data["latest_sailing"], time.max))
        return kwargs


class ConnectionForm(InputPolicyForm, forms.Form):
    """Step 2's choice, carried along: a departure from the station and the vessel call it connects to."""

    departure = forms.ModelChoiceField(
        queryset=departure_list(), to_field_name="reference", widget=forms.HiddenInput
    )
    vessel = forms.ModelChoiceField(
        queryset=vessel_call_list(), to_field_name="reference", widget=forms.HiddenInput
    )

    def __init__(self, *args, station, **kwargs):
        super().__init__(*args, **kwargs)
        self.station = station

    def clean_departure(self):
        departure = self.cleaned_data["departure"]
        if departure.service.station_id != self.station.pk:
            raise forms.ValidationError(_("This departure does not leave from the station chosen."))
        return departure


class CargoForm(InputPolicyForm, forms.Form):
    """Step 3: what goes in the containers and where it goes."""

    mark_optional = True

    destination = forms.ChoiceField(label=_("Destination port"))
    commodity = forms.CharField(
        label=_("Commodity"), max_length=200, help_text=_("What the containers carry, e.g. “Christmas decorations”.")
    )
    cargo_weight_kg = forms.DecimalField(
        label=_("Cargo weight (kg)"),
        min_value=1,
        max_value=9999999,
        max_digits=10,
        decimal_places=1,
        help_text=_("The goods in all the containers together, without the containers themselves."),
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.1"}),
    )
    un_number = forms.RegexField(
        label=_("UN number"),
        regex=r"^[0-9]{4}$",
        required=False,
        max_length=4,
        error_messages={"invalid": _("A UN number is four digits, e.g. 1263.")},
        help_text=_("Dangerous goods only: the four-digit UN number, with the IMDG class."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    imdg_class = forms.ChoiceField(
        label=_("IMDG class"),
        required=False,
        choices=[("", _("Not dangerous goods")), *((c, c) for c in IMDG_CLASSES)],
    )
    reefer_setpoint_c = forms.DecimalField(
        label=_("Reefer set-point (°C)"),
        min_value=-35,
        max_value=30,
        max_digits=4,
        decimal_places=1,
        widget=forms.NumberInput(attrs={"step": "0.1"}),
    )
    reefer_ventilation_cbm_h = forms.IntegerField(
        label=_("Reefer ventilation (m³/h)"),
        min_value=0,
        max_value=300,
        required=False,
        help_text=_("Fresh-air exchange; leave empty for closed vents."),
    )
    free_days = forms.IntegerField(
        label=_("Free days at the station"),
        min_value=0,
        max_value=60,
        initial=7,
        help_text=_("Days the containers may stay at the station free of charge."),
    )

    def __init__(self, *args, vessel_call, has_reefer: bool, default_destination=None, **kwargs):
        kwargs.setdefault("prefix", "cargo")
        super().__init__(*args, **kwargs)
        destinations = list(vessel_call.destinations.all())
        self._destinations = {place.unlocode: place for place in destinations}
        self.fields["destination"].choices = [
            (place.unlocode, f"{place.display_name} ({place.unlocode})") for place in destinations
        ]
        if default_destination is not None and default_destination.unlocode in self._destinations:
            self.fields["destination"].initial = default_destination.unlocode
        elif destinations:
            self.fields["destination"].initial = destinations[0].unlocode
        if not has_reefer:
            del self.fields["reefer_setpoint_c"]
            del self.fields["reefer_ventilation_cbm_h"]

    def clean_destination(self):
        return self._destinations[self.cleaned_data["destination"]]

    def clean(self):
        cleaned = super().clean()
        if bool(cleaned.get("un_number")) != bool(cleaned.get("imdg_class")):
            missing = "imdg_class" if cleaned.get("un_number") else "un_number"
            if missing not in self.errors:
                self.add_error(missing, _("Dangerous goods need both the UN number and the IMDG class."))
        return cleaned

    def booking_fields(self) -> dict:
        """The cargo arguments of services.booking_create."""
        data = self.cleaned_data
        return {
            "destination": data["destination"],
            "commodity": data["commodity"],
            "cargo_weight_kg": data["cargo_weight_kg"],
            "un_number": data.get("un_number") or "",
            "imdg_class": data.get("imdg_class") or "",
            "reefer_setpoint_c": data.get("reefer_setpoint_c"),
            "reefer_ventilation_cbm_h": data.get("reefer_ventilation_cbm_h"),
            "free_days": data["free_days"],
        }


class BookingFilterForm(InputPolicyForm, forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *BookingStatus.choices]
    )
    direction = forms.ChoiceField(
        label=_("Direction"), required=False, choices=[("", _("Both directions")), *Direction.choices]
    )
    station = forms.ChoiceField(label=_("Station"), required=False)
    reference = forms.CharField(
        label=_("Reference"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "BK-2026-000123", "autocomplete": "off"}),
    )
    departs_from = forms.DateField(
        label=_("Departure from"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    departs_to = forms.DateField(
        label=_("Departure to"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _stations, grouped = _station_choices()
        self.fields["station"].choices = [("", _("Any station")), *grouped]

    def filter(self, bookings):
        """The bookings that match the valid filters (an invalid one is shown as an error and ignored)."""
        if self.is_bound:
            self.is_valid()
        data = getattr(self, "cleaned_data", {})
        if data.get("status"):
            bookings = bookings.filter(status=data["status"])
        if data.get("direction"):
            bookings = bookings.filter(direction=data["direction"])
        if data.get("station"):
            bookings = bookings.filter(departure__service__station__code=data["station"])
        if data.get("reference"):
            bookings = bookings.filter(reference__icontains=data["reference"].strip())
        if data.get("departs_from"):
            bookings = bookings.filter(departure__service_date__gte=data["departs_from"])
        if data.get("departs_to"):
            bookings = bookings.filter(departure__service_date__lte=data["departs_to"])
        return bookings

    @property
    def is_filtered(self) -> bool:
        return bool(getattr(self, "cleaned_data", None)) and any(self.cleaned_data.values())


class EmptyRequestForm(InputPolicyForm, forms.Form):
    """Ask the station for empties of one of the booked size-types."""

    size_type = forms.ChoiceField(label=_("Size-type"))
    quantity = forms.IntegerField(label=_("Empty containers"), min_value=1, max_value=200, initial=1)

    def __init__(self, *args, booking, **kwargs):
        kwargs.setdefault("prefix", "empties")
        super().__init__(*args, **kwargs)
        self.fields["size_type"].choices = [(line.size_type, line.size_type) for line in booking.lines.all()]


class OwnContainerForm(InputPolicyForm, forms.Form):
    """The shipper's own container (or one it already has from the carrier) put on the booking by its number,
    instead of an empty from the station. The booking's declaration covers it at once."""

    number = CodeFormField(
        label=_("Container number"), max_length=11, widget=container_number_widget(),
        help_text=_("ISO 6346: four letters, six digits and the check digit, e.g. MSKU1234565."),
    )
    size_type = forms.ChoiceField(label=_("Size-type"))
    seal_number = CodeFormField(label=_("Seal"), max_length=20, required=False)

    def __init__(self, *args, booking, **kwargs):
        kwargs.setdefault("prefix", "container")
        super().__init__(*args, **kwargs)
        self.fields["size_type"].choices = [(line.size_type, line.size_type) for line in booking.lines.all()]


class CancelForm(InputPolicyForm, forms.Form):
    mark_optional = True
    reason = forms.CharField(
        label=_("Reason"), max_length=250, required=False, help_text=_("Shown in the booking's history.")
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "cancel")
        super().__init__(*args, **kwargs)


class AmendForm(InputPolicyForm, forms.Form):
    """New quantities for the booked size-types (0 drops one), one more size-type, and/or another departure."""

    def __init__(self, *args, booking: Booking, departures=(), **kwargs):
        kwargs.setdefault("prefix", "amend")
        super().__init__(*args, **kwargs)
        self.booking = booking
        self.current = {line.size_type: line.quantity for line in booking.lines.all()}
        for code, quantity in self.current.items():
            self.fields[f"qty_{code}"] = forms.IntegerField(
                label=_("%(size_type)s containers") % {"size_type": code},
                min_value=0,
                max_value=200,
                required=False,
                initial=quantity,
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
            )
        self.fields["add_size_type"] = forms.ChoiceField(
            label=_("Add a size-type"),
            required=False,
            choices=[("", _("None")), *((c, label) for c, label in SIZE_TYPE_CHOICES if c not in self.current)],
        )
        self.fields["add_quantity"] = forms.IntegerField(
            label=_("Containers"), min_value=1, max_value=200, required=False
        )
        self._departures = {d.reference: d for d in departures if d.pk != booking.departure_id}
        self.fields["departure"] = forms.ChoiceField(
            label=_("Departure"),
            required=False,
            choices=[
                ("", _("Keep %(departure)s") % {"departure": local_time(booking.departure.planned_departure)}),
                *((ref, departure_label(d)) for ref, d in self._departures.items()),
            ],
            help_text=_("Departures from the same station that still make %(vessel)s %(voyage)s.")
            % {"vessel": booking.vessel_call.vessel_name, "voyage": booking.vessel_call.voyage},
        )
        self.fields["reason"] = forms.CharField(label=_("Reason"), max_length=250, required=False)
        self.lines: dict[str, int] | None = None
        self.departure = None

    def quantity_fields(self):
        return [self[f"qty_{code}"] for code in self.current]

    def clean(self):
        cleaned = super().clean()
        if any(f"qty_{code}" in self.errors for code in self.current):
            return cleaned
        # A quantity left empty stays as booked; 0 drops the size-type.
        wanted = {code: cleaned.get(f"qty_{code}") for code in self.current}
        lines = {code: current if wanted[code] is None else wanted[code] for code, current in self.current.items()}
        lines = {code: quantity for code, quantity in lines.items() if quantity}
        lines.update(_lines_from_rows(self, [("add_size_type", "add_quantity")]))
        self.lines = lines if lines != self.current else None
        self.departure = self._departures.get(cleaned.get("departure") or "")
        if self.lines is None and self.departure is None and not self.errors:
            raise forms.ValidationError(_("Change a quantity, add a size-type or choose another departure."))
        if self.lines == {}:
            raise forms.ValidationError(_("A booking keeps at least one container: cancel it instead."))
        return cleaned


class RollForm(InputPolicyForm, forms.Form):
    """Another vessel call (and, before the train has left, another departure) for a booking."""

    mark_optional = True

    def __init__(self, *args, booking: Booking, vessel_calls=(), departures=(), **kwargs):
        kwargs.setdefault("prefix", "roll")
        super().__init__(*args, **kwargs)
        self._calls = {call.reference: call for call in vessel_calls if call.pk != booking.vessel_call_id}
        self.fields["vessel_call"] = forms.ChoiceField(
            label=_("New vessel call"),
            choices=[("", _("Choose a vessel call")), *((ref, vessel_call_label(c)) for ref, c in self._calls.items())],
            help_text=_("Vessels calling at %(port)s.") % {"port": booking.destination.display_name},
        )
        self._departures = {}
        if booking.status == BookingStatus.CONFIRMED:
            self._departures = {d.reference: d for d in departures if d.pk != booking.departure_id}
            self.fields["departure"] = forms.ChoiceField(
                label=_("Departure"),
                required=False,
                choices=[
                    ("", _("Keep %(departure)s") % {"departure": local_time(booking.departure.planned_departure)}),
                    *((ref, departure_label(d)) for ref, d in self._departures.items()),
                ],
                help_text=_("Choose another departure if the current one arrives too late for the new vessel."),
            )
        self.fields["reason"] = forms.CharField(
            label=_("Reason"), max_length=250, help_text=_("Why the booking moves, e.g. “vessel omitted Ningbo”.")
        )

    def clean_vessel_call(self):
        return self._calls[self.cleaned_data["vessel_call"]]

    def clean_departure(self):
        return self._departures.get(self.cleaned_data.get("departure") or "")
