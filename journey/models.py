"""A reporter's own id of an event it reported (`external_id` on POST /api/v1/events/): a retried post of the
same event is a no-op that answers as the first did."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from intermodal.models import Organisation


class ReportedEvent(models.Model):
    """The answer to the first post of an event a reporter names with its own id, unique per reporter. Written in
    the transaction that applied the event, so the event and its id are kept together or not at all; a report
    that was refused leaves no row (sent again, it is tried again)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    external_id = models.CharField(_("reporter's event id"), max_length=100)
    status = models.PositiveSmallIntegerField(_("answer's status"), null=True, blank=True)
    body = models.JSONField(_("answer"), null=True, blank=True)
    created_at = models.DateTimeField(_("reported"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("reported event id")
        verbose_name_plural = _("reported event ids")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "external_id"], name="reported_event_id_once"),
        ]

    def __str__(self):
        return f"{self.organisation_id}:{self.external_id}"
