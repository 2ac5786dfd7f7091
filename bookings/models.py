"""Bookings: a shipper's order for container slots on a departure that connects to a vessel call.

An export booking takes its containers from the inland station to the vessel; an import booking (made by the
consignee or its forwarder) takes containers the port announced on an arriving vessel from the terminal to the
inland station, where they wait for the consignee and come back as empties.

Workflows live in services.py; this module holds the data and the invariants the database enforces.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from stdnum import iso6346

from intermodal.models import Organisation
from stations.models import (
    IMDG_CLASSES,
    TEU_BY_SIZE,
    ContainerSize,
    Departure,
    Direction,
    Location,
    Service,
    Station,
    VesselCall,
)


@dataclass(frozen=True)
class SizeTypeInfo:
    size: str  # the tariff's container size: "20", "40" or "45"
    label: str
    reefer: bool = False

    @property
    def teu(self) -> int:
        return TEU_BY_SIZE[self.size]


# ISO 6346 size-type codes we book. First character: length (2 = 20 ft, 4 = 40 ft, L = 45 ft); second: height
# (2 = 8'6", 5 = 9'6" high cube); then the type group (G general, R reefer, U open top, T tank, P flat).
SIZE_TYPES: dict[str, SizeTypeInfo] = {
    "22G1": SizeTypeInfo(ContainerSize.FT20, _("20' general purpose")),
    "42G1": SizeTypeInfo(ContainerSize.FT40, _("40' general purpose")),
    "45G1": SizeTypeInfo(ContainerSize.FT40, _("40' high cube")),
    "L5G1": SizeTypeInfo(ContainerSize.FT45, _("45' high cube")),
    "22R1": SizeTypeInfo(ContainerSize.FT20, _("20' reefer"), reefer=True),
    "45R1": SizeTypeInfo(ContainerSize.FT40, _("40' high cube reefer"), reefer=True),
    "22U1": SizeTypeInfo(ContainerSize.FT20, _("20' open top")),
    "42U1": SizeTypeInfo(ContainerSize.FT40, _("40' open top")),
    "22T1": SizeTypeInfo(ContainerSize.FT20, _("20' tank")),
    "42P1": SizeTypeInfo(ContainerSize.FT40, _("40' flat rack")),
}
# Lazy: the label is put together in the language of the page that shows it, not at import.
SIZE_TYPE_CHOICES = [(code, format_lazy("{} - {}", code, info.label)) for code, info in SIZE_TYPES.items()]


def validate_container_number(value: str) -> None:
    # ASCII only: full-width digits passed the check digit, then failed the table's constraint (a 409).
    if not (value.isascii() and iso6346.is_valid(value)):
        compact = iso6346.compact(value) if value else value
        if len(compact or "") == 11 and compact[:10].isalnum():
            try:
                expected = iso6346.calc_check_digit(compact[:10])
            except Exception:  # noqa: BLE001 - any malformed prefix is a format error below
                expected = None
            if expected is not None:
                raise ValidationError(
                    _("%(value)s is not a valid container number: its check digit should be %(digit)s."),
                    params={"value": value, "digit": expected},
                    code="check_digit",
                )
        raise ValidationError(
            _(
                "%(value)s is not a container number: four letters (owner code and category U, J or Z), six "
                "digits and a check digit, as ISO 6346 sets out."
            ),
            params={"value": value},
            code="format",
        )


un_number_validator = RegexValidator(r"^[0-9]{4}$", _("A UN number is four digits, e.g. 1263."))


class BookingStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    CONFIRMED = "confirmed", _("Confirmed")
    IN_TRANSIT = "in_transit", _("In transit")
    AT_PORT = "at_port", _("At port")
    LOADED = "loaded", _("Loaded")
    SAILED = "sailed", _("Sailed")
    # Imports: the containers arrived at the inland station; every one of them gone to the consignee.
    AT_STATION = "at_station", _("At the inland station")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")


# Slots are held on the departure while a booking is in one of these states.
HOLDS_CAPACITY = (BookingStatus.CONFIRMED, BookingStatus.IN_TRANSIT, BookingStatus.AT_PORT, BookingStatus.LOADED)
# Containers are committed to the booking in these states (a container is in at most one of them).
ACTIVE = (BookingStatus.DRAFT, *HOLDS_CAPACITY)
# A booking can miss its vessel in these states (Booking.is_at_risk); loaded or sailed, it has made it.
AT_RISK_STATUSES = (BookingStatus.CONFIRMED, BookingStatus.IN_TRANSIT, BookingStatus.AT_PORT)
_money = {"max_digits": 12, "decimal_places": 2}


class Booking(models.Model):
    reference = models.CharField(_("reference"), max_length=20, unique=True)
    shipper = models.ForeignKey(
        Organisation, verbose_name=_("shipper"), on_delete=models.PROTECT, related_name="bookings"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    departure = models.ForeignKey(
        Departure, verbose_name=_("departure"), on_delete=models.PROTECT, related_name="bookings"
    )
    vessel_call = models.ForeignKey(
        VesselCall, verbose_name=_("vessel call"), on_delete=models.PROTECT, related_name="bookings"
    )
    # The vessel first booked: a roll changes vessel_call, this stays (on-schedule rate is judged by it).
    original_vessel_call = models.ForeignKey(
        VesselCall, on_delete=models.PROTECT, related_name="+", verbose_name=_("originally booked vessel")
    )
    direction = models.CharField(_("direction"), max_length=6, choices=Direction.choices, default=Direction.EXPORT,
                                 db_default=Direction.EXPORT)
    # For an import, the overseas port the containers were loaded at.
    destination = models.ForeignKey(
        Location, verbose_name=_("destination port"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=12, choices=BookingStatus.choices, default=BookingStatus.DRAFT, db_index=True
    )
    teu = models.PositiveIntegerField(_("TEU"))
    commodity = models.CharField(_("commodity"), max_length=200)
    cargo_weight_kg = models.DecimalField(
        _("cargo weight (kg)"),
        max_digits=10,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("9999999"))],
    )
    un_number = models.CharField(_("UN number"), max_length=4, blank=True, validators=[un_number_validator])
    imdg_class = models.CharField(_("IMDG class"), max_length=3, blank=True, choices=[(c, c) for c in IMDG_CLASSES])
    reefer_setpoint_c = models.DecimalField(
        _("reefer set-point (°C)"),
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("-35")), MaxValueValidator(Decimal("30"))],
    )
    reefer_ventilation_cbm_h = models.PositiveSmallIntegerField(
        _("reefer ventilation (m³/h)"), null=True, blank=True, validators=[MaxValueValidator(300)]
    )
    free_days = models.PositiveSmallIntegerField(
        _("free days at the station"), default=7, validators=[MinValueValidator(0), MaxValueValidator(60)]
    )
    # Free time starts when the first empty is handed out; until then, on the day the booking is confirmed.
    free_time_start = models.DateField(_("free time starts"), null=True, blank=True)

    # The quote as given: a later tariff change does not change it.
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    quote_transport = models.DecimalField(_("rail / barge"), **_money)
    quote_port_handling = models.DecimalField(_("port handling"), **_money)
    quote_documentation = models.DecimalField(_("documentation"), **_money)
    quote_total = models.DecimalField(_("total"), **_money)
    quote_road_haulage = models.DecimalField(_("road haulage alternative"), **_money)
    quote_saving = models.DecimalField(_("saving against road"), **_money)
    quoted_at = models.DateTimeField(_("quoted"))

    roll_count = models.PositiveSmallIntegerField(_("times rolled"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    # The tracking read model (tracking/facts.py): the first report of each kind of the booking's own events
    # (those naming no container), kept by the database as events are written. A look-up reads it with the row.
    facts = models.JSONField(_("tracking facts"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        constraints = [
            models.CheckConstraint(condition=Q(teu__gt=0), name="booking_teu_positive"),
            models.CheckConstraint(condition=Q(cargo_weight_kg__gt=0), name="booking_weight_positive"),
            models.CheckConstraint(condition=Q(status__in=BookingStatus.values), name="booking_status_valid"),
            models.CheckConstraint(condition=Q(direction__in=Direction.values), name="booking_direction_valid"),
            models.CheckConstraint(
                condition=(Q(un_number="") & Q(imdg_class="")) | (~Q(un_number="") & ~Q(imdg_class="")),
                name="booking_dangerous_goods_complete",
            ),
            models.CheckConstraint(
                condition=Q(quote_total__gte=0)
                & Q(quote_saving=models.F("quote_road_haulage") - models.F("quote_total")),
                name="booking_quote_consistent",
            ),
        ]
        indexes = [models.Index(fields=["shipper", "status"], name="booking_shipper_status")]

    def __str__(self):
        return self.reference

    @property
    def is_import(self) -> bool:
        return self.direction == Direction.IMPORT

    @property
    def is_dangerous(self) -> bool:
        return bool(self.un_number)

    @property
    def eta_at_terminal(self):
        """When the containers are expected on the terminal's stack: train arrival plus handling."""
        departure = self.departure
        return departure.expected_arrival + departure.service.terminal.handling_buffer

    @property
    def is_at_risk(self) -> bool:
        """The booked connection no longer makes the vessel's CY cut-off (a delay, or the vessel moved)."""
        if self.status not in AT_RISK_STATUSES or self.is_import:
            return False
        if self.vessel_call.actual_departure is not None:
            return True
        return self.eta_at_terminal > self.vessel_call.cy_cutoff

    @property
    def last_free_day(self) -> date | None:
        """The last day containers may stay at the station free of charge."""
        if self.free_time_start is None:
            return None
        return self.free_time_start + timedelta(days=max(self.free_days - 1, 0))


class BookingLine(models.Model):
    """N containers of one size-type in a booking."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="lines")
    size_type = models.CharField(_("size-type"), max_length=4, choices=SIZE_TYPE_CHOICES)
    quantity = models.PositiveSmallIntegerField(
        _("containers"), validators=[MinValueValidator(1), MaxValueValidator(200)]
    )
    teu = models.PositiveIntegerField(_("TEU"))
    unit_price = models.DecimalField(_("price per container"), **_money)
    unit_road_price = models.DecimalField(_("road haulage per container"), **_money)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["booking", "size_type"], name="booking_line_one_per_size_type"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="booking_line_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.quantity} x {self.size_type}"


class VgmMethod(models.IntegerChoices):
    WEIGHED = 1, _("Method 1: the packed container weighed")
    CALCULATED = 2, _("Method 2: cargo and packing weighed, plus the tare")


class ContainerStatus(models.TextChoices):
    ASSIGNED = "assigned", _("Assigned")
    EMPTY_READY = "empty_ready", _("Empty ready at the station")
    EMPTY_OUT = "empty_out", _("Empty handed out")
    GATED_IN = "gated_in", _("Gated in at the station")
    ON_TRAIN = "on_train", _("Loaded on the train")
    DEPARTED = "departed", _("On the way to the port")
    ARRIVED = "arrived", _("Arrived at the port rail yard")
    DISCHARGED = "discharged", _("Discharged from the train")
    AT_TERMINAL = "at_terminal", _("At the terminal")
    ON_VESSEL = "on_vessel", _("Loaded on the vessel")
    SAILED = "sailed", _("Sailed")
    # Imports, after AT_TERMINAL (discharged from the vessel) and ON_TRAIN (loaded at the terminal):
    ARRIVING = "arriving", _("On the vessel, arriving")
    INLAND = "inland", _("On the way to the station")
    AT_STATION_TRACK = "station_track", _("Arrived at the station")
    AT_STATION = "at_station", _("At the station")
    DELIVERED = "delivered", _("Gated out to the consignee")
    RETURNED = "returned", _("Empty returned")


class Container(models.Model):
    """A container (by its ISO 6346 number) assigned to a booking, with its seal and VGM."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="containers")
    number = models.CharField(_("container number"), max_length=11, validators=[validate_container_number])
    size_type = models.CharField(_("size-type"), max_length=4, choices=SIZE_TYPE_CHOICES)
    status = models.CharField(
        _("status"), max_length=13, choices=ContainerStatus.choices, default=ContainerStatus.ASSIGNED
    )
    # False once the booking is cancelled or the container has sailed: the number may then be booked again.
    is_active = models.BooleanField(default=True)
    seal_number = models.CharField(_("seal number"), max_length=30, blank=True)
    vgm_kg = models.DecimalField(
        _("VGM (kg)"),
        max_digits=8,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("1000")), MaxValueValidator(Decimal("60000"))],
    )
    vgm_method = models.PositiveSmallIntegerField(_("VGM method"), choices=VgmMethod.choices, null=True, blank=True)
    vgm_signatory = models.CharField(_("VGM signatory"), max_length=100, blank=True)
    assigned_at = models.DateTimeField(_("assigned"), auto_now_add=True)
    # When the laden container reached the terminal: it made the vessel only if this is before the CY cut-off.
    terminal_gate_in_at = models.DateTimeField(_("gated in at the terminal"), null=True, blank=True)
    # Imports: discharged at the inland station (demurrage counts from the next day), gated out full to the
    # consignee (detention counts from the next day), the empty returned (where, to hand out again: match-back).
    station_discharge_at = models.DateTimeField(_("discharged at the station"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("gated out to the consignee"), null=True, blank=True)
    returned_at = models.DateTimeField(_("empty returned"), null=True, blank=True)
    # Imports: when no hold was left at the station (AVPU, laden) - the import on-schedule rate is judged by it.
    available_at = models.DateTimeField(_("available for pick-up"), null=True, blank=True)
    # Exports: when the station handed it out empty to the shipper (GTOT, empty) - the match-back share counts it.
    empty_out_at = models.DateTimeField(_("handed out empty"), null=True, blank=True)
    last_event_at = models.DateTimeField(_("last event"), null=True, blank=True)
    # The tracking read model (tracking/facts.py): the first report of each kind of step, kept by the database as
    # events are written. A look-up reads it with the row instead of the events.
    facts = models.JSONField(_("tracking facts"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["booking", "number"]
        verbose_name = _("container")
        verbose_name_plural = _("containers")
        constraints = [
            models.UniqueConstraint(
                fields=["number"], condition=Q(is_active=True), name="container_in_one_active_booking"
            ),
            models.UniqueConstraint(fields=["booking", "number"], name="container_once_per_booking"),
            models.CheckConstraint(
                condition=Q(number__regex=r"^[A-Z]{3}[UJZ][0-9]{7}$"), name="container_number_format"
            ),
            models.CheckConstraint(
                condition=Q(vgm_kg__isnull=True) | (Q(vgm_method__in=[1, 2]) & ~Q(vgm_signatory="")),
                name="container_vgm_complete",
            ),
        ]
        # Tracking by container number: the unique index above holds active containers only, and a box comes back
        # on booking after booking; without this a look-up walked every booking of the shipper. The figures read
        # today's gate-outs, empty returns and empties handed out live (figures/imports.py): small partial indexes.
        indexes = [models.Index(fields=["number"], name="container_number"),
                   models.Index(fields=["delivered_at"], name="container_delivered",
                                condition=Q(delivered_at__isnull=False)),
                   models.Index(fields=["returned_at"], name="container_returned",
                                condition=Q(returned_at__isnull=False)),
                   models.Index(fields=["empty_out_at"], name="container_empty_out",
                                condition=Q(empty_out_at__isnull=False))]

    def __str__(self):
        return self.number

    @property
    def has_vgm(self) -> bool:
        return self.vgm_kg is not None and self.vgm_method is not None and bool(self.vgm_signatory)


class ChangeKind(models.TextChoices):
    CREATED = "created", _("Created")
    CONFIRMED = "confirmed", _("Confirmed")
    AMENDED = "amended", _("Amended")
    ROLLED = "rolled", _("Rolled")
    CANCELLED = "cancelled", _("Cancelled")
    CONTAINER = "container", _("Container details")


class BookingChange(models.Model):
    """The booking's history: who changed what, when, from what to what. Append-only."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="changes")
    kind = models.CharField(max_length=10, choices=ChangeKind.choices)
    at = models.DateTimeField(auto_now_add=True)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    reason = models.CharField(max_length=250, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.booking_id} {self.kind} @ {self.at:%Y-%m-%d %H:%M}"


class EmptyRequestStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    READY = "ready", _("Ready at the station")
    PICKED_UP = "picked_up", _("Picked up")
    CANCELLED = "cancelled", _("Cancelled")


class EmptyRequest(models.Model):
    """A shipper asks the station for N empty containers of one size-type for a booking."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="empty_requests")
    size_type = models.CharField(_("size-type"), max_length=4, choices=SIZE_TYPE_CHOICES)
    quantity = models.PositiveSmallIntegerField(_("containers"), validators=[MinValueValidator(1)])
    handed_out = models.PositiveSmallIntegerField(_("handed out"), default=0)
    status = models.CharField(_("status"), max_length=10, choices=EmptyRequestStatus.choices,
                              default=EmptyRequestStatus.REQUESTED, db_index=True)
    requested_at = models.DateTimeField(_("requested"), auto_now_add=True, db_index=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    ready_at = models.DateTimeField(_("ready"), null=True, blank=True)
    # The last empty of the request handed out: the wait the network is judged by ends here.
    picked_up_at = models.DateTimeField(_("picked up"), null=True, blank=True)

    class Meta:
        ordering = ["requested_at", "id"]
        verbose_name = _("empty container request")
        verbose_name_plural = _("empty container requests")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="empty_request_quantity_positive"),
            models.CheckConstraint(condition=Q(handed_out__lte=models.F("quantity")),
                                   name="empty_request_not_over_handed"),
        ]

    def __str__(self):
        return f"{self.booking_id}: {self.quantity} x {self.size_type}"

    @property
    def wait(self) -> timedelta | None:
        return self.picked_up_at - self.requested_at if self.picked_up_at else None


class FreightTerms(models.TextChoices):
    PREPAID = "prepaid", _("Freight prepaid")
    COLLECT = "collect", _("Freight collect")


class BillOfLadingStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    ISSUED = "issued", _("Issued")


class BillOfLading(models.Model):
    """A booking's bill of lading, issued inland by its station: the shipper's request (the parties and the goods
    as they are to appear on it), then the number, the PDF as issued (kept byte for byte) and its digest."""

    booking = models.OneToOneField(Booking, on_delete=models.PROTECT, related_name="bill_of_lading",
                                   verbose_name=_("booking"))
    status = models.CharField(_("status"), max_length=10, choices=BillOfLadingStatus.choices,
                              default=BillOfLadingStatus.REQUESTED)
    number = models.CharField(_("B/L number"), max_length=24, unique=True, null=True, blank=True)
    shipper_name = models.CharField(_("shipper"), max_length=200)
    shipper_address = models.TextField(_("shipper's address"), max_length=500)
    consignee_name = models.CharField(_("consignee"), max_length=200)
    consignee_address = models.TextField(_("consignee's address"), max_length=500)
    notify_name = models.CharField(_("notify party"), max_length=200)
    notify_address = models.TextField(_("notify party's address"), max_length=500)
    goods_description = models.TextField(_("description of goods"), max_length=1000)
    marks_and_numbers = models.CharField(_("marks and numbers"), max_length=200, blank=True)
    freight_terms = models.CharField(_("freight"), max_length=10, choices=FreightTerms.choices,
                                     default=FreightTerms.PREPAID)
    requested_at = models.DateTimeField(_("requested"), auto_now_add=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+")
    place_of_issue = models.ForeignKey("stations.Station", on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="+", verbose_name=_("place of issue"))
    issued_at = models.DateTimeField(_("issued"), null=True, blank=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+")
    # The secret in the QR code of the PDF: whoever holds the document can check it on the public page.
    verification_token = models.CharField(max_length=43, unique=True, null=True, blank=True)
    pdf = models.BinaryField(null=True, blank=True)
    pdf_sha256 = models.CharField(_("PDF SHA-256"), max_length=64, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("bill of lading")
        verbose_name_plural = _("bills of lading")
        constraints = [
            models.CheckConstraint(
                condition=Q(status=BillOfLadingStatus.REQUESTED)
                | (Q(number__isnull=False) & Q(issued_at__isnull=False) & Q(verification_token__isnull=False)),
                name="bill_of_lading_issued_complete",
            ),
        ]

    def __str__(self):
        return self.number or f"{self.booking_id} (requested)"

    @property
    def is_issued(self) -> bool:
        return self.status == BillOfLadingStatus.ISSUED


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    VALIDATING = "validating", _("Checking rows")
    SAVING = "saving", _("Saving")
    DONE = "done", _("Done")
    FAILED = "failed", _("Not imported")


class BookingImport(models.Model):
    """A CSV of bookings to create, run by a worker: every row or none. Progress and the report of bad rows are
    kept here, where the page polls them."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="booking_imports")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    file_name = models.CharField(_("file"), max_length=200)
    content = models.TextField()
    status = models.CharField(_("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows checked"), default=0)
    # [{"row": 3, "errors": {"departure": ["..."]}}]: row numbers as in the file, the header being row 1.
    errors = models.JSONField(_("bad rows"), default=list, blank=True)
    created_references = models.JSONField(_("bookings created"), default=list, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("booking import")
        verbose_name_plural = _("booking imports")

    def __str__(self):
        return f"{self.file_name} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportStatus.DONE, ImportStatus.FAILED)

    @property
    def percent(self) -> int:
        if self.status == ImportStatus.DONE:
            return 100
        if not self.total_rows:
            return 0
        # Checking is most of the work; saving is one transaction at the end.
        return min(95, round(90 * self.processed_rows / self.total_rows) + (5 if self.status == "saving" else 0))


# --- Figures rolled up by day (bookings/rollups.py) --------------------------------------------------------


class FigureRollup(models.Model):
    """The one row that says up to which day the rollups hold the figures (refreshed by Celery beat)."""

    through_day = models.DateField(_("rolled up through"), null=True, blank=True)
    refreshed_at = models.DateTimeField(_("refreshed"), null=True, blank=True)

    class Meta:
        verbose_name = _("figures rollup")
        verbose_name_plural = _("figures rollup")

    def __str__(self):
        return f"figures rolled up through {self.through_day}"


class RollupSpan(models.TextChoices):
    DAY = "day", _("day")
    MONTH = "month", _("month")


class DayRollup(models.Model):
    """A day (Asia/Shanghai) of one service and its station; its month (the first day) kept beside it, as the
    figures group by month. Beside the days, a row per month (`span` month, `day` its first day) sums the days
    rolled up in it, so a year is read as twelve months, not 365 days (figures/rollups.py)."""

    span = models.CharField(max_length=5, choices=RollupSpan.choices, default=RollupSpan.DAY)
    day = models.DateField()
    month = models.DateField()
    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="+", db_index=False)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+", db_index=False)

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self._meta.model_name} {self.day} {self.service_id}"


class ContainerDay(DayRollup):
    """Containers whose first-booked vessel sailed that day, and those of them loaded on it."""

    containers = models.PositiveIntegerField(default=0)
    on_schedule = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["day", "station"], name="containerday_day")]


class BookingDay(DayRollup):
    """Bookings (holding slots) on the departures planned that day: TEU, containers and the prices quoted."""

    currency = models.CharField(max_length=3)
    bookings = models.PositiveIntegerField(default=0)
    teu = models.PositiveIntegerField(default=0)
    containers = models.PositiveIntegerField(default=0)
    sea_rail = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    road = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    saving = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    class Meta:
        indexes = [models.Index(fields=["day", "station"], name="bookingday_day")]


class DurationHistogram(DayRollup):
    """A histogram of durations: the rows of a day (or month) whose duration falls in `bucket` (a slice of the
    logarithmic scale, intermodal.aggregates.DurationBucket), how many, their total and their shortest and
    longest. Buckets add up over days and stations where exact percentiles would have to sort every value again;
    the figures' medians and 90th percentiles are read from them (figures/rollups.py: exact where a bucket holds
    one or two values, otherwise within the bucket's own spread)."""

    bucket = models.SmallIntegerField()
    total_seconds = models.FloatField(default=0)
    shortest_seconds = models.FloatField()
    longest_seconds = models.FloatField()

    class Meta:
        abstract = True


class EmptyWait(DurationHistogram):
    """Empty-container requests handed out, dated by their request: how long they waited."""

    requests = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["day", "station"], name="emptywait_day")]
