"""A booking request in DCSA Booking 2.0.5's words, and the booking it became.

A request is the shipper's DCSA payload as last accepted, the statuses DCSA tracks beside our lifecycle (an update
asked for, an amendment received, a cancellation asked for) and the feedback we gave. Once it names a connection
that takes it, it is a booking of ours - the same as one made on a page or through /api/v1/bookings/ - and the
request's DCSA status follows that booking (bkg.services.dcsa_status).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from bookings.models import Booking
from intermodal.models import Event, Organisation


class RequestStatus(models.TextChoices):
    RECEIVED = "RECEIVED", _("Received")
    PENDING_UPDATE = "PENDING_UPDATE", _("Update asked for")
    UPDATE_RECEIVED = "UPDATE_RECEIVED", _("Update received")
    CONFIRMED = "CONFIRMED", _("Confirmed")
    PENDING_AMENDMENT = "PENDING_AMENDMENT", _("Amendment asked for")
    REJECTED = "REJECTED", _("Rejected")
    DECLINED = "DECLINED", _("Declined")
    CANCELLED = "CANCELLED", _("Cancelled")
    COMPLETED = "COMPLETED", _("Completed")


class AmendmentStatus(models.TextChoices):
    RECEIVED = "AMENDMENT_RECEIVED", _("Amendment received")
    CONFIRMED = "AMENDMENT_CONFIRMED", _("Amendment confirmed")
    DECLINED = "AMENDMENT_DECLINED", _("Amendment declined")
    CANCELLED = "AMENDMENT_CANCELLED", _("Amendment cancelled")


class CancellationStatus(models.TextChoices):
    RECEIVED = "CANCELLATION_RECEIVED", _("Cancellation received")
    DECLINED = "CANCELLATION_DECLINED", _("Cancellation declined")
    CONFIRMED = "CANCELLATION_CONFIRMED", _("Cancellation confirmed")


class BookingRequest(models.Model):
    reference = models.CharField(_("booking request reference"), max_length=20, unique=True)
    shipper = models.ForeignKey(Organisation, verbose_name=_("shipper"), on_delete=models.PROTECT,
                                related_name="booking_requests")
    booking = models.OneToOneField(Booking, verbose_name=_("booking"), on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="dcsa_request")
    # Before there is a booking: where the request stands. After: CONFIRMED, then what the booking says.
    status = models.CharField(_("status"), max_length=20, choices=RequestStatus.choices,
                              default=RequestStatus.RECEIVED)
    amendment_status = models.CharField(_("amendment status"), max_length=20, choices=AmendmentStatus.choices,
                                        blank=True)
    cancellation_status = models.CharField(_("cancellation status"), max_length=25,
                                           choices=CancellationStatus.choices, blank=True)
    # The DCSA payloads: the request (or its last update) and the latest amendment, as the shipper sent them.
    payload = models.JSONField(_("request"))
    amendment = models.JSONField(_("amendment"), null=True, blank=True)
    feedbacks = models.JSONField(_("feedback"), default=list, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("DCSA booking request")
        verbose_name_plural = _("DCSA booking requests")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=RequestStatus.values), name="bkg_request_status"),
        ]

    def __str__(self):
        return self.reference


class BookingNotice(models.Model):
    """What a status change tells the shipper (DCSA's BookingNotificationData, without the booking itself),
    written with the change's event: the relay sends each change as it was, not the state at sending time."""

    request = models.ForeignKey(BookingRequest, on_delete=models.CASCADE, related_name="notices")
    event = models.OneToOneField(Event, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    data = models.JSONField()

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.request} {self.data.get('bookingStatus', '')}"
