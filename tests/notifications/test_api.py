"""The subscriptions, delivery log and notifications API, and DCSA 2.2.0 event subscriptions."""

import base64

import pytest

from intermodal.models import PartyKind
from notifications.models import Delivery, Notification, NotificationKind, Subscription
from notifications.relay import outbox_sweep
from tests import factories
from tests.bookings.conftest import book

pytestmark = pytest.mark.django_db

SUBSCRIPTIONS = "/api/v1/subscriptions/"
DCSA = "/api/dcsa/tnt/v2/event-subscriptions"


def key_client(api_client, org, scopes=None):
    _key, raw = factories.api_key(org, scopes=scopes)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return api_client


def test_create_shows_the_secret_once_and_lists_without_it(api_client, shipper):
    client = key_client(api_client, shipper.org)
    created = client.post(SUBSCRIPTIONS, {"url": "https://erp.example/hook", "event_kinds": ["equipment.*"],
                                          "name": "ERP"}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert Subscription.objects.get(subscription_id=body["subscription_id"]).secret == body["secret"]

    listed = client.get(SUBSCRIPTIONS).json()
    assert [s["name"] for s in listed["results"]] == ["ERP"]
    assert "secret" not in listed["results"][0]
    assert "secret" not in client.get(f"{SUBSCRIPTIONS}{body['subscription_id']}/").json()

    rotated = client.post(f"{SUBSCRIPTIONS}{body['subscription_id']}/rotate-secret/").json()["secret"]
    assert rotated != body["secret"]
    assert Subscription.objects.get(subscription_id=body["subscription_id"]).secret == rotated


@pytest.mark.parametrize("payload, field", [
    ({"url": "not a url", "event_kinds": ["*"]}, "url"),
    ({"url": "https://x.example/", "event_kinds": []}, "event_kinds"),
    ({"url": "https://x.example/", "event_kinds": ["equipment.zzzz"]}, "event_kinds"),
    ({"url": "https://x.example/", "event_kinds": ["*"], "station_code": "NOWHERE"}, "station_code"),
    ({"event_kinds": ["*"]}, "url"),
    ({"url": "https://x.example/", "event_kinds": ["*"], "equipment_reference": 12345}, "equipment_reference"),
    ({"url": "https://x.example/", "event_kinds": ["*"], "is_active": 0}, "is_active"),
])
def test_bad_subscriptions_are_refused_with_field_messages(api_client, shipper, payload, field):
    response = key_client(api_client, shipper.org).post(SUBSCRIPTIONS, payload, format="json")
    assert response.status_code == 400
    assert any(name.split(".")[0] == field for name in response.json()["errors"])
    assert Subscription.objects.count() == 0


def test_another_organisations_subscription_and_deliveries_are_not_found(api_client, shipper, other_shipper,
                                                                         connecting):
    from tests.notifications.conftest import subscribe

    theirs = subscribe(other_shipper.org, "https://b.example/").subscription
    book(other_shipper.actor, connecting)
    outbox_sweep()
    delivery = Delivery.objects.filter(subscription=theirs).first()
    client = key_client(api_client, shipper.org)

    assert client.get(f"{SUBSCRIPTIONS}{theirs.subscription_id}/").status_code == 404
    assert client.patch(f"{SUBSCRIPTIONS}{theirs.subscription_id}/", {"is_active": False},
                        format="json").status_code == 404
    assert client.delete(f"{SUBSCRIPTIONS}{theirs.subscription_id}/").status_code == 404
    assert client.get(f"/api/v1/webhook-deliveries/{delivery.webhook_id}/").status_code == 404
    assert client.post(f"/api/v1/webhook-deliveries/{delivery.webhook_id}/resend/").status_code == 404
    assert client.get("/api/v1/webhook-deliveries/").json()["count"] == 0
    assert Subscription.objects.get(pk=theirs.pk).is_active


def test_the_delivery_log_shows_attempts_and_filters_by_status(api_client, shipper, connecting):
    from tests.notifications.conftest import subscribe

    mine = subscribe(shipper.org, "http://127.0.0.1:9/hook").subscription
    book(shipper.actor, connecting)
    outbox_sweep()
    from notifications.delivery import deliveries_send

    for delivery in Delivery.objects.filter(subscription=mine):
        deliveries_send([delivery.pk])
    client = key_client(api_client, shipper.org)
    log = client.get("/api/v1/webhook-deliveries/", {"subscription": str(mine.subscription_id),
                                                    "status": "pending"}).json()
    assert log["count"] == 2
    detail = client.get(f"/api/v1/webhook-deliveries/{log['results'][0]['webhook_id']}/").json()
    assert detail["attempt_log"][0]["number"] == 1 and detail["attempt_log"][0]["error"]


def test_a_key_without_the_subscriptions_scope_is_refused(api_client, shipper):
    client = key_client(api_client, shipper.org, scopes=["bookings:read"])
    assert client.get(SUBSCRIPTIONS).status_code == 403
    assert client.post(SUBSCRIPTIONS, {"url": "https://x.example/", "event_kinds": ["*"]},
                       format="json").status_code == 403


def test_local_government_cannot_subscribe(api_client):
    government = factories.organisation(PartyKind.LOCAL_GOVERNMENT, code="gov")
    response = key_client(api_client, government).post(SUBSCRIPTIONS, {"url": "https://x.example/",
                                                                       "event_kinds": ["*"]}, format="json")
    assert response.status_code == 403
    assert Subscription.objects.count() == 0


def test_send_test_queues_a_signed_test_delivery(api_client, shipper):
    client = key_client(api_client, shipper.org)
    created = client.post(SUBSCRIPTIONS, {"url": "https://erp.example/hook", "event_kinds": ["*"]},
                          format="json").json()
    response = client.post(f"{SUBSCRIPTIONS}{created['subscription_id']}/test/")
    assert response.status_code == 202
    assert response.json()["topic"] == "webhook.test"
    assert Delivery.objects.get(webhook_id=response.json()["webhook_id"]).is_test


def test_notifications_are_a_persons_own_and_can_be_marked_read(api_client, shipper, other_shipper, connecting):
    book(shipper.actor, connecting)
    outbox_sweep()
    api_client.force_login(other_shipper.user)
    assert api_client.get("/api/v1/notifications/").json()["count"] == 0
    mine = Notification.objects.get(user=shipper.user, kind=NotificationKind.BOOKING_CONFIRMED)
    assert api_client.post(f"/api/v1/notifications/{mine.pk}/read/").status_code == 404

    api_client.force_login(shipper.user)
    listed = api_client.get("/api/v1/notifications/", {"unread": "true"}).json()
    assert listed["count"] == 1 and "confirmed" in listed["results"][0]["title"]
    assert api_client.post(f"/api/v1/notifications/{mine.pk}/read/").json()["read_at"]
    assert api_client.get("/api/v1/notifications/", {"unread": "true"}).json()["count"] == 0


# --- DCSA 2.2.0 -----------------------------------------------------------------------------------------


def secret() -> str:
    return base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


def test_the_api_dcsa_and_the_page_delete_a_subscription_through_the_one_service(api_client, client, shipper,
                                                                                 monkeypatch):
    from notifications import services
    from notifications.models import SubscriptionFormat
    from tests.notifications.conftest import subscribe

    deleted, delete = [], services.subscription_delete

    def deleting(**arguments):
        deleted.append(arguments["subscription"].url)
        delete(**arguments)

    monkeypatch.setattr(services, "subscription_delete", deleting)
    by_api, by_page = (subscribe(shipper.org, f"https://{name}.example/").subscription for name in ("api", "page"))
    by_dcsa = subscribe(shipper.org, "https://dcsa.example/", format=SubscriptionFormat.DCSA).subscription
    Delivery.objects.create(webhook_id="msg_" + "0" * 32, subscription=by_api, topic="webhook.test", body="{}")
    client.force_login(shipper.user)
    api = key_client(api_client, shipper.org)

    assert api.delete(f"{SUBSCRIPTIONS}{by_api.subscription_id}/").status_code == 204
    assert api.delete(f"{DCSA}/{by_dcsa.subscription_id}").status_code == 204
    assert client.post(f"/webhooks/{by_page.subscription_id}/delete/").status_code == 302

    assert deleted == ["https://api.example/", "https://dcsa.example/", "https://page.example/"]
    assert not Subscription.objects.exists()
    assert not Delivery.objects.exists()  # the delivery log goes with its subscription


def test_dcsa_subscriptions_post_get_put_secret_delete(api_client, shipper):
    client = key_client(api_client, shipper.org)
    created = client.post(DCSA, {"callbackUrl": "https://erp.example/dcsa", "secret": secret(),
                                 "eventType": ["EQUIPMENT", "TRANSPORT"], "equipmentEventTypeCode": ["GTIN"]},
                          format="json")
    assert created.status_code == 201, created.content
    assert created["API-Version"] == "2.2.0"
    body = created.json()
    assert "secret" not in body
    assert body["eventType"] == ["EQUIPMENT", "TRANSPORT"] and body["callbackUrl"] == "https://erp.example/dcsa"
    url = f"{DCSA}/{body['subscriptionID']}"

    assert client.get(DCSA).json() == [body]
    assert client.get(url).json() == body
    changed = client.put(url, {"subscriptionID": body["subscriptionID"], "callbackUrl": "https://erp.example/v2",
                               "transportEventTypeCode": ["DEPA"]}, format="json")
    assert changed.status_code == 200
    assert changed.json() == {"subscriptionID": body["subscriptionID"], "callbackUrl": "https://erp.example/v2",
                              "transportEventTypeCode": ["DEPA"]}
    new_secret = base64.b64encode(b"another secret of at least 16").decode()
    assert client.put(f"{url}/secret", {"secret": new_secret}, format="json").status_code == 204
    assert Subscription.objects.get(subscription_id=body["subscriptionID"]).secret == new_secret
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("payload, reason", [
    ({"secret": secret()}, "callbackUrl"),
    ({"callbackUrl": "https://x.example/"}, "secret"),
    ({"callbackUrl": "https://x.example/", "secret": "not base64!"}, "secret"),
    ({"callbackUrl": "https://x.example/", "secret": secret(), "equipmentEventTypeCode": ["NOPE"]},
     "equipmentEventTypeCode"),
    # As GET /v2/events refuses it: a filter that does not apply to the eventType asked for.
    ({"callbackUrl": "https://x.example/", "secret": secret(), "eventType": ["SHIPMENT"],
      "transportEventTypeCode": ["ARRI"]}, "transportEventTypeCode: This filter does not apply"),
    ({"callbackUrl": "ftp://x.example/", "secret": secret()}, "callbackUrl"),
    ({"callbackUrl": "https://x.example/", "secret": secret(), "colour": "red"}, "colour"),
])
def test_dcsa_subscription_errors_are_dcsa_error_objects(api_client, shipper, payload, reason):
    response = key_client(api_client, shipper.org).post(DCSA, payload, format="json")
    assert response.status_code == 400
    error = response.json()
    assert error["statusCode"] == 400 and error["httpMethod"] == "POST"
    assert any(reason in e["message"] for e in error["errors"])
    assert Subscription.objects.count() == 0


def test_another_organisations_dcsa_subscription_is_not_found(api_client, shipper, other_shipper):
    theirs = key_client(api_client, other_shipper.org).post(
        DCSA, {"callbackUrl": "https://b.example/", "secret": secret()}, format="json").json()
    client = key_client(api_client, shipper.org)
    assert client.get(f"{DCSA}/{theirs['subscriptionID']}").status_code == 404
    assert client.delete(f"{DCSA}/{theirs['subscriptionID']}").status_code == 404
    assert client.get(DCSA).json() == []
