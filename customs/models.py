"""The single declaration: one customs + border-inspection declaration per booking, decided by both
agencies, inspected at most once, jointly, at the inland station, and released inland (pre-release)."""

from decimal import Decimal

import pycountry
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from bookings.models import Booking, DayRollup, DurationHistogram, un_number_validator
from intermodal.models import Organisation, validate_uscc
from stations.models import Station


def validate_hs_code(value: str) -> None:
    # ASCII digits only: "²³99999999" is digits to str.isdigit() and not to int() (a 500, issue 18).
    if not (len(value) == 10 and value.isascii() and value.isdigit()):
        raise ValidationError(_("An HS code here is 10 digits, e.g. 9503000090."), code="hs_format")
    if not 1 <= int(value[:2]) <= 97:
        raise ValidationError(
            _("%(value)s: HS chapters run from 01 to 97."), params={"value": value}, code="hs_chapter"
        )


def validate_country(value: str) -> None:
    if len(value) != 2 or pycountry.countries.get(alpha_2=value) is None:
        raise ValidationError(
            _("%(value)s is not an ISO 3166 country code (two letters, e.g. CN)."),
            params={"value": value},
            code="country",
        )


currency_validator = RegexValidator(r"^[A-Z]{3}$", _("A currency is three capital letters (ISO 4217), e.g. USD."))


class TradeMode(models.TextChoices):
    GENERAL = "0110", _("General trade (0110)")
    PROCESSING_IMPORTED = "0615", _("Processing with imported materials (0615)")
    PROCESSING_SUPPLIED = "0214", _("Processing with supplied materials (0214)")
    MARKET_PURCHASE = "1039", _("Market procurement trade (1039)")
    ECOMMERCE = "9610", _("Cross-border e-commerce (9610)")


class TransportMode(models.TextChoices):
    RAIL_TO_VESSEL = "rail_vessel", _("Rail to vessel")
    BARGE_TO_VESSEL = "barge_vessel", _("Barge to vessel")
    # Imports, declared for the inland station: transit from the port under customs control, cleared inland.
    VESSEL_TO_RAIL = "vessel_rail", _("Vessel to rail (import)")
    VESSEL_TO_BARGE = "vessel_barge", _("Vessel to barge (import)")


EXPORT_MODES = (TransportMode.RAIL_TO_VESSEL, TransportMode.BARGE_TO_VESSEL)
IMPORT_MODES = (TransportMode.VESSEL_TO_RAIL, TransportMode.VESSEL_TO_BARGE)


class DeclarationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    INSPECTION_REQUIRED = "inspection_required", _("Inspection required")
    INSPECTED = "inspected", _("Inspected")
    RELEASED = "released", _("Released")
    REJECTED = "rejected", _("Rejected")


class Agency(models.TextChoices):
    CUSTOMS = "customs", _("Customs")
    BORDER_INSPECTION = "border_inspection", _("Border inspection")


class Declaration(models.Model):
    """One version of a booking's single declaration. A rejected one is amended as a new version.

    It covers the goods of the whole booking, so every container of the booking: those with numbers when it is
    drafted and those that get one later (handed out as empties, entered by the shipper, gated in). The containers
    are read from the booking, never copied, so a declaration drafted before any number exists covers them all.
    """

    reference = models.CharField(_("reference"), max_length=24, unique=True)
    booking = models.ForeignKey(
        Booking, verbose_name=_("booking"), on_delete=models.PROTECT, related_name="declarations"
    )
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    previous = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="next_version"
    )
    declarant = models.ForeignKey(
        Organisation, verbose_name=_("declarant"), on_delete=models.PROTECT, related_name="declarations"
    )
    declarant_uscc = models.CharField(_("unified social credit code"), max_length=18, validators=[validate_uscc])
    station = models.ForeignKey(
        Station, verbose_name=_("station"), on_delete=models.PROTECT, related_name="declarations"
    )
    trade_mode = models.CharField(_("trade mode"), max_length=4, choices=TradeMode.choices)
    transport_mode = models.CharField(_("transport"), max_length=12, choices=TransportMode.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=DeclarationStatus.choices, default=DeclarationStatus.DRAFT, db_index=True
    )
    # Why risk selection chose (or did not choose) an inspection: [{"rule": ..., "reason": ...}].
    risk_reasons = models.JSONField(_("risk reasons"), default=list, blank=True)
    risk_selected = models.BooleanField(_("selected for inspection"), default=False)
    rejection_reason = models.CharField(_("rejection reason"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    released_at = models.DateTimeField(_("released"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("single declaration")
        verbose_name_plural = _("single declarations")
        constraints = [
            models.UniqueConstraint(fields=["booking", "version"], name="declaration_version_once"),
            models.CheckConstraint(condition=Q(status__in=DeclarationStatus.values), name="declaration_status_valid"),
            models.CheckConstraint(condition=Q(version__gte=1), name="declaration_version_positive"),
        ]
        indexes = [
            models.Index(fields=["station", "status", "submitted_at"], name="declaration_queue"),
            # The figures read the declarations of today (submitted, released) live (bookings/rollups.py).
            models.Index(fields=["submitted_at"], name="declaration_submitted"),
            models.Index(fields=["released_at"], name="declaration_released"),
        ]

    def __str__(self):
        return self.reference

    @property
    def total_value(self) -> Decimal:
        return sum((line.value for line in self.lines.all()), Decimal("0"))

    @property
    def total_gross_kg(self) -> Decimal:
        return sum((line.gross_weight_kg for line in self.lines.all()), Decimal("0"))

    @property
    def containers(self):
        """The containers this declaration covers: the booking's."""
        return self.booking.containers.order_by("number")

    @property
    def is_current(self) -> bool:
        return not hasattr(self, "next_version") or self.next_version is None


# What the declarant gives for each goods line, in this order: the declaration form's columns, the API's line
# fields (after the platform's `line_no`), what the services read and copy into an amendment.
GOODS_LINE_FIELDS = ("hs_code", "description", "quantity", "unit", "gross_weight_kg", "value", "currency",
                     "origin_country", "un_number")
# The goods-line fields that are codes: normalised (NFKC, upper case, no spaces or hyphens) on the way in.
GOODS_LINE_CODES = ("hs_code", "currency", "origin_country", "un_number")
# At most this many goods lines in one declaration, as on China Customs' declaration form (50 items); more is
# refused before any is checked (2,000 lines once held a web worker past its timeout).
MAX_GOODS_LINES = 50
# At most this many containers covered by one declaration (a booking's containers, 200 per size-type at most).
MAX_DECLARATION_CONTAINERS = 500


class GoodsLine(models.Model):
    declaration = models.ForeignKey(Declaration, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveSmallIntegerField(_("line"))
    hs_code = models.CharField(_("HS code"), max_length=10, validators=[validate_hs_code])
    description = models.CharField(_("description"), max_length=300)
    quantity = models.DecimalField(
        _("quantity"), max_digits=12, decimal_places=3, validators=[MinValueValidator(Decimal("0.001"))]
    )
    unit = models.CharField(_("unit"), max_length=10)
    gross_weight_kg = models.DecimalField(
        _("gross weight (kg)"), max_digits=10, decimal_places=1, validators=[MinValueValidator(Decimal("0.1"))]
    )
    value = models.DecimalField(
        _("value"),
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("1e12"))],
    )
    currency = models.CharField(_("currency"), max_length=3, validators=[currency_validator])
    origin_country = models.CharField(_("origin"), max_length=2, validators=[validate_country])
    un_number = models.CharField(_("UN number"), max_length=4, blank=True, validators=[un_number_validator])

    class Meta:
        ordering = ["declaration", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["declaration", "line_no"], name="goods_line_once"),
            models.CheckConstraint(
                condition=Q(hs_code__regex=r"^(0[1-9]|[1-8][0-9]|9[0-7])[0-9]{8}$"), name="goods_line_hs_code"
            ),
            models.CheckConstraint(
                condition=Q(value__gt=0) & Q(quantity__gt=0) & Q(gross_weight_kg__gt=0), name="goods_line_positive"
            ),
        ]

    def __str__(self):
        return f"{self.hs_code} {self.description}"

    @property
    def hs_chapter(self) -> str:
        return self.hs_code[:2]


class DecisionKind(models.TextChoices):
    CLEAR = "clear", _("Clear")
    INSPECT = "inspect", _("Inspect")
    REJECT = "reject", _("Reject")


class Decision(models.Model):
    """One agency's decision on one version; append-only."""

    declaration = models.ForeignKey(Declaration, on_delete=models.CASCADE, related_name="decisions")
    agency = models.CharField(_("agency"), max_length=20, choices=Agency.choices)
    kind = models.CharField(_("decision"), max_length=10, choices=DecisionKind.choices)
    reason = models.CharField(_("reason"), max_length=500)
    officer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.declaration_id} {self.agency} {self.kind}"


class InspectionResult(models.TextChoices):
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed")


class Inspection(models.Model):
    """The one joint inspection of customs and border inspection at the station: one appointment, one result."""

    declaration = models.OneToOneField(Declaration, on_delete=models.CASCADE, related_name="inspection")
    requested_by = models.CharField(_("requested by"), max_length=40)  # the agencies that asked for it
    appointment_at = models.DateTimeField(_("appointment"), null=True, blank=True)
    place = models.CharField(_("place"), max_length=200, blank=True)
    result = models.CharField(_("result"), max_length=10, choices=InspectionResult.choices, blank=True)
    findings = models.TextField(_("findings"), blank=True)
    recorded_at = models.DateTimeField(_("result recorded"), null=True, blank=True)

    class Meta:
        verbose_name = _("joint inspection")

    def __str__(self):
        return f"{self.declaration_id} {self.result or 'pending'}"


class RiskRuleKind(models.TextChoices):
    HS_CHAPTER = "hs_chapter", _("HS chapters")
    VALUE_ABOVE = "value_above", _("Declared value above")
    DANGEROUS_GOODS = "dangerous_goods", _("Dangerous goods")
    DECLARANT_HISTORY = "declarant_history", _("Declarant's rejections")
    RANDOM = "random", _("Random sample")


class RiskRule(models.Model):
    """A rule officers can see and tune: which declarations are selected for the joint inspection."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=RiskRuleKind.choices)
    agency = models.CharField(_("agency"), max_length=20, choices=Agency.choices)
    # hs_chapter: {"chapters": ["93", "36"]}; value_above: {"amount": "500000", "currency": "USD"};
    # declarant_history: {"rejections": 2, "days": 365}; random: {"rate": "0.05"}.
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["agency", "name"]
        verbose_name = _("risk rule")
        verbose_name_plural = _("risk rules")

    def __str__(self):
        return self.name


# --- Figures rolled up by day (bookings/rollups.py) --------------------------------------------------------


class ClearanceTime(DurationHistogram):
    """Declarations released, dated by their release: submitted -> released, and how many were inspected."""

    declarations = models.PositiveIntegerField(default=0)
    inspected = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["day", "station"], name="clearancetime_day")]


class CargoDay(DayRollup):
    """Goods declared that day (submitted) by HS chapter: gross weight and lines."""

    chapter = models.CharField(max_length=2)
    gross_weight_kg = models.DecimalField(max_digits=18, decimal_places=3, default=0)
    lines = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["day", "station"], name="cargoday_day")]
