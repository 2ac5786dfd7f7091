"""A query parameter an endpoint does not take is a 400 naming it, not a filter silently dropped."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from intermodal.models import Scope
from tests import factories

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_a_misspelt_filter_is_a_400_naming_it(network):
    client = APIClient()

    typo = client.get("/api/v1/departures/?statoin=YIWU-W&page_size=5")
    right = client.get("/api/v1/departures/?station=YIWU-W&page_size=5&page=1&ordering=planned_departure")

    assert typo.status_code == 400
    assert typo.json()["errors"] == {"statoin": ["This endpoint takes no such query parameter."]}
    assert right.status_code == 200 and right.json()["count"] > 0


def test_the_same_on_dcsa_in_its_error_shape_and_after_the_callers_access(shipper):
    _key, raw = factories.api_key(shipper.org, scopes=[Scope.EVENTS_READ])
    client = APIClient()

    stranger = client.get("/api/dcsa/tnt/v2/events?equipmentRefrence=CSQU3054383")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    typo = client.get("/api/dcsa/tnt/v2/events?equipmentRefrence=CSQU3054383")
    right = client.get("/api/dcsa/tnt/v2/events?equipmentReference=CSQU3054383&limit=1")

    assert stranger.status_code == 401
    assert typo.status_code == 400
    assert typo.json()["errors"] == [{"reason": "invalidQuery",
                                      "message": "equipmentRefrence: This endpoint takes no such query parameter."}]
    assert right.status_code == 200


def test_an_endpoint_with_declared_parameters_takes_only_those(shipper):
    _key, raw = factories.api_key(shipper.org, scopes=[Scope.EVENTS_READ])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    answer = client.get("/api/v1/track/CSQU3054383/?verbose=1")

    assert answer.status_code == 400 and list(answer.json()["errors"]) == ["verbose"]


def test_a_server_process_reads_what_each_route_takes_as_it_starts_not_in_its_first_request():
    """And, the app loaded, it moves what it loaded out of the garbage collector's way (intermodal/heap.py)."""
    code = ("import gc, intermodal.wsgi; from intermodal import heap, query_parameters as q; "
            "print(q._documented is not None and 'station' in q.documented('departure-list', 'GET'), "
            "gc.get_threshold() == heap.THRESHOLD and gc.get_freeze_count() > 100000)")
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "intermodal.settings"}

    started = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True,
                             timeout=120)

    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == "True True"
