"""Limits everywhere, in the schema (issue 18 item 3): every list a request body takes has a maximum, every text a
maximum length, every paging parameter its minimum and maximum, every required text parameter a minimum length; the
server refuses past them with a 400 in the error shape, as the schema says."""

import json

import pytest

from bookings import services as booking_services
from customs.models import MAX_GOODS_LINES, Declaration
from tests import factories
from tests.bookings.conftest import book
from tests.security.test_bad_input import assert_error_shape, booking_body

pytestmark = pytest.mark.django_db

NUMBERS = ["CSQU3054383", "TCNU7200794"]
UNBOUNDED_FORMATS = {"date-time", "date", "uuid", "decimal", "uri", "email"}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from drf_spectacular.generators import SchemaGenerator

    with django_db_blocker.unblock():
        return json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str))


def _unbounded(schema, path, out, components, seen):
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        if name not in seen:
            seen.add(name)
            _unbounded(components[name], name, out, components, seen)
        return
    kind = schema.get("type")
    if kind == "string" and "enum" not in schema and "maxLength" not in schema \
            and schema.get("format") not in UNBOUNDED_FORMATS:
        out.append(path)
    if kind == "array":
        if "maxItems" not in schema:
            out.append(path)
        _unbounded(schema.get("items", {}), f"{path}[]", out, components, seen)
    for name, sub in schema.get("properties", {}).items():
        if not sub.get("readOnly"):
            _unbounded(sub, f"{path}.{name}", out, components, seen)


def test_every_text_and_list_of_every_request_body_has_a_maximum(schema):
    components = schema["components"]["schemas"]
    unbounded: list[str] = []
    for path, operations in schema["paths"].items():
        if path.startswith("/api/dcsa/"):
            continue  # DCSA's bodies are DCSA's schema
        for method, operation in operations.items():
            for content in operation.get("requestBody", {}).get("content", {}).values():
                _unbounded(content["schema"], f"{method.upper()} {path}", unbounded, components, set())

    assert unbounded == []


def test_the_lists_document_their_limits(schema):
    components = schema["components"]["schemas"]
    lines = components["DeclarationWriteRequest"]["properties"]["lines"]
    containers = components["BookingCreateRequest"]["properties"]["containers"]
    bulk = schema["paths"]["/api/v1/events/"]["post"]["requestBody"]["content"]["application/json"]["schema"]

    assert (lines["minItems"], lines["maxItems"]) == (1, MAX_GOODS_LINES)
    assert containers["minItems"] == 1 and containers["maxItems"] >= 1
    assert (bulk["minItems"], bulk["maxItems"]) == (1, 1000)


def test_paging_and_required_parameters_document_their_bounds(schema):
    bookings = {p["name"]: p for p in schema["paths"]["/api/v1/bookings/"]["get"]["parameters"]}
    events = {p["name"]: p for p in schema["paths"]["/api/v1/events/"]["get"]["parameters"]}
    connections = {p["name"]: p for p in schema["paths"]["/api/v1/connections/"]["get"]["parameters"]}
    figures = {p["name"]: p for p in schema["paths"]["/api/v1/figures/"]["get"]["parameters"]}

    assert (bookings["page_size"]["schema"]["minimum"], bookings["page_size"]["schema"]["maximum"]) == (1, 200)
    assert bookings["page"]["schema"]["minimum"] == 1
    assert (events["page_size"]["schema"]["minimum"], events["page_size"]["schema"]["maximum"]) == (1, 1000)
    assert connections["station"]["schema"]["minLength"] == 1
    assert connections["containers"]["schema"] == {"type": "string", "maxLength": 200, "minLength": 1}
    assert "0001-01-02" in connections["latest_sailing"]["description"]
    assert "three years" in figures["date_to"]["description"]


@pytest.mark.parametrize(("url", "params"), [
    ("/api/v1/bookings/", {"page_size": "201"}),
    ("/api/v1/bookings/", {"page_size": "0"}),
    ("/api/v1/events/", {"page_size": "1001"}),
    ("/api/v1/connections/", {"station": "", "containers": "42G1:1", "destination": "NLRTM"}),
    ("/api/v1/connections/", {"station": "YIWU-W", "containers": "42G1:1," * 40, "destination": "NLRTM"}),
])
def test_parameters_past_their_bounds_are_400s(api_client, shipper, url, params):
    api_client.force_login(shipper.user)

    response = api_client.get(url, params)

    assert_error_shape(response, 400)


def test_more_goods_lines_than_a_declaration_takes_are_refused_before_any_is_checked(api_client, shipper,
                                                                                     connecting):
    booking = book(shipper.actor, connecting, lines={"42G1": 2})
    for number in NUMBERS:
        booking_services.container_assign(actor=shipper.actor, booking=booking, number=number, size_type="42G1")
    api_client.force_login(shipper.user)
    body = {"booking": booking.reference, "declarant_uscc": factories.VALID_USCC, "trade_mode": "0110",
            "transport_mode": "rail_vessel", "containers": NUMBERS}

    at_most = api_client.post("/api/v1/declarations/", {**body, "lines": [factories.goods_line()] * MAX_GOODS_LINES},
                              format="json")
    Declaration.objects.all().delete()
    too_many = api_client.post("/api/v1/declarations/", {**body, "lines": [factories.goods_line()] * 2000},
                               format="json")

    assert at_most.status_code == 201, at_most.content
    assert_error_shape(too_many, 400, "lines")
    assert not Declaration.objects.exists()


def test_a_booking_takes_at_most_one_line_per_size_type(api_client, shipper, connecting):
    from bookings.models import SIZE_TYPE_CHOICES, Booking

    api_client.force_login(shipper.user)
    containers = [{"size_type": "42G1", "quantity": 1}] * (len(SIZE_TYPE_CHOICES) + 1)

    response = api_client.post("/api/v1/bookings/", booking_body(connecting, containers=containers), format="json")

    assert_error_shape(response, 400, "containers")
    assert not Booking.objects.exists()


def test_a_figures_period_over_three_years_is_a_400(api_client, network):
    admin = factories.organisation("platform_admin")
    api_client.force_login(factories.user(admin))

    response = api_client.get("/api/v1/figures/", {"date_from": "2020-01-01", "date_to": "2026-01-01"})

    assert_error_shape(response, 400, "date_to")


def test_filters_and_dcsa_limits_document_their_minimum(schema):
    departures = {p["name"]: p for p in schema["paths"]["/api/v1/departures/"]["get"]["parameters"]}
    dcsa = {p["name"]: p for p in schema["paths"]["/api/dcsa/tnt/v2/events"]["get"]["parameters"]}
    numeric = [(path, p["name"]) for path, operations in schema["paths"].items() for operation in operations.values()
               if isinstance(operation, dict) for p in operation.get("parameters", [])
               if p.get("schema", {}).get("type") in ("integer", "number") and "minimum" not in p["schema"]]

    assert departures["min_free_teu"]["schema"]["minimum"] == 0
    assert dcsa["limit"]["schema"]["minimum"] == 1
    assert numeric == []
