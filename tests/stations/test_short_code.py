"""Every service has a short code of at most 5 characters, DCSA Track & Trace 2.2.0's carrierServiceCode: made
from its code wherever a service is created (seed, admin, factories), unique, and the same rule in the migration
that gave the services before it theirs."""

import importlib
from datetime import time

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.management import call_command
from django.db import IntegrityError, transaction

from intermodal.models import User
from stations.models import Service, short_code_candidates
from tests import factories

pytestmark = pytest.mark.django_db

migration = importlib.import_module("stations.migrations.0005_service_short_code")


def test_a_service_gets_a_short_code_from_its_code_and_the_next_one_when_taken(network):
    another = factories.service(network.yiwu, network.beilun, network.railway, code="YIWU-W-CHS-R")
    odd = factories.service(network.yiwu, network.beilun, network.railway, code="x")

    assert network.yiwu_rail.short_code == "YIW01"
    assert network.jinhua_rail.short_code == "JIN01"
    assert another.short_code == "YIW02"
    assert odd.short_code == "XXX01"
    assert Service.objects.filter(short_code="YIW02").get() == another


def test_a_short_code_given_is_kept_and_must_be_unique_and_short(network):
    named = factories.service(network.yiwu, network.beilun, network.railway, code="YIWU-W-MSG-R", short_code="YW9")

    assert named.short_code == "YW9"
    with pytest.raises(IntegrityError), transaction.atomic():
        Service.objects.filter(pk=network.jinhua_rail.pk).update(short_code="YW9")
    with pytest.raises(IntegrityError), transaction.atomic():
        Service.objects.filter(pk=network.jinhua_rail.pk).update(short_code="yw-1")  # the database's own check


def test_the_stem_runs_out_into_the_s_series():
    candidates = list(short_code_candidates("YIWU-W-BLG-R"))

    assert candidates[:2] == ["YIW01", "YIW02"] and candidates[1294] == "YIWZZ"
    assert candidates[1295:1297] == ["S0001", "S0002"]
    assert len(set(candidates)) == len(candidates) and all(len(c) == 5 and c.isalnum() for c in candidates)


def test_the_migration_gives_existing_services_the_codes_a_fresh_seed_gives_them():
    call_command("seed_demo", "--quiet", verbosity=0)
    seeded = dict(Service.objects.values_list("pk", "short_code"))

    migration.give_short_codes(apps, None)  # on the same rows, in the order of their creation

    assert dict(Service.objects.values_list("pk", "short_code")) == seeded
    assert len(set(seeded.values())) == len(seeded) == 58  # 29 lines, both ways
    assert all(1 <= len(code) <= 5 for code in seeded.values())
    assert Service.objects.get(code="SHAOXING-BLG-B").short_code == "SHA02"


def test_the_admin_form_fills_a_short_code_left_empty_and_refuses_a_taken_one(rf, network):
    request = rf.get("/admin/stations/service/add/")
    request.user = User.objects.create_superuser("root", "root@example.com", "pw-Strong-123")
    form_class = admin.site._registry[Service].get_form(request)
    data = {"code": "JINHUA-E-MSG-R", "station": network.jinhua.pk, "terminal": network.beilun.pk, "mode": "RAIL",
            "direction": "export",
            "operator": network.railway.pk, "weekdays": "[1, 3]", "departure_time": time(8).isoformat(),
            "transit_hours": 11, "closing_hours": 6, "teu_capacity": 90, "distance_km": 375,
            "dangerous_goods_classes": "[]", "is_active": "on"}

    taken = form_class({**data, "short_code": network.yiwu_rail.short_code})
    lower = form_class({**data, "short_code": "jn1"})
    made = form_class({**data, "short_code": ""})

    assert "short_code" in taken.errors and "short_code" in lower.errors
    assert made.is_valid(), made.errors
    assert made.save().short_code == "JIN02"
    assert Service.objects.get(code="JINHUA-E-MSG-R").short_code == "JIN02"


def test_the_api_shows_the_short_code_and_filters_by_it(api_client, network):
    listed = api_client.get("/api/v1/services/", {"short_code": "JIN01"})
    one = api_client.get(f"/api/v1/services/{network.yiwu_rail.code}/")

    assert listed.status_code == 200
    assert [s["code"] for s in listed.json()["results"]] == ["JINHUA-E-BLG-R"]
    assert one.json()["short_code"] == "YIW01"
