"""One row per audited fact. Rows are only ever inserted: database triggers refuse UPDATE and DELETE.

Actor and organisation are kept as text, not foreign keys, so an entry outlives the user, key or organisation
it names (a foreign key would have to be nulled or cascade, i.e. the entry changed or lost).
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    LOGIN_SUCCESS = "login.success", _("Login")
    LOGIN_FAILURE = "login.failure", _("Failed login")
    LOGIN_LOCKED_OUT = "login.locked_out", _("Account locked out")
    LOGOUT = "logout", _("Logout")
    KEY_CREATED = "key.created", _("API key created")
    KEY_USED = "key.used", _("API key used")
    KEY_REFUSED = "key.refused", _("API key refused")
    KEY_REVOKED = "key.revoked", _("API key revoked")
    STATUS_CHANGE = "status.change", _("Status change")
    CUSTOMS_DECISION = "customs.decision", _("Customs decision")


class AuditEntry(models.Model):
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    action = models.CharField(_("action"), max_length=40, choices=AuditAction.choices, db_index=True)
    object_type = models.CharField(_("object type"), max_length=40, blank=True, db_index=True)
    object_ref = models.CharField(_("object"), max_length=100, blank=True, db_index=True)
    field = models.CharField(_("field"), max_length=40, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    actor_user_id = models.BigIntegerField(_("user id"), null=True, blank=True)
    actor_username = models.CharField(_("user"), max_length=150, blank=True)
    api_key_prefix = models.CharField(_("API key"), max_length=12, blank=True)
    organisation_code = models.CharField(_("organisation"), max_length=50, blank=True, db_index=True)
    ip_address = models.CharField(_("address"), max_length=45, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        db_table = "audit_entry"
        ordering = ["-at", "-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action} {self.object_type} {self.object_ref}".strip()
