"""A short Schemathesis run against a served instance with production settings (DEBUG=0), as every party kind
that uses the API: a shipper, a station, the railway, the port, customs and border inspection (the long one is
bench/fuzz.sh).

The instance is gunicorn with DEBUG=0 on a PostgreSQL of the module's own (tests/own_postgres.py) holding the
demo network, the fuzzer's targets (bench/fuzz_data.py) and an API key per party. Every operation of the schema
is called, from a fixed seed, with Schemathesis' coverage cases (its boundary values and malformed inputs of every
parameter and field, about sixty an operation) as the first of the parties that may call it (the permission
matrix, intermodal/permissions.py; the others would only meet the 403 before the input is read), and with two
generated requests as each of the six parties (a test per operation and party). Every answer must be no server
error, a documented status code, of the documented content type and headers, and valid against the documented
response schema.
"""

import datetime
import functools
import json
import os
import re
import socket
import subprocess
import sys
import time

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.urls import resolve
from hypothesis import HealthCheck, settings
from schemathesis import checks
from schemathesis.generation.meta import TestPhase

from bench.dcsa_checks import status_code_conformance_within_the_url_limit
from intermodal.models import PartyKind
from intermodal.permissions import Caller, Outcome, expected
from tests.own_postgres import ROOT, own_postgres_server  # noqa: F401 - a fixture

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
# The demo organisation of each party kind that calls the API.
PARTY_KINDS = {"demo-shipper-a": PartyKind.ENTERPRISE, "demo-yiwu-station": PartyKind.STATION_OPERATOR,
               "demo-railway": PartyKind.RAILWAY, "demo-port": PartyKind.PORT, "demo-customs": PartyKind.CUSTOMS,
               "demo-ciq": PartyKind.BORDER_INSPECTION}
PARTIES = list(PARTY_KINDS)


def _sample_parameter(match: re.Match) -> str:
    """A value of a path parameter that its route's converter takes."""
    name = match.group(1)
    if name == "webhook_id":
        return "msg_" + "0" * 32
    if name in ("pk", "id"):
        return "1"
    return "00000000-0000-0000-0000-000000000000" if name.lower().endswith("id") else "X"


@functools.cache
def coverage_party(method: str, path: str) -> str:
    """The party that is sent an operation's coverage cases: the first the permission matrix lets call it with
    its key (the shipper when none may)."""
    view_name = resolve(re.sub(r"\{([^}]+)\}", _sample_parameter, path)).view_name
    allowed = (party for party, kind in PARTY_KINDS.items()
               if expected(view_name, method.upper(), kind=kind, caller=Caller.KEY, foreign=False) == Outcome.ALLOW)
    return next(allowed, PARTIES[0])


# Run in the served instance's environment: the targets and a key per party, as JSON.
PREPARE = """
import json, os, sys
sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "intermodal.settings")
import django
django.setup()
from django.core.management import call_command
from bench.fuzz_data import fuzz_targets
from intermodal.access import api_key_create
from intermodal.models import Organisation
call_command("seed_demo", verbosity=0)
found = fuzz_targets()
found["keys"] = {code: api_key_create(organisation=Organisation.objects.get(code=code), name="fuzz")[1]
                 for code in json.loads(sys.argv[1])}
print(json.dumps(found))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def served(own_postgres_server, tmp_path_factory):  # noqa: F811 - the imported fixture
    """gunicorn with production settings on the module's own PostgreSQL, seeded; its URL, targets and keys."""
    environment = {
        # Not the suite's allowance of local webhook receivers (WEBHOOK_ALLOWED_NETWORKS): production has none.
        **{name: value for name, value in os.environ.items()
           if name not in ("DJANGO_SETTINGS_MODULE", "WEBHOOK_ALLOWED_NETWORKS")},
        "DATABASE_URL": own_postgres_server.url, "DEBUG": "0", "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "127.0.0.1", "LOG_LEVEL": "ERROR",
        "SECRET_KEY": "short-fuzz-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        # The fuzzer is one caller per party sending many requests: the API is tested, not its rate limits.
        "THROTTLE_RATE_KEY": "1000000/min", "THROTTLE_RATE_USER": "1000000/min",
        "THROTTLE_RATE_ANON": "1000000/min",
    }
    prepared = subprocess.run([sys.executable, "-c", PREPARE, json.dumps(PARTIES)], cwd=ROOT, env=environment,
                              capture_output=True, text=True, timeout=600)
    assert prepared.returncode == 0, prepared.stderr[-3000:]
    found = json.loads(prepared.stdout.strip().splitlines()[-1])
    port = _free_port()
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "intermodal.wsgi:application", "--bind", f"127.0.0.1:{port}",
             "--workers", "2", "--log-level", "warning", "--limit-request-line", "8190"],
            cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not _answers(port) and server.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _answers(port), log.read_text()[-3000:]
        yield {**found, "url": f"http://127.0.0.1:{port}"}
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()


# The schema as the app serves it, read once at import in this process (anonymously: no database); the requests
# go to the served instance.
schema = schemathesis.openapi.from_dict(
    schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application()).raw_schema)


@pytest.mark.parametrize("party", PARTIES)
@schema.parametrize()
@settings(max_examples=2, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck),
          database=None)
def test_the_api_answers_every_party_as_its_schema_says(case, party, served):
    if case.meta is not None and case.meta.phase.name == TestPhase.COVERAGE and (
            party != coverage_party(case.operation.method, case.operation.path)):
        return  # another party is sent this operation's coverage cases
    for prefix, names in TARGETS:
        if case.path.startswith(prefix):
            for name, target in names.items():
                if case.path_parameters and name in case.path_parameters:
                    case.path_parameters[name] = served[target]
    # A minute to answer, not Schemathesis' ten seconds: a request is not slow because the machine is busy with
    # other tests beside it (a subscription on a loaded machine once took longer); a hang still fails.
    case.call_and_validate(base_url=served["url"], headers={"Authorization": f"Bearer {served['keys'][party]}"},
                           checks=CHECKS, timeout=60)


# --- DCSA Commercial Schedules 1.0.3, against DCSA's own file --------------------------------------------

DCSA_CHECKS = [status_code_conformance_within_the_url_limit if check is checks.status_code_conformance else check
               for check in CHECKS]

# The file's paths (/v1/...) under our mount point; its answers checked as the file says, not as our schema does.
CS_SPEC = ROOT / "tests" / "fixtures" / "standards" / "dcsa" / "CS_v1.0.3.yaml"
cs_schema = schemathesis.openapi.from_path(CS_SPEC)
CS_BASE = "/api/dcsa/cs"


@cs_schema.parametrize()
@settings(max_examples=12, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_dcsa_commercial_schedules_answer_as_dcsas_file_says(case, served):
    case.call_and_validate(base_url=served["url"] + CS_BASE, checks=DCSA_CHECKS, timeout=60,
                           headers={"Authorization": f"Bearer {served['keys']['demo-shipper-a']}"})


# Requests that find routes, calls and trains in the demo network (generated ones rarely name a served place).
CS_FOUND = [
    ("/v1/point-to-point-routes", {"placeOfReceipt": "CNYIU", "placeOfDelivery": "NLRTM"}),
    ("/v1/point-to-point-routes", {"placeOfReceipt": "CNXIA", "placeOfDelivery": "SGSIN", "limit": 2}),
    ("/v1/port-schedules", {"UNLocationCode": "CNNGB", "date": "today"}),
    ("/v1/port-schedules", {"UNLocationCode": "CNYIU", "date": "today"}),
    ("/v1/vessel-schedules", {"UNLocationCode": "CNNGB"}),
    ("/v1/vessel-schedules", {"vesselOperatorCarrierCode": "COSU", "responseScope": "MATCHED_CALLS", "limit": 1}),
]


@pytest.mark.parametrize(("path", "query"), CS_FOUND)
def test_dcsa_commercial_schedules_of_the_demo_network_conform(path, query, served):
    query = {name: datetime.date.today().isoformat() if value == "today" else value for name, value in query.items()}
    case = cs_schema[path]["GET"].Case(query=query)
    response = case.call_and_validate(base_url=served["url"] + CS_BASE, checks=DCSA_CHECKS, timeout=60,
                                      headers={"Authorization": f"Bearer {served['keys']['demo-shipper-a']}"})
    assert response.status_code == 200
    assert response.json(), f"the demo network has something for {path} {query}"


# --- DCSA Booking 2.0.5, against DCSA's own file ---------------------------------------------------------

# The provider's endpoints (the file's /v2/booking-notifications is the consumer's: ours only send to it).
BKG_SPEC = ROOT / "tests" / "fixtures" / "standards" / "dcsa" / "BKG_v2.0.5.yaml"
bkg_schema = schemathesis.openapi.from_path(BKG_SPEC).exclude(path="/v2/booking-notifications")


# Booking bodies: DCSA's own examples in its file (a dry, a reefer, a dangerous goods booking, its updates) - building
# Hypothesis strategies for a schema this large takes a minute per operation; paths and cancellations are generated.
BKG_EXAMPLES = [
    (path, method.upper(), name)
    for path, method in (("/v2/bookings", "post"), ("/v2/bookings/{bookingReference}", "put"))
    for name in bkg_schema.raw_schema["paths"][path][method]["requestBody"]["content"]["application/json"]["examples"]
]


@pytest.mark.parametrize(("path", "method", "name"), BKG_EXAMPLES)
def test_dcsa_bookings_dcsas_examples_are_answered_as_its_file_says(path, method, name, served):
    example = bkg_schema.raw_schema["paths"][path][method.lower()]["requestBody"]["content"]["application/json"][
        "examples"][name]["value"]
    headers = {"Authorization": f"Bearer {served['keys']['demo-shipper-a']}"}
    post = bkg_schema["/v2/bookings"]["POST"].Case(body=example, media_type="application/json")
    made = post.call_and_validate(base_url=served["url"] + "/api/dcsa/bkg", checks=DCSA_CHECKS, timeout=60,
                                  headers=headers)
    assert made.status_code == 202
    if method == "PUT":
        reference = made.json()["carrierBookingRequestReference"]
        case = bkg_schema[path]["PUT"].Case(path_parameters={"bookingReference": reference}, body=example,
                                            media_type="application/json")
        assert case.call_and_validate(base_url=served["url"] + "/api/dcsa/bkg", checks=DCSA_CHECKS, timeout=60,
                                      headers=headers).status_code in (202, 409)
    # Every request made so far answers GET as DCSA's file says.
    reference = made.json()["carrierBookingRequestReference"]
    got = bkg_schema["/v2/bookings/{bookingReference}"]["GET"].Case(path_parameters={"bookingReference": reference})
    assert got.call_and_validate(base_url=served["url"] + "/api/dcsa/bkg", checks=DCSA_CHECKS, timeout=60,
                                 headers=headers).status_code == 200


@bkg_schema.include(method=["GET", "PATCH"]).parametrize()
@settings(max_examples=12, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_dcsa_booking_answers_as_dcsas_file_says(case, served):
    case.call_and_validate(base_url=served["url"] + "/api/dcsa/bkg", checks=DCSA_CHECKS, timeout=60,
                           headers={"Authorization": f"Bearer {served['keys']['demo-shipper-a']}"})
