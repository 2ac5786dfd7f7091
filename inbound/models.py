"""Imports: full containers the port announces on an arriving vessel call, for their consignee to book inland, and
the empties they come back as - the inland station's stock for exports (match-back)."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from bookings.models import (
    SIZE_TYPE_CHOICES,
    Booking,
    Container,
    DayRollup,
    DurationHistogram,
    validate_container_number,
)
from intermodal.models import Organisation
from stations.models import Location, Station, VesselCall


class HoldKind(models.TextChoices):
    """What keeps an import container at the station (Terminal49's holds): customs until the declaration is
    released; the carrier's freight hold until freight is paid and the bill surrendered; the terminal's until its
    charges are paid."""

    CUSTOMS = "customs", _("Customs")
    FREIGHT = "freight", _("Freight")
    TERMINAL = "terminal", _("Terminal")


class ArrivingContainer(models.Model):
    """A full container the port (or the carrier) announced on an arriving vessel call, for its consignee to book
    inland: the import manifest line, with the carrier's and terminal's holds."""

    vessel_call = models.ForeignKey(VesselCall, verbose_name=_("vessel call"), on_delete=models.PROTECT,
                                    related_name="arriving_containers")
    number = models.CharField(_("container number"), max_length=11, validators=[validate_container_number])
    size_type = models.CharField(_("size-type"), max_length=4, choices=SIZE_TYPE_CHOICES)
    seal_number = models.CharField(_("seal number"), max_length=30, blank=True)
    gross_weight_kg = models.DecimalField(
        _("gross weight (kg)"), max_digits=8, decimal_places=1,
        validators=[MinValueValidator(Decimal("1000")), MaxValueValidator(Decimal("60000"))])
    bl_number = models.CharField(_("B/L number"), max_length=24)
    port_of_loading = models.ForeignKey(Location, verbose_name=_("port of loading"), on_delete=models.PROTECT,
                                        related_name="+")
    consignee = models.ForeignKey(Organisation, verbose_name=_("consignee"), on_delete=models.PROTECT,
                                  related_name="arriving_containers")
    announced_by = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    announced_at = models.DateTimeField(_("announced"), auto_now_add=True)
    discharged_at = models.DateTimeField(_("discharged from the vessel"), null=True, blank=True)
    freight_hold = models.BooleanField(_("freight hold"), default=False)
    terminal_hold = models.BooleanField(_("terminal hold"), default=False)
    # The import booking that takes it inland; none while the consignee has not booked it.
    booking = models.ForeignKey(Booking, verbose_name=_("booking"), on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="arrivals")

    class Meta:
        ordering = ["vessel_call", "bl_number", "number"]
        verbose_name = _("arriving container")
        verbose_name_plural = _("arriving containers")
        constraints = [
            models.UniqueConstraint(fields=["vessel_call", "number"], name="arrival_once_per_call"),
            models.CheckConstraint(condition=Q(number__regex=r"^[A-Z]{3}[UJZ][0-9]{7}$"),
                                   name="arrival_number_format"),
        ]
        indexes = [models.Index(fields=["consignee", "vessel_call"], name="arrival_consignee_call"),
                   models.Index(fields=["number"], name="arrival_number")]

    def __str__(self):
        return f"{self.number} ({self.vessel_call.reference})"


class ReturnedEmpty(models.Model):
    """An import container returned empty at an inland station: stock the station hands out to an export booking
    of the same size-type instead of bringing an empty from the port (match-back)."""

    number = models.CharField(_("container number"), max_length=11, validators=[validate_container_number])
    size_type = models.CharField(_("size-type"), max_length=4, choices=SIZE_TYPE_CHOICES)
    station = models.ForeignKey(Station, verbose_name=_("station"), on_delete=models.PROTECT,
                                related_name="returned_empties")
    # Whose box it is: an export booking whose vessel is another carrier's may not take it.
    owner_scac = models.CharField(_("owner (carrier SCAC)"), max_length=4, blank=True)
    returned_at = models.DateTimeField(_("returned"))
    import_container = models.OneToOneField(Container, on_delete=models.PROTECT, related_name="returned_empty")
    # Road kilometres an empty from the port would have run to reach this station: saved when it is reused.
    port_distance_km = models.PositiveIntegerField(_("distance from the port (km)"), default=0)
    used_at = models.DateTimeField(_("handed out for an export"), null=True, blank=True)
    used_by = models.OneToOneField(Container, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="matched_empty")

    class Meta:
        ordering = ["returned_at", "id"]
        verbose_name = _("returned empty")
        verbose_name_plural = _("returned empties")
        indexes = [models.Index(fields=["station", "size_type"], name="returned_empty_stock",
                                condition=Q(used_at__isnull=True))]

    def __str__(self):
        return self.number


# --- The import side of the figures, and match-back (figures/imports.py) ------------------------------------


class ImportContainerDay(DayRollup):
    """Import containers due at their inland station that day (by their departure's planned arrival) and judged -
    available for pick-up, or their promised day over - and those of them available by the promised day."""

    containers = models.PositiveIntegerField(default=0)
    on_schedule = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["day", "station"], name="importcontainerday_day")]


class FreeTimeHistogram(DurationHistogram):
    """Import containers whose free-time clock ended that day: how long it ran (the histogram), how many were
    charged, the days charged and the charges, in the clock's currency."""

    currency = models.CharField(max_length=3)
    containers = models.PositiveIntegerField(default=0)
    charged = models.PositiveIntegerField(default=0)
    chargeable_days = models.PositiveIntegerField(default=0)
    charges = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    class Meta:
        abstract = True


class StationDwell(FreeTimeHistogram):
    """Import containers gated out to their consignee, dated by the gate-out: from their discharge at the station
    (dwell), and the demurrage charged."""

    class Meta:
        indexes = [models.Index(fields=["day", "station"], name="stationdwell_day")]


class DetentionTime(FreeTimeHistogram):
    """Import containers returned empty, dated by the return: from the gate-out to the consignee, and the
    detention charged."""

    class Meta:
        indexes = [models.Index(fields=["day", "station"], name="detentiontime_day")]


class MatchBackDay(DayRollup):
    """Empties handed out for exports that day, those of them import returns (match-back), and the road kilometres
    an empty from the port would have run to the station for each of those."""

    empties = models.PositiveIntegerField(default=0)
    matched = models.PositiveIntegerField(default=0)
    km_saved = models.PositiveBigIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["day", "station"], name="matchbackday_day")]
