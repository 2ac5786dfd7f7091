"""Reads: an organisation's own subscriptions and their deliveries, a person's own notifications."""

from django.db.models import QuerySet

from intermodal.access import Actor
from intermodal.errors import NotFound
from notifications.models import Delivery, Notification, Subscription


def subscription_list(*, actor: Actor) -> QuerySet[Subscription]:
    if actor.organisation is None:
        return Subscription.objects.none()
    return Subscription.objects.filter(organisation=actor.organisation)


def subscription_get(*, actor: Actor, subscription_id) -> Subscription:
    subscription = subscription_list(actor=actor).filter(subscription_id=subscription_id).first()
    if subscription is None:
        raise NotFound()
    return subscription


def delivery_list(*, actor: Actor) -> QuerySet[Delivery]:
    if actor.organisation is None:
        return Delivery.objects.none()
    return Delivery.objects.filter(subscription__organisation=actor.organisation).select_related("subscription")


def delivery_get(*, actor: Actor, webhook_id: str) -> Delivery:
    delivery = delivery_list(actor=actor).prefetch_related("attempt_log").filter(webhook_id=webhook_id).first()
    if delivery is None:
        raise NotFound()
    return delivery


def notification_list(*, actor: Actor) -> QuerySet[Notification]:
    if actor.user is None:
        return Notification.objects.none()
    return Notification.objects.filter(user=actor.user)
