"""Every POST of the API that changes something honours `Idempotency-Key` (intermodal/idempotency.py): a retry
with the same key gets the first answer and changes nothing, so no lost answer makes a client create a second
key, subscription, correction or B/L request. Answers that show a secret once keep it encrypted in the table
and give it back on the retry."""

import json

import pytest
from django.urls import URLResolver, get_resolver

from bookings.models import BillOfLading
from intermodal.models import ApiKey, IdempotencyRecord
from notifications.models import Subscription
from tests.bookings.conftest import book
from tests.bookings.test_bill_of_lading import REQUEST

pytestmark = pytest.mark.django_db

# POSTs that need no key, and why: doing them twice is doing them once.
NATURALLY_IDEMPOTENT = {
    "api/v1/^api-keys/(?P<prefix>[^/.]+)/revoke/$": "a revoked key stays revoked, with its first revocation time",
    "api/v1/^notifications/read-all/$": "read is read",
    "api/v1/^notifications/(?P<pk>[0-9]+)/read/$": "read is read",
    # DCSA's own API has no Idempotency-Key, and its errors are DCSA's error object, not ours.
    "api/dcsa/tnt/v2/event-subscriptions": "DCSA Track & Trace 2.2's subscription, as DCSA defines it",
    # EDIFACT clients send no such header: each container is named by the interchange (edi.inbound.external_id).
    "api/edi/inbound": "an interchange sent again applies nothing twice and answers as the first time",
}
# GET-and-POST actions whose POST half is a method of its own (a GET is never replayed from a record).
POST_HALF = {"containers": "_assign", "empty_requests": "_request_empties"}


def _api_posts():
    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern), pattern.callback

    for route, callback in walk(get_resolver().url_patterns):
        view = getattr(callback, "cls", None)
        if not route.startswith("api/") or view is None:
            continue
        actions = getattr(callback, "actions", None)
        name = actions.get("post") if actions else ("post" if hasattr(view, "post") else None)
        if name:
            yield route, getattr(view, POST_HALF.get(name, name))


def test_every_api_post_honours_the_idempotency_key_or_says_why_it_need_not():
    posts = dict(_api_posts())
    assert len(posts) > 20  # the walk found the API

    missing = [route for route, method in posts.items()
               if not getattr(method, "idempotent", False) and route not in NATURALLY_IDEMPOTENT]

    assert missing == []
    assert set(NATURALLY_IDEMPOTENT) <= set(posts)  # no excuse outlives its route


def test_a_retried_api_key_creation_gives_the_same_key_once_and_never_stores_it_in_clear(api_client, shipper):
    api_client.force_login(shipper.user)
    before = ApiKey.objects.count()

    first = api_client.post("/api/v1/api-keys/", {"name": "ERP"}, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    retry = api_client.post("/api/v1/api-keys/", {"name": "ERP"}, format="json", HTTP_IDEMPOTENCY_KEY="key-1")

    assert first.status_code == retry.status_code == 201, first.content
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert ApiKey.objects.count() == before + 1
    raw = first.json()["key"]
    stored = IdempotencyRecord.objects.get(key="key-1").response_body
    assert raw not in json.dumps(stored)
    # the replayed key is the working one
    api_client.logout()
    assert api_client.get("/api/v1/bookings/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200


def test_a_retried_subscription_gives_one_subscription_and_its_secret_again(api_client, shipper):
    api_client.force_login(shipper.user)
    body = {"url": "https://erp.example/hook", "event_kinds": ["equipment.*"], "name": "ERP"}

    first = api_client.post("/api/v1/subscriptions/", body, format="json", HTTP_IDEMPOTENCY_KEY="sub-1")
    retry = api_client.post("/api/v1/subscriptions/", body, format="json", HTTP_IDEMPOTENCY_KEY="sub-1")
    rotated = api_client.post(f"/api/v1/subscriptions/{first.json()['subscription_id']}/rotate-secret/",
                              HTTP_IDEMPOTENCY_KEY="rotate-1")
    rotated_again = api_client.post(f"/api/v1/subscriptions/{first.json()['subscription_id']}/rotate-secret/",
                                    HTTP_IDEMPOTENCY_KEY="rotate-1")

    assert first.status_code == retry.status_code == 201, first.content
    assert retry.json() == first.json()
    assert Subscription.objects.filter(organisation=shipper.org).count() == 1
    assert rotated.json()["secret"] == rotated_again.json()["secret"] != first.json()["secret"]
    assert Subscription.objects.get().secret == rotated.json()["secret"]  # one rotation, not two
    stored = json.dumps([r.response_body for r in IdempotencyRecord.objects.all()])
    assert first.json()["secret"] not in stored and rotated.json()["secret"] not in stored


def test_a_retried_bill_of_lading_request_is_answered_once(api_client, shipper, connecting):
    booking = book(shipper.actor, connecting)
    api_client.force_login(shipper.user)
    url = f"/api/v1/bookings/{booking.reference}/bill-of-lading/"

    first = api_client.post(url, REQUEST, format="json", HTTP_IDEMPOTENCY_KEY="bl-1")
    retry = api_client.post(url, REQUEST, format="json", HTTP_IDEMPOTENCY_KEY="bl-1")
    changed = api_client.post(url, {**REQUEST, "consignee_name": "Other"}, format="json",
                              HTTP_IDEMPOTENCY_KEY="bl-1")

    assert first.status_code == retry.status_code == 200, first.content
    assert retry["Idempotent-Replayed"] == "true"
    assert changed.status_code == 422
    assert BillOfLading.objects.get(booking=booking).consignee_name == REQUEST["consignee_name"]
