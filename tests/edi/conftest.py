"""UN/EDIFACT test helpers: the sample interchanges of tests/fixtures/edifact/ (templates: the booking, transports
and times of the test's network go into their {placeholders}) and API clients with keys."""

from pathlib import Path

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from edi.edifact import edifact_datetime
from tests import factories
from tests.notifications.conftest import receiver  # noqa: F401 - the real local HTTP receiver

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "edifact"


def sample(name: str, **values) -> str:
    """A sample interchange with its placeholders filled (`at` defaults to now, network time)."""
    values.setdefault("at", edifact_datetime(timezone.now()))
    text = (SAMPLES / name).read_text(encoding="latin-1")
    for key, value in values.items():
        text = text.replace("{" + key + "}", str(value))
    return text


def key_client(org, scopes) -> APIClient:
    _key, raw = factories.api_key(org, scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def post_edifact(client: APIClient, text: str, *, accept: str = "application/json", confirm: bool = True):
    url = "/api/edi/inbound" + ("?confirm=true" if confirm else "")
    return client.post(url, data=text.encode("latin-1"), content_type="application/edifact", HTTP_ACCEPT=accept)


@pytest.fixture
def edi_sample():
    return sample
