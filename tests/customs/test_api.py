"""The declarations API: scoped, field-level errors, lifecycle through actions."""

import pytest
from rest_framework.test import APIClient

from customs.models import Declaration, DeclarationStatus
from intermodal.models import Scope
from tests import factories
from tests.customs.conftest import NUMBERS, draft

pytestmark = pytest.mark.django_db


def as_user(person):
    client = APIClient()
    client.force_login(person)
    return client


def payload(declared, **overrides):
    data = {"booking": declared.booking.reference, "declarant_uscc": factories.VALID_USCC, "trade_mode": "0110",
            "transport_mode": "rail_vessel", "containers": NUMBERS, "lines": [factories.goods_line()]}
    data.update(overrides)
    return data


def test_the_shipper_declares_and_both_agencies_release(declared):
    shipper = as_user(declared.shipper.user)

    created = shipper.post("/api/v1/declarations/", payload(declared), format="json")
    ref = created.json()["reference"]
    submitted = shipper.post(f"/api/v1/declarations/{ref}/submit/")
    customs = as_user(declared.customs.user).post(f"/api/v1/declarations/{ref}/decide/",
                                                  {"decision": "clear", "reason": "Documents in order"}, format="json")
    ciq = as_user(declared.ciq.user).post(f"/api/v1/declarations/{ref}/decide/",
                                          {"decision": "clear", "reason": "No quarantine risk"}, format="json")

    assert created.status_code == 201
    assert created.json()["status"] == "draft"
    assert submitted.json()["status"] == "submitted"
    assert customs.json()["status"] == "submitted"
    assert ciq.json()["status"] == "released"
    assert [d["agency"] for d in ciq.json()["decisions"]] == ["customs", "border_inspection"]


def test_invalid_hs_code_and_uscc_are_field_errors(declared):
    response = as_user(declared.shipper.user).post(
        "/api/v1/declarations/",
        payload(declared, declarant_uscc="123", lines=[factories.goods_line(hs_code="98ABC")]), format="json")

    errors = response.json()["errors"]
    assert response.status_code == 400
    assert {"lines.0.hs_code", "declarant_uscc"} <= set(errors)
    assert not Declaration.objects.exists()


def test_a_shipper_never_sees_another_declaration(declared, other_shipper):
    declaration = draft(declared)
    other = as_user(other_shipper.user)

    assert other.get(f"/api/v1/declarations/{declaration.reference}/").status_code == 404
    assert other.post(f"/api/v1/declarations/{declaration.reference}/submit/").status_code == 404
    assert other.get("/api/v1/declarations/").json()["count"] == 0
    assert Declaration.objects.get().status == DeclarationStatus.DRAFT


def test_officers_see_submitted_declarations_at_their_stations_only(declared):
    declaration = draft(declared)
    customs = as_user(declared.customs.user)
    elsewhere = as_user(factories.user(factories.organisation("customs", code="customs-xian")))

    before = customs.get("/api/v1/declarations/").json()["count"]
    as_user(declared.shipper.user).post(f"/api/v1/declarations/{declaration.reference}/submit/")
    after = customs.get("/api/v1/declarations/", {"status": "submitted"}).json()
    far = elsewhere.get(f"/api/v1/declarations/{declaration.reference}/")

    assert before == 0  # drafts are the shipper's own
    assert [d["reference"] for d in after["results"]] == [declaration.reference]
    assert far.status_code == 404


def test_a_shipper_cannot_decide(declared):
    declaration = draft(declared)
    shipper = as_user(declared.shipper.user)
    shipper.post(f"/api/v1/declarations/{declaration.reference}/submit/")

    response = shipper.post(f"/api/v1/declarations/{declaration.reference}/decide/",
                            {"decision": "clear", "reason": "self-service"}, format="json")

    assert response.status_code == 403
    assert Declaration.objects.get().status == DeclarationStatus.SUBMITTED


def test_drafts_are_changed_with_patch_and_then_frozen(declared):
    declaration = draft(declared)
    shipper = as_user(declared.shipper.user)
    url = f"/api/v1/declarations/{declaration.reference}/"

    changed = shipper.patch(url, {"trade_mode": "1039"}, format="json")
    shipper.post(f"{url}submit/")
    frozen = shipper.patch(url, {"trade_mode": "0110"}, format="json")

    assert changed.json()["trade_mode"] == "1039"
    assert frozen.status_code == 409
    assert Declaration.objects.get().trade_mode == "1039"


def test_keys_need_the_declaration_scopes(declared):
    _key, reader = factories.api_key(declared.shipper.org, scopes=[Scope.DECLARATIONS_READ])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {reader}")

    response = client.post("/api/v1/declarations/", payload(declared), format="json")

    assert response.status_code == 403
    assert not Declaration.objects.exists()
