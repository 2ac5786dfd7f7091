"""A short Schemathesis run against the WSGI app with the demo network (the long one is bench/fuzz.sh).

Every operation of /api/schema/ gets generated requests from a fixed seed, as demo-shipper-a's API key, aimed at
objects that exist (bench/fuzz_data.py); every answer must be no server error, a documented status code, of the
documented content type and headers, and valid against the documented response schema.
"""

from io import StringIO

import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from schemathesis import checks

from bench.fuzz_data import fuzz_targets
from intermodal.access import api_key_create
from intermodal.models import Organisation

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]
# Path parameter -> the object it names, per path prefix (as bench/schemathesis.toml does for the long run).
TARGETS = [
    ("/api/v1/bookings/{reference}", {"reference": "FUZZ_BOOKING", "number": "FUZZ_CONTAINER"}),
    ("/api/v1/declarations/{reference}", {"reference": "FUZZ_DECLARATION"}),
    ("/api/v1/api-keys/{prefix}", {"prefix": "FUZZ_KEY_PREFIX"}),
    ("/api/v1/track/", {"key": "FUZZ_CONTAINER"}),
    ("/api/dcsa/tnt/v2/events/{eventID}", {"eventID": "FUZZ_EVENT_ID"}),
    ("/api/v1/departures/{reference}", {"reference": "FUZZ_DEPARTURE"}),
    ("/api/v1/vessel-calls/{reference}", {"reference": "FUZZ_VESSEL_CALL"}),
    ("/api/v1/stations/{code}", {"code": "FUZZ_STATION"}),
]


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo network and the fuzzer's targets, once for the module, rolled back at its end."""
    # As Django's test client does: requests must not close the connection that holds the test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        with django_db_blocker.unblock(), transaction.atomic():
            call_command("seed_demo", stdout=StringIO())
            targets = fuzz_targets()
            _key, raw = api_key_create(organisation=Organisation.objects.get(code="demo-shipper-a"), name="fuzz")
            yield {**targets, "key": raw}
            transaction.set_rollback(True)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


# Loaded when the module is: reading /api/schema/ anonymously touches no database.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=6, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck),
          database=None)
def test_the_api_answers_generated_requests_as_its_schema_says(case, demo):
    for prefix, names in TARGETS:
        if case.path.startswith(prefix):
            for name, target in names.items():
                if case.path_parameters and name in case.path_parameters:
                    case.path_parameters[name] = demo[target]
    case.call_and_validate(headers={"Authorization": f"Bearer {demo['key']}"}, checks=CHECKS)
