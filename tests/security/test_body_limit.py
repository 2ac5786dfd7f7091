"""Oversized bodies are refused before they are read: a 413 in the API's error shape, a 400 on pages."""

import json

import pytest

from bookings.models import Booking
from intermodal.models import PartyKind
from tests import factories

pytestmark = pytest.mark.django_db


def test_an_oversized_api_body_is_a_413_in_the_error_shape(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    api_client.force_login(factories.user(factories.organisation(PartyKind.ENTERPRISE)))

    response = api_client.post("/api/v1/bookings/", json.dumps({"commodity": "x" * 2000}),
                               content_type="application/json")

    assert response.status_code == 413
    assert response.json() == {"status": 413, "code": "too_large", "detail": response.json()["detail"],
                               "errors": {}}
    assert "1000" in response.json()["detail"]
    assert not Booking.objects.exists()


def test_the_default_limit_lets_a_full_bulk_of_events_through(settings):
    # 1,000 events of about 400 bytes each must fit: the bulk endpoint's own limit is the one that speaks.
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE >= 1000 * 400


def test_an_oversized_form_post_is_a_400_page(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = client.post("/login/", {"username": "x" * 5000, "password": "y"})

    assert response.status_code == 400
