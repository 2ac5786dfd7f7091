"""Pages: the bell and the inbox, email choices, webhook subscriptions with the secret shown once, the log."""

import pytest

from intermodal.models import PartyKind
from notifications.models import (
    Delivery,
    EmailPreference,
    Notification,
    NotificationKind,
    Subscription,
)
from notifications.relay import outbox_sweep
from tests import factories
from tests.bookings.conftest import book
from tests.notifications.conftest import subscribe

pytestmark = pytest.mark.django_db


def test_the_bell_counts_unread_and_the_inbox_marks_read(client, shipper, connecting):
    booking = book(shipper.actor, connecting)
    outbox_sweep()
    client.force_login(shipper.user)

    home = client.get("/").content.decode()
    assert 'data-unread="1"' in home
    inbox = client.get("/notifications/").content.decode()
    assert f"Booking {booking.reference} is confirmed" in inbox

    notification = Notification.objects.get(user=shipper.user)
    opened = client.post(f"/notifications/{notification.pk}/read/", {"open": "1"})
    assert opened.status_code == 302 and opened["Location"] == f"/bookings/{booking.reference}/"
    assert Notification.objects.get(pk=notification.pk).read_at is not None
    assert 'data-unread="0"' in client.get("/").content.decode()


def test_another_persons_notification_cannot_be_marked(client, shipper, other_shipper, connecting):
    book(shipper.actor, connecting)
    outbox_sweep()
    client.force_login(other_shipper.user)
    notification = Notification.objects.get(user=shipper.user)
    assert client.post(f"/notifications/{notification.pk}/read/").status_code == 404
    assert client.post("/notifications/read-all/").status_code == 302
    assert Notification.objects.get(pk=notification.pk).read_at is None


def test_email_choices_are_kept(client, shipper):
    client.force_login(shipper.user)
    page = client.get("/notifications/email/").content.decode()
    assert "Booking at risk of missing its vessel" in page
    response = client.post("/notifications/email/", {NotificationKind.EMPTIES_READY: "on"})
    assert response.status_code == 302
    chosen = dict(EmailPreference.objects.filter(user=shipper.user).values_list("kind", "by_email"))
    assert chosen[NotificationKind.EMPTIES_READY] is True
    assert chosen[NotificationKind.BOOKING_AT_RISK] is False


def test_a_new_subscription_shows_its_secret_once(client, shipper):
    client.force_login(shipper.user)
    response = client.post("/webhooks/new/", {"name": "ERP", "url": "https://erp.example/hook",
                                              "event_kinds": ["equipment.*", "transport.*"]})
    assert response.status_code == 302
    subscription = Subscription.objects.get(organisation=shipper.org)
    assert subscription.event_kinds == ["equipment.*", "transport.*"]
    first = client.get(response["Location"]).content.decode()
    assert subscription.secret in first
    again = client.get(response["Location"]).content.decode()
    assert subscription.secret not in again


def test_bad_subscription_form_says_why_and_saves_nothing(client, shipper):
    client.force_login(shipper.user)
    response = client.post("/webhooks/new/", {"url": "not a url", "event_kinds": []})
    assert response.status_code == 200
    assert response.content.decode().count('class="field-errors"') == 2
    assert not Subscription.objects.exists()


def test_send_test_and_resend_from_the_log(client, shipper, connecting):
    created = subscribe(shipper.org, "http://127.0.0.1:9/hook")
    book(shipper.actor, connecting)
    outbox_sweep()
    client.force_login(shipper.user)
    base = f"/webhooks/{created.subscription.subscription_id}/"

    assert client.post(base + "test/").status_code == 302
    assert Delivery.objects.filter(subscription=created.subscription, is_test=True).count() == 1
    page = client.get(base).content.decode()
    delivery = Delivery.objects.filter(subscription=created.subscription, is_test=False).first()
    assert delivery.webhook_id in page or delivery.webhook_id[:13] in page
    detail = client.get(f"/webhooks/deliveries/{delivery.webhook_id}/").content.decode()
    assert delivery.body.replace('"', "&quot;")[:40] in detail
    assert client.post(f"/webhooks/deliveries/{delivery.webhook_id}/resend/").status_code == 302


def test_another_organisations_subscription_is_not_found(client, shipper, other_shipper):
    theirs = subscribe(other_shipper.org, "https://b.example/").subscription
    client.force_login(shipper.user)
    base = f"/webhooks/{theirs.subscription_id}/"
    assert client.get(base).status_code == 404
    assert client.post(base + "rotate-secret/").status_code == 404
    assert client.post(base + "delete/").status_code == 404
    assert Subscription.objects.filter(pk=theirs.pk).exists()


def test_local_government_has_no_webhooks_page(client):
    government = factories.organisation(PartyKind.LOCAL_GOVERNMENT, code="gov")
    client.force_login(factories.user(government))
    assert client.get("/webhooks/").status_code == 403
    assert "/webhooks/" not in client.get("/").content.decode()


def test_pages_need_a_login(client):
    for url in ("/notifications/", "/webhooks/", "/webhooks/new/"):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]
