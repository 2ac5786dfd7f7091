"""A query parameter an endpoint does not take is a 400 naming it, not a filter silently dropped."""

import pytest
from rest_framework.test import APIClient

from intermodal.models import Scope
from tests import factories

pytestmark = pytest.mark.django_db


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
