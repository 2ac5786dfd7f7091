"""The network: inland stations, port terminals, scheduled services, their departures, and vessel calls."""

import zoneinfo
from datetime import timedelta
from decimal import Decimal

import pycountry
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Mod, StrIndex, Substr
from django.db.models.lookups import Exact
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from stdnum import imo as stdnum_imo

from intermodal.models import Organisation, PartyKind

UNLOCODE_RE = r"^[A-Z]{2}[A-Z2-9]{3}$"
_unlocode_format = RegexValidator(
    UNLOCODE_RE, _("Enter a UN/LOCODE: two letters of the country and three letters or digits 2-9.")
)


def validate_unlocode(value: str) -> None:
    _unlocode_format(value)
    if pycountry.countries.get(alpha_2=value[:2]) is None:
        raise ValidationError(
            _("%(code)s is not a UN/LOCODE: %(country)s is not an ISO 3166 country code."),
            params={"code": value, "country": value[:2]},
            code="invalid_country",
        )


def validate_imo(value: str) -> None:
    if not stdnum_imo.is_valid(value):
        raise ValidationError(
            _("%(value)s is not a valid IMO number: seven digits whose last is the check digit."),
            params={"value": value},
            code="invalid_imo",
        )


def _imo_digit(position: int):
    # STRPOS/INSTR of the character in "0123456789", minus one: the digit's value, with no cast that could
    # raise on a non-digit (the format check refuses those).
    return StrIndex(models.Value("0123456789"), Substr("imo_number", position, 1)) - 1


def imo_check_digit_condition():
    """The IMO check digit as a database check: digits 1-6 weighted 7..2, summed, mod 10 equals digit 7."""
    weighted = sum((_imo_digit(i) * (8 - i) for i in range(2, 7)), start=_imo_digit(1) * 7)
    return Exact(Mod(weighted, 10), _imo_digit(7))


def localised(name: str, name_zh: str) -> str:
    """The name in the active language: Chinese on Chinese pages (English where no Chinese name is known)."""
    return (name_zh or name) if (get_language() or "").startswith("zh") else name


class Localised(models.Model):
    """Names in English and Chinese; `display_name` follows the active language."""

    name = models.CharField(_("name"), max_length=120)
    name_zh = models.CharField(_("name (Chinese)"), max_length=120)

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def display_name(self) -> str:
        return localised(self.name, self.name_zh)


class Location(models.Model):
    """A place known by its UN/LOCODE: a destination port of a vessel call."""

    unlocode = models.CharField(
        _("UN/LOCODE"), max_length=5, primary_key=True, validators=[validate_unlocode]
    )
    name = models.CharField(_("name"), max_length=120)
    name_zh = models.CharField(_("name (Chinese)"), max_length=120, blank=True)
    # What a schedule tells a shipper about the ocean leg: the vessel calls we know are Ningbo-Zhoushan's, so a
    # route's arrival at its destination is the vessel's departure plus this (DCSA Commercial Schedules).
    sea_transit_days = models.PositiveSmallIntegerField(
        _("typical sea transit (days)"), null=True, blank=True, validators=[MinValueValidator(1)],
        help_text=_("From Ningbo-Zhoushan. Without it, routes to this port are not offered in schedules."),
    )

    class Meta:
        ordering = ["unlocode"]
        verbose_name = _("location")
        verbose_name_plural = _("locations")
        constraints = [models.CheckConstraint(condition=Q(unlocode__regex=UNLOCODE_RE), name="location_unlocode")]

    def __str__(self):
        return f"{self.unlocode} {self.name}"

    @property
    def display_name(self) -> str:
        return self.name_zh if (get_language() or "").startswith("zh") and self.name_zh else self.name


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not an IANA time zone."), params={"value": value})


IMDG_CLASSES = ("1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "2.1", "2.2", "2.3", "3", "4.1", "4.2", "4.3", "5.1",
                "5.2", "6.1", "6.2", "7", "8", "9")


def validate_imdg_classes(value) -> None:
    if not isinstance(value, list) or any(c not in IMDG_CLASSES for c in value):
        raise ValidationError(
            _("Dangerous goods classes are a list of IMDG classes: %(classes)s."),
            params={"classes": ", ".join(IMDG_CLASSES)},
        )


class Placed(models.Model):
    """Where it is on the map (WGS 84, degrees); unknown places are left off the map."""

    latitude = models.DecimalField(_("latitude"), max_digits=8, decimal_places=5, null=True, blank=True,
                                   validators=[MinValueValidator(-90), MaxValueValidator(90)])
    longitude = models.DecimalField(_("longitude"), max_digits=8, decimal_places=5, null=True, blank=True,
                                    validators=[MinValueValidator(-180), MaxValueValidator(180)])

    class Meta:
        abstract = True


def _on_earth(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=(Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90))
        & (Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180)),
        name=name,
    )


class Station(Localised, Placed):
    code = models.SlugField(_("code"), max_length=20, unique=True)
    city = models.CharField(_("city"), max_length=60)
    city_zh = models.CharField(_("city (Chinese)"), max_length=60)
    province = models.CharField(_("province"), max_length=60)
    province_zh = models.CharField(_("province (Chinese)"), max_length=60)
    unlocode = models.CharField(_("UN/LOCODE"), max_length=5, validators=[validate_unlocode])
    timezone = models.CharField(_("time zone"), max_length=40, default="Asia/Shanghai", validators=[validate_timezone])
    has_empty_depot = models.BooleanField(_("empty depot"), default=True)
    has_customs_supervision = models.BooleanField(_("customs supervision"), default=True)
    issues_bills_of_lading = models.BooleanField(_("issues bills of lading"), default=False)
    # Imports: how long a full container may wait at the station for its consignee free of charge (from the day
    # after it is discharged there), and the demurrage per TEU for each day beyond.
    import_free_days = models.PositiveSmallIntegerField(
        _("import free days at the station"), default=5, db_default=5, validators=[MaxValueValidator(60)])
    demurrage_per_teu_day = models.DecimalField(
        _("demurrage per TEU and day"), max_digits=8, decimal_places=2, default=Decimal("150"),
        db_default=Decimal("150"), validators=[MinValueValidator(Decimal("0"))])
    operator = models.ForeignKey(
        Organisation,
        verbose_name=_("operator"),
        on_delete=models.PROTECT,
        related_name="operated_stations",
        null=True,
        blank=True,
        limit_choices_to={"kind": PartyKind.STATION_OPERATOR},
    )
    # Customs and border-inspection offices that supervise this station.
    inspection_offices = models.ManyToManyField(
        Organisation,
        verbose_name=_("inspection offices"),
        related_name="covered_stations",
        blank=True,
        limit_choices_to={"kind__in": [PartyKind.CUSTOMS, PartyKind.BORDER_INSPECTION]},
    )

    class Meta:
        ordering = ["province", "city", "code"]
        verbose_name = _("station")
        verbose_name_plural = _("stations")
        constraints = [models.CheckConstraint(condition=Q(unlocode__regex=UNLOCODE_RE), name="station_unlocode"),
                       _on_earth("station_on_earth")]

    @property
    def display_city(self) -> str:
        return self.city_zh if (get_language() or "").startswith("zh") else self.city

    @property
    def display_province(self) -> str:
        return self.province_zh if (get_language() or "").startswith("zh") else self.province


class Terminal(Localised, Placed):
    code = models.SlugField(_("code"), max_length=20, unique=True)
    unlocode = models.CharField(_("UN/LOCODE"), max_length=5, validators=[validate_unlocode])
    port_unlocode = models.CharField(_("port UN/LOCODE"), max_length=5, validators=[validate_unlocode])
    operator = models.ForeignKey(
        Organisation,
        verbose_name=_("operator"),
        on_delete=models.PROTECT,
        related_name="terminals",
        null=True,
        blank=True,
        limit_choices_to={"kind": PartyKind.PORT},
    )
    # Time from a train's or barge's arrival until its containers count as at the terminal's stack.
    handling_buffer_hours = models.PositiveSmallIntegerField(_("handling buffer (hours)"), null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("terminal")
        verbose_name_plural = _("terminals")
        constraints = [
            models.CheckConstraint(
                condition=Q(unlocode__regex=UNLOCODE_RE) & Q(port_unlocode__regex=UNLOCODE_RE),
                name="terminal_unlocodes",
            ),
            _on_earth("terminal_on_earth"),
        ]

    @property
    def handling_buffer(self) -> timedelta:
        if self.handling_buffer_hours is None:
            return settings.TERMINAL_HANDLING_BUFFER
        return timedelta(hours=self.handling_buffer_hours)


class Direction(models.TextChoices):
    """Which way containers travel: exports from the inland station to the vessel, imports the other way."""

    EXPORT = "export", pgettext_lazy("direction", "Export")
    IMPORT = "import", pgettext_lazy("direction", "Import")


class Mode(models.TextChoices):
    RAIL = "RAIL", _("Rail")
    BARGE = "BARGE", _("Barge")


def validate_weekdays(value) -> None:
    if (
        not isinstance(value, list)
        or not value
        or any(not isinstance(d, int) or isinstance(d, bool) or not 1 <= d <= 7 for d in value)
        or len(set(value)) != len(value)
    ):
        raise ValidationError(_("Weekdays are a list of distinct ISO weekday numbers, 1 (Monday) to 7 (Sunday)."))


SHORT_CODE_RE = r"^[A-Z0-9]{1,5}$"
SHORT_CODE_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def short_code_candidates(code: str):
    """The short codes a service of `code` may get, in the order they are tried: the first three letters or digits
    of its code and a two-character counter (YIWU-W-BLG-R: YIW01, YIW02 ...), then S and four characters.
    Deterministic, so the migration that gave existing services theirs and a fresh seed agree."""
    stem = "".join(c for c in code.upper() if c.isascii() and c.isalnum())[:3].ljust(3, "X")
    digits = SHORT_CODE_DIGITS
    for n in range(1, len(digits) ** 2):
        yield stem + digits[n // len(digits)] + digits[n % len(digits)]
    for n in range(1, len(digits) ** 4):
        yield "S" + "".join(digits[n // len(digits) ** p % len(digits)] for p in (3, 2, 1, 0))


def short_code_free(code: str) -> str:
    """The first candidate short code no service has yet."""
    stem = next(short_code_candidates(code))[:3]
    taken = set(Service.objects.filter(Q(short_code__startswith=stem) | Q(short_code__startswith="S"))
                .values_list("short_code", flat=True))
    return next(candidate for candidate in short_code_candidates(code) if candidate not in taken)


class Service(models.Model):
    """A scheduled link between a station and a terminal, run on given weekdays at a local time: an export
    service leaves the station for the terminal, an import service leaves the terminal for the station."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    # DCSA Track & Trace 2.2.0 takes at most 5 characters as carrierServiceCode, fewer than our codes have.
    short_code = models.CharField(
        _("short code"), max_length=5, unique=True, blank=True,
        validators=[RegexValidator(SHORT_CODE_RE, _("Up to 5 capital letters or digits."))],
        help_text=_("Up to 5 capital letters or digits, unique; sent to DCSA Track & Trace partners as the "
                    "carrierServiceCode. Left empty, one is made from the code."),
    )
    station = models.ForeignKey(Station, verbose_name=_("station"), on_delete=models.PROTECT, related_name="services")
    terminal = models.ForeignKey(
        Terminal, verbose_name=_("terminal"), on_delete=models.PROTECT, related_name="services"
    )
    mode = models.CharField(_("mode"), max_length=5, choices=Mode.choices, default=Mode.RAIL)
    direction = models.CharField(_("direction"), max_length=6, choices=Direction.choices, default=Direction.EXPORT,
                                 db_default=Direction.EXPORT, db_index=True)
    operator = models.ForeignKey(
        Organisation,
        verbose_name=_("operator"),
        on_delete=models.PROTECT,
        related_name="services",
        limit_choices_to={"kind": PartyKind.RAILWAY},
    )
    weekdays = models.JSONField(_("weekdays"), validators=[validate_weekdays], help_text=_("ISO weekdays, 1 = Monday."))
    departure_time = models.TimeField(_("departure time (local)"))
    transit_hours = models.PositiveSmallIntegerField(_("transit (hours)"), validators=[MinValueValidator(1)])
    closing_hours = models.PositiveSmallIntegerField(
        _("station closing (hours before departure)"), default=4
    )
    teu_capacity = models.PositiveSmallIntegerField(_("TEU per departure"), validators=[MinValueValidator(1)])
    distance_km = models.PositiveIntegerField(_("distance (km)"), default=0)
    # IMDG classes (as strings: "3", "8", "2.1" ...) this service accepts; empty means none.
    dangerous_goods_classes = models.JSONField(
        _("dangerous goods classes accepted"), default=list, blank=True, validators=[validate_imdg_classes]
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["station__code", "code"]
        verbose_name = _("service")
        verbose_name_plural = _("services")
        constraints = [
            models.CheckConstraint(condition=Q(teu_capacity__gt=0), name="service_capacity_positive"),
            models.CheckConstraint(condition=Q(transit_hours__gt=0), name="service_transit_positive"),
            models.CheckConstraint(condition=Q(mode__in=Mode.values), name="service_mode_valid"),
            models.CheckConstraint(condition=Q(direction__in=Direction.values), name="service_direction_valid"),
            models.CheckConstraint(condition=Q(short_code__regex=SHORT_CODE_RE), name="service_short_code_format"),
        ]

    def __str__(self):
        return self.code

    def save(self, *args, **kwargs):
        # Every way of creating a service (admin, seed, factories) gets a short code; bulk inserts name theirs.
        if not self.short_code:
            self.short_code = short_code_free(self.code)
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "short_code"}
        super().save(*args, **kwargs)

    def clean(self):
        # A form (the admin's) left it empty: the code it will have, so the database's checks pass in validation.
        if not self.short_code and self.code:
            self.short_code = short_code_free(self.code)

    @property
    def is_import(self) -> bool:
        return self.direction == Direction.IMPORT

    @property
    def origin_place(self):
        """Where the service's trains leave from: the station for exports, the terminal for imports."""
        return self.terminal if self.is_import else self.station

    @property
    def destination_place(self):
        return self.station if self.is_import else self.terminal


class CarrierDetention(models.Model):
    """A carrier's free time for its import containers with the consignee (from the gate-out of the full container
    until the empty is returned to an inland station) and the detention per TEU for each day beyond."""

    carrier_scac = models.CharField(_("carrier SCAC"), max_length=4, unique=True,
                                    validators=[RegexValidator(r"^[A-Z]{4}$", _("Four capital letters."))])
    free_days = models.PositiveSmallIntegerField(_("free days with the consignee"), default=14,
                                                 validators=[MaxValueValidator(90)])
    per_teu_day = models.DecimalField(_("detention per TEU and day"), max_digits=8, decimal_places=2,
                                      validators=[MinValueValidator(Decimal("0"))])
    currency = models.CharField(_("currency"), max_length=3, default="CNY")

    class Meta:
        ordering = ["carrier_scac"]
        verbose_name = _("carrier detention terms")
        verbose_name_plural = _("carrier detention terms")
        constraints = [models.CheckConstraint(condition=Q(per_teu_day__gte=0), name="detention_rate_not_negative")]

    def __str__(self):
        return self.carrier_scac


class ContainerSize(models.TextChoices):
    FT20 = "20", _("20 ft")
    FT40 = "40", _("40 ft")
    FT45 = "45", _("45 ft")


# TEU counted per container size (a 45 ft box takes a 40 ft slot on a rail wagon).
TEU_BY_SIZE = {ContainerSize.FT20: 1, ContainerSize.FT40: 2, ContainerSize.FT45: 2}

_money = {"max_digits": 10, "decimal_places": 2, "validators": [MinValueValidator(Decimal("0"))]}


class Tariff(models.Model):
    """Price of one container of a size on a service, beside what road haulage would cost (CNY)."""

    service = models.ForeignKey(Service, verbose_name=_("service"), on_delete=models.CASCADE, related_name="tariffs")
    container_size = models.CharField(_("container size"), max_length=2, choices=ContainerSize.choices)
    transport_price = models.DecimalField(_("rail / barge price"), **_money)
    port_handling = models.DecimalField(_("port handling"), **_money)
    documentation = models.DecimalField(_("documentation"), **_money)
    road_haulage_price = models.DecimalField(_("road haulage alternative"), **_money)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")

    class Meta:
        ordering = ["service", "container_size"]
        verbose_name = _("tariff")
        verbose_name_plural = _("tariffs")
        constraints = [
            models.UniqueConstraint(fields=["service", "container_size"], name="tariff_one_per_size"),
            models.CheckConstraint(
                condition=Q(transport_price__gte=0) & Q(port_handling__gte=0) & Q(documentation__gte=0)
                & Q(road_haulage_price__gte=0),
                name="tariff_prices_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.service.code} {self.container_size}'"

    @property
    def total(self) -> Decimal:
        return self.transport_price + self.port_handling + self.documentation

    @property
    def saving(self) -> Decimal:
        return self.road_haulage_price - self.total


class DepartureStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    CLOSED = "closed", _("Closed")
    DEPARTED = "departed", _("Departed")
    ARRIVED = "arrived", _("Arrived")
    CANCELLED = "cancelled", _("Cancelled")


class Departure(models.Model):
    """One run of a service on a date. `booked_teu` never exceeds `capacity_teu` (a database check)."""

    reference = models.SlugField(_("reference"), max_length=45, unique=True)
    service = models.ForeignKey(Service, verbose_name=_("service"), on_delete=models.PROTECT, related_name="departures")
    service_date = models.DateField(_("date (station local)"))
    capacity_teu = models.PositiveSmallIntegerField(_("capacity (TEU)"))
    booked_teu = models.PositiveSmallIntegerField(_("booked (TEU)"), default=0)
    closing_time = models.DateTimeField(_("station closing time"))
    planned_departure = models.DateTimeField(_("planned departure"), db_index=True)
    planned_arrival = models.DateTimeField(_("planned arrival"))
    estimated_departure = models.DateTimeField(_("estimated departure"), null=True, blank=True)
    estimated_arrival = models.DateTimeField(_("estimated arrival"), null=True, blank=True)
    actual_departure = models.DateTimeField(_("actual departure"), null=True, blank=True)
    actual_arrival = models.DateTimeField(_("actual arrival"), null=True, blank=True)
    # The railway confirmed the train's manifest as loaded: when, and how many containers it then held. A later
    # loading clears it (journey.services.train_load): the manifest changed and is confirmed again.
    manifest_confirmed_at = models.DateTimeField(_("manifest confirmed"), null=True, blank=True)
    manifest_confirmed_containers = models.PositiveIntegerField(_("containers confirmed"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=DepartureStatus.choices, default=DepartureStatus.SCHEDULED
    )
    # The tracking read model (tracking/facts.py): the first report of each kind of its own events, kept by the
    # database as events are written. A look-up reads it with the route instead of the events.
    facts = models.JSONField(_("tracking facts"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["planned_departure", "reference"]
        verbose_name = _("departure")
        verbose_name_plural = _("departures")
        constraints = [
            models.UniqueConstraint(fields=["service", "service_date"], name="departure_one_per_service_day"),
            models.CheckConstraint(condition=Q(booked_teu__lte=F("capacity_teu")), name="departure_not_overbooked"),
            models.CheckConstraint(condition=Q(booked_teu__gte=0), name="departure_booked_not_negative"),
            models.CheckConstraint(condition=Q(capacity_teu__gt=0), name="departure_capacity_positive"),
            models.CheckConstraint(
                condition=Q(closing_time__lte=F("planned_departure")), name="departure_closes_before_leaving"
            ),
            models.CheckConstraint(
                condition=Q(planned_arrival__gt=F("planned_departure")), name="departure_arrives_after_leaving"
            ),
            models.CheckConstraint(
                condition=Q(actual_departure__isnull=True)
                | Q(actual_arrival__isnull=True)
                | Q(actual_arrival__gt=F("actual_departure")),
                name="departure_actual_times_ordered",
            ),
            models.CheckConstraint(condition=Q(status__in=DepartureStatus.values), name="departure_status_valid"),
        ]
        indexes = [models.Index(fields=["service", "planned_departure"], name="departure_service_time")]

    def __str__(self):
        return self.reference

    @property
    def teu_free(self) -> int:
        return self.capacity_teu - self.booked_teu

    @property
    def expected_arrival(self):
        """Best knowledge of the arrival at the terminal: actual, else estimated, else planned."""
        return self.actual_arrival or self.estimated_arrival or self.planned_arrival

    @property
    def expected_departure(self):
        return self.actual_departure or self.estimated_departure or self.planned_departure


class VesselCall(models.Model):
    """An ocean vessel's visit to a terminal, with the cut-offs containers must make."""

    reference = models.SlugField(_("reference"), max_length=40, unique=True)
    vessel_name = models.CharField(_("vessel name"), max_length=100)
    imo_number = models.CharField(_("IMO number"), max_length=7, validators=[validate_imo])
    voyage = models.CharField(_("voyage"), max_length=20)
    carrier = models.CharField(_("carrier"), max_length=60)
    carrier_scac = models.CharField(_("carrier SCAC"), max_length=4, blank=True)
    # The carrier's ocean service (its "string"), as schedules name it: e.g. AEU3, Asia - North Europe 3. Empty by
    # default in the database too: calls written by SQL of their own (bench/dashboard.py) need not name it.
    service_code = models.CharField(_("carrier service code"), max_length=11, blank=True, default="", db_default="")
    service_name = models.CharField(_("carrier service name"), max_length=50, blank=True, default="", db_default="")
    terminal = models.ForeignKey(
        Terminal, verbose_name=_("terminal"), on_delete=models.PROTECT, related_name="vessel_calls"
    )
    eta = models.DateTimeField(_("ETA"))
    etd = models.DateTimeField(_("ETD"), db_index=True)
    cy_cutoff = models.DateTimeField(_("CY cut-off"))
    vgm_cutoff = models.DateTimeField(_("VGM cut-off"))
    si_cutoff = models.DateTimeField(_("shipping instruction cut-off"))
    customs_cutoff = models.DateTimeField(_("customs cut-off"))
    dg_cutoff = models.DateTimeField(_("dangerous goods cut-off"))
    destinations = models.ManyToManyField(Location, verbose_name=_("destination ports"), related_name="vessel_calls")
    # Indexed: the figures read today's sailings live (bookings/rollups.py).
    actual_departure = models.DateTimeField(_("actual departure"), null=True, blank=True, db_index=True)
    # Reported by the port (TRANSPORT ARRI VESSEL): import containers may be discharged from then on.
    actual_arrival = models.DateTimeField(_("actual arrival"), null=True, blank=True)
    # The tracking read model (tracking/facts.py): the first report of each kind of its own events, kept by the
    # database as events are written. A look-up reads it with the route instead of the events.
    facts = models.JSONField(_("tracking facts"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["etd", "reference"]
        verbose_name = _("vessel call")
        verbose_name_plural = _("vessel calls")
        constraints = [
            models.UniqueConstraint(fields=["imo_number", "voyage", "terminal"], name="vessel_call_unique_voyage"),
            models.CheckConstraint(condition=Q(imo_number__regex=r"^[0-9]{7}$"), name="vessel_call_imo_format"),
            models.CheckConstraint(condition=imo_check_digit_condition(), name="vessel_call_imo_check_digit"),
            models.CheckConstraint(condition=Q(etd__gt=F("eta")), name="vessel_call_leaves_after_arriving"),
            models.CheckConstraint(
                condition=Q(cy_cutoff__lte=F("etd"))
                & Q(vgm_cutoff__lte=F("etd"))
                & Q(si_cutoff__lte=F("etd"))
                & Q(customs_cutoff__lte=F("etd"))
                & Q(dg_cutoff__lte=F("etd")),
                name="vessel_call_cutoffs_before_departure",
            ),
        ]

    def __str__(self):
        return f"{self.vessel_name} {self.voyage}"

    @property
    def import_stacked_at(self):
        """When its import containers can be on the terminal's stack: the vessel's arrival plus handling."""
        return (self.actual_arrival or self.eta) + self.terminal.handling_buffer

    def latest_arrival_for(self, terminal: Terminal | None = None):
        """The last time a train or barge may reach the terminal and still make the CY cut-off."""
        return self.cy_cutoff - (terminal or self.terminal).handling_buffer
