"""Writes on subscriptions: create, change, rotate the secret, send a test, delete. Always for the caller's own
organisation; the secret is returned once, when it is made."""

import base64
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from edi.iftsta import iftsta_interchange
from intermodal.access import Actor
from intermodal.codes import CODES_BY_TYPE, EventType
from intermodal.errors import InvalidInput, NotAllowed
from intermodal.models import PartyKind
from notifications import egress
from notifications.delivery import deliveries_dispatch
from notifications.models import Delivery, Subscription, SubscriptionFormat, standard_secret
from notifications.relay import json_body, webhook_id_new
from stations.models import Station

# The kinds a subscription may ask for: every event type and code, "type.*", and "*".
EVENT_KINDS = ["*"] + [
    kind for event_type in EventType.values
    for kind in [f"{event_type.lower()}.*"] + [f"{event_type.lower()}.{code.lower()}"
                                             for code in sorted(CODES_BY_TYPE[event_type])]
]


def dcsa_secret() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def _require_org(actor: Actor):
    if actor.organisation is None:
        raise NotAllowed(_("Sign in as a member of an organisation."), code="no_organisation")
    if actor.organisation.kind == PartyKind.LOCAL_GOVERNMENT:
        raise NotAllowed(_("Local government receives no event webhooks: it sees aggregates only."),
                         code="no_webhooks_for_party")
    return actor.organisation


def _clean(fields: dict) -> dict:
    errors: dict[str, list[str]] = {}
    kinds = fields.get("event_kinds")
    if kinds is not None:
        if not isinstance(kinds, list) or not kinds:
            errors["event_kinds"] = [_("Choose at least one kind of event.")]
        else:
            unknown = [k for k in kinds if k not in EVENT_KINDS]
            if unknown:
                errors["event_kinds"] = [_("Unknown event kinds: %(kinds)s.") % {"kinds": ", ".join(map(str, unknown))}]
    url = fields.get("url")
    if url is not None:
        try:
            egress.url_check(url)
        except egress.EgressRefused as refused:
            errors["url"] = [str(refused)]
    station = fields.get("station_code")
    if station and not Station.objects.filter(code=station).exists():
        errors["station_code"] = [_("No station has the code %(code)s.") % {"code": station}]
    if errors:
        raise InvalidInput(errors=errors)
    return fields


@dataclass
class Created:
    subscription: Subscription
    secret: str


def subscription_create(*, actor: Actor, url: str, event_kinds: list[str], name: str = "", station_code: str = "",
                        booking_reference: str = "", equipment_reference: str = "",
                        format: str = SubscriptionFormat.STANDARD, dcsa_filters: dict | None = None,
                        secret: str | None = None) -> Created:
    organisation = _require_org(actor)
    _clean({"url": url, "event_kinds": event_kinds, "station_code": station_code})
    secret = secret or (dcsa_secret() if format == SubscriptionFormat.DCSA else standard_secret())
    subscription = Subscription.objects.create(
        organisation=organisation, created_by=actor.user, name=name, url=url, event_kinds=event_kinds,
        station_code=station_code, booking_reference=booking_reference, equipment_reference=equipment_reference,
        format=format, dcsa_filters=dcsa_filters or {}, secret=secret,
    )
    return Created(subscription=subscription, secret=secret)


def subscription_update(*, actor: Actor, subscription: Subscription, **fields) -> Subscription:
    _require_org(actor)
    _clean(fields)
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
        for name, value in fields.items():
            setattr(subscription, name, value)
        if fields.get("is_active") is True:
            # Turned on again: a fresh run of failures.
            subscription.disabled_reason, subscription.disabled_at, subscription.consecutive_failures = "", None, 0
        subscription.save()
    return subscription


def subscription_rotate_secret(*, actor: Actor, subscription: Subscription, secret: str | None = None) -> str:
    """A new secret at once; the old one stops signing from the next attempt."""
    _require_org(actor)
    if secret is None:
        secret = dcsa_secret() if subscription.format == SubscriptionFormat.DCSA else standard_secret()
    Subscription.objects.filter(pk=subscription.pk).update(secret=secret, updated_at=timezone.now())
    subscription.secret = secret
    return secret


def subscription_delete(*, actor: Actor, subscription: Subscription) -> None:
    """Stop a subscription for good: it goes with its delivery log, and nothing waiting for it is sent. The REST
    API, DCSA's DELETE and the subscription's page all delete through here."""
    _require_org(actor)
    subscription.delete()


def subscription_test(*, actor: Actor, subscription: Subscription) -> Delivery:
    """Send a signed test message now (a delivery of its own, tried once, shown in the log)."""

    _require_org(actor)
    now = timezone.now()
    if subscription.format == SubscriptionFormat.DCSA:
        body = json_body([])
    elif subscription.format == SubscriptionFormat.IFTSTA:
        body = iftsta_interchange(actor=Actor(organisation=subscription.organisation), events=[])
    else:
        body = json_body({"type": "webhook.test", "timestamp": now.isoformat(),
                          "data": {"subscription": str(subscription.subscription_id),
                                   "organisation": subscription.organisation.code}})
    delivery = Delivery.objects.create(webhook_id=webhook_id_new(), subscription=subscription, topic="webhook.test",
                                       body=body, is_test=True, next_attempt_at=now)
    transaction.on_commit(lambda: deliveries_dispatch([delivery.pk]))
    return delivery
