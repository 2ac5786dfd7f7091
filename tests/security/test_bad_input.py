"""Bad input across the API and the pages: a 4xx with field messages in the one error shape, never a 500,
and nothing written. Non-Latin text is kept as sent; HTML is escaped wherever it is shown."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from audit.models import AuditEntry
from bookings import services as booking_services
from bookings.models import Booking, Container
from customs.models import Declaration
from intermodal.models import Event
from tests import factories
from tests.bookings.conftest import book

pytestmark = pytest.mark.django_db

SQL = "'; DROP TABLE bookings_booking; --"


@pytest.fixture
def shipper_api(api_client, shipper):
    api_client.force_login(shipper.user)
    return api_client


def booking_body(connecting, **changes):
    body = {"departure": connecting.departure.reference, "vessel_call": connecting.vessel_call.reference,
            "destination": "NLRTM", "containers": [{"size_type": "42G1", "quantity": 1}], "commodity": "Toys",
            "cargo_weight_kg": "9000"}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


def assert_error_shape(response, status: int, *fields: str):
    assert response.status_code == status, response.content
    data = response.json()
    assert set(data) == {"status", "code", "detail", "errors"}
    assert data["status"] == status
    for field in fields:
        assert field in data["errors"], data["errors"]
        assert all(isinstance(m, str) and m for m in data["errors"][field])


BAD_BOOKINGS = [
    ("missing everything", {"departure": ..., "vessel_call": ..., "destination": ..., "containers": ...,
                            "commodity": ..., "cargo_weight_kg": ...},
     ["departure", "vessel_call", "destination", "containers", "commodity", "cargo_weight_kg"]),
    ("weight is text", {"cargo_weight_kg": "heavy"}, ["cargo_weight_kg"]),
    ("negative weight", {"cargo_weight_kg": "-18000"}, ["cargo_weight_kg"]),
    ("zero weight", {"cargo_weight_kg": "0"}, ["cargo_weight_kg"]),
    ("huge weight", {"cargo_weight_kg": "1e400"}, ["cargo_weight_kg"]),
    ("weight as NaN", {"cargo_weight_kg": "NaN"}, ["cargo_weight_kg"]),
    ("huge quantity", {"containers": [{"size_type": "42G1", "quantity": 10**30}]}, ["containers.0.quantity"]),
    ("negative quantity", {"containers": [{"size_type": "42G1", "quantity": -1}]}, ["containers.0.quantity"]),
    ("quantity as text", {"containers": [{"size_type": "42G1", "quantity": "two"}]}, ["containers.0.quantity"]),
    ("unknown size type", {"containers": [{"size_type": "99X9", "quantity": 1}]}, ["containers.0.size_type"]),
    ("containers not a list", {"containers": "42G1:2"}, ["containers"]),
    ("no containers", {"containers": []}, ["containers"]),
    ("a field the request does not take", {"commodty": "Toys"}, ["commodty"]),
    ("a field of a container the request does not take", {"containers": [{"size_type": "42G1", "quantity": 1,
                                                                          "weight": 5}]}, ["containers.0.weight"]),
    ("a read-only field sent back", {"status": "confirmed"}, ["status"]),
    ("invalid UN/LOCODE", {"destination": "XX"}, ["destination"]),
    ("unknown UN/LOCODE", {"destination": "ZZZZZ"}, ["destination"]),
    ("SQL as departure", {"departure": SQL}, ["departure"]),
    ("invalid UN number", {"un_number": "12"}, ["un_number"]),
    ("unknown IMDG class", {"imdg_class": "12.7"}, ["imdg_class"]),
    ("reefer set-point out of range", {"reefer_setpoint_c": "-273"}, ["reefer_setpoint_c"]),
    ("commodity too long", {"commodity": "玩" * 201}, ["commodity"]),
    ("commodity a number", {"commodity": {"a": 1}}, ["commodity"]),
    ("free days negative", {"free_days": -3}, ["free_days"]),
    ("confirm not a boolean", {"confirm": "perhaps"}, ["confirm"]),
]


@pytest.mark.parametrize(("case", "changes", "fields"), BAD_BOOKINGS, ids=[c[0] for c in BAD_BOOKINGS])
def test_bad_booking_input_is_a_400_with_field_messages_and_writes_nothing(shipper_api, connecting, case,
                                                                           changes, fields):
    audit_before = AuditEntry.objects.count()

    response = shipper_api.post("/api/v1/bookings/", booking_body(connecting, **changes), format="json")

    assert_error_shape(response, 400, *fields)
    assert not Booking.objects.exists()
    assert AuditEntry.objects.count() == audit_before


def test_unknown_keys_no_text_column_can_hold_are_named_not_a_500(shipper_api, connecting):
    """Found by the short fuzz run: the error names each unknown key, and a lone surrogate (valid in JSON text
    as an escape, not in UTF-8) or a NUL (not in PostgreSQL's text) must not stop the answer from being written
    and stored for the Idempotency-Key."""
    body = json.dumps(booking_body(connecting))[:-1] + ', "\\udabex": 1, "a\\u0000b": 2}'

    response = shipper_api.post("/api/v1/bookings/", body, content_type="application/json",
                                HTTP_IDEMPOTENCY_KEY="fuzz-found-this")

    assert_error_shape(response, 400, "\\udabex", "a\\u0000b")
    assert not Booking.objects.exists()


@pytest.mark.parametrize(("body", "content_type", "status"), [
    ('{"departure": ', "application/json", 400),
    ("[1, 2, 3]", "application/json", 400),
    ('"just a string"', "application/json", 400),
    ("null", "application/json", 400),
    ("departure=x", "application/x-www-form-urlencoded", 415),
    ("<booking/>", "application/xml", 415),
    (b"\xff\xfe\x00garbage", "application/json", 400),
], ids=["truncated JSON", "a list", "a string", "null", "a form", "XML", "not UTF-8"])
def test_malformed_bodies_are_refused_in_the_error_shape(shipper_api, body, content_type, status):
    response = shipper_api.generic("POST", "/api/v1/bookings/", body, content_type=content_type)

    assert_error_shape(response, status)
    assert not Booking.objects.exists()


def test_chinese_text_is_kept_as_sent(shipper_api, connecting):
    commodity = "义乌小商品：圣诞装饰品、玩具 🎄 (Ünïcödé)"

    response = shipper_api.post("/api/v1/bookings/", booking_body(connecting, commodity=commodity), format="json")

    assert response.status_code == 201
    assert response.json()["commodity"] == commodity
    assert Booking.objects.get().commodity == commodity


def test_html_in_text_fields_is_stored_as_text_and_escaped_on_pages(shipper, connecting):
    script = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    booking = book(shipper.actor, connecting, commodity=script)
    client = Client()
    client.force_login(shipper.user)

    page = client.get(f"/bookings/{booking.reference}/").content.decode()
    listing = client.get("/bookings/").content.decode()

    assert Booking.objects.get(pk=booking.pk).commodity == script
    assert script not in page and script not in listing
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


@pytest.mark.parametrize(("url", "params"), [
    ("/api/v1/bookings/", {"station": SQL}),
    ("/api/v1/bookings/", {"reference": "%' OR '1'='1"}),
    ("/api/v1/bookings/", {"ordering": "commodity; DROP TABLE x"}),
    ("/api/v1/departures/", {"station": SQL, "service": "1 OR 1=1"}),
    ("/api/v1/stations/", {"q": "' UNION SELECT password FROM intermodal_user --"}),
    ("/api/v1/vessel-calls/", {"carrier": "%%", "destination": SQL}),
    ("/api/v1/events/", {"container": SQL, "booking": "\\x00"}),
    ("/api/v1/declarations/", {"booking": SQL}),
])
def test_sql_looking_filters_are_plain_values(shipper_api, shipper, connecting, url, params):
    book(shipper.actor, connecting)

    response = shipper_api.get(url, params)

    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert response.json().get("results", []) == [] or "ordering" in params
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bookings_booking")
        assert cursor.fetchone()[0] == 1


@pytest.mark.parametrize(("url", "params", "field"), [
    ("/api/v1/bookings/", {"departs_from": "2026-13-45"}, "departs_from"),
    ("/api/v1/bookings/", {"departs_from": "99999-01-01"}, "departs_from"),
    ("/api/v1/departures/", {"date_from": "0000-00-00"}, "date_from"),
    ("/api/v1/departures/", {"departs_after": "2026-02-30T10:00:00Z"}, "departs_after"),
    ("/api/v1/departures/", {"min_free_teu": "-5"}, "min_free_teu"),
    ("/api/v1/departures/", {"min_free_teu": "1e999"}, "min_free_teu"),
    ("/api/v1/vessel-calls/", {"etd_after": "yesterday"}, "etd_after"),
    ("/api/v1/events/", {"since": "10000-01-01T00:00:00Z"}, "since"),
    ("/api/v1/connections/", {"station": "YIWU-W", "containers": "42G1:2", "destination": "NLRTM",
                              "latest_sailing": "2026-99-99"}, "latest_sailing"),
    ("/api/v1/connections/", {"station": "YIWU-W", "containers": "42G1:-2", "destination": "NLRTM"}, "containers"),
    ("/api/v1/quotes/", {"departure": SQL, "containers": "42G1:2"}, "departure"),
    ("/api/v1/bookings/", {"page": "-1"}, None),
    ("/api/v1/bookings/", {"page_size": "99999999999999999999"}, "page_size"),
])
def test_out_of_range_dates_and_numbers_in_queries_are_400s(shipper_api, connecting, url, params, field):
    response = shipper_api.get(url, params)

    if field is None:  # pagination: a page that does not exist is a 404
        assert response.status_code in (200, 404)
        return
    assert_error_shape(response, 400, field)


def test_dcsa_rejects_out_of_range_dates_in_its_own_error_object(api_client, shipper):
    api_client.force_login(shipper.user)

    response = api_client.get("/api/dcsa/tnt/v2/events", {"eventCreatedDateTime:gte": "2026-02-30T00:00:00Z"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["reason"] == "invalidQuery"


# --- Codes: container, UN, HS, USCC ------------------------------------------------------------------------


@pytest.mark.parametrize(("number", "field"), [
    ("CSQU3054384", "number"),  # wrong check digit
    ("CSQ3054383", "number"),
    ("集装箱3054383", "number"),
    ("<b>CSQU3054383</b>", "number"),
    ("", "number"),
])
def test_invalid_container_numbers_are_refused(shipper_api, shipper, connecting, number, field):
    booking = book(shipper.actor, connecting)

    response = shipper_api.post(f"/api/v1/bookings/{booking.reference}/containers/",
                                {"number": number, "size_type": "42G1"}, format="json")

    assert_error_shape(response, 400, field)
    assert not Container.objects.exists()


@pytest.mark.parametrize(("changes", "field"), [
    ({"vgm_kg": "-1"}, "vgm_kg"),
    ({"vgm_kg": "999999999"}, "vgm_kg"),
    ({"vgm_method": 7}, "vgm_method"),
    ({"seal_number": "S" * 31}, "seal_number"),
])
def test_invalid_container_updates_are_refused(shipper_api, shipper, connecting, changes, field):
    booking = book(shipper.actor, connecting)
    booking_services.container_assign(actor=shipper.actor, booking=booking, number="CSQU3054383", size_type="42G1")

    response = shipper_api.patch(f"/api/v1/bookings/{booking.reference}/containers/CSQU3054383/", changes,
                                 format="json")

    assert_error_shape(response, 400, field)
    assert Container.objects.get().vgm_kg is None


@pytest.mark.parametrize(("changes", "field"), [
    ({"declarant_uscc": "123"}, "declarant_uscc"),
    ({"declarant_uscc": "91110000600037341X"}, "declarant_uscc"),  # wrong check character
    ({"lines": [{"hs_code": "12345"}]}, "lines.0.hs_code"),
    ({"lines": [{"hs_code": "ABCDEFGHIJ"}]}, "lines.0.hs_code"),
    ({"lines": [{"un_number": "99"}]}, "lines.0.un_number"),
    ({"lines": [{"value": "-100"}]}, "lines.0.value"),
    ({"lines": [{"gross_weight_kg": "-1"}]}, "lines.0.gross_weight_kg"),
    ({"lines": [{"quantity": "1e400"}]}, "lines.0.quantity"),
    ({"lines": [{"origin_country": "XX"}]}, "lines.0.origin_country"),
    ({"lines": []}, "lines"),
    ({"trade_mode": "<script>"}, "trade_mode"),
])
def test_invalid_declarations_are_refused_with_field_messages(shipper_api, shipper, connecting, changes, field):
    booking = book(shipper.actor, connecting)
    body = {"booking": booking.reference, "trade_mode": "0110", "transport_mode": "rail_vessel",
            "declarant_uscc": factories.VALID_USCC, "lines": [factories.goods_line()]}
    if "lines" in changes and changes["lines"]:
        changes = {"lines": [{**factories.goods_line(), **changes["lines"][0]}]}
    body.update(changes)

    response = shipper_api.post("/api/v1/declarations/", body, format="json")

    assert_error_shape(response, 400, field)
    assert not Declaration.objects.exists()


@pytest.mark.parametrize(("item", "field"), [
    ({"event_type": "EQUIPMENT", "event_code": "GTIN"}, "equipment_reference"),
    ({"event_type": "NOPE", "event_code": "GTIN", "equipment_reference": "CSQU3054383"}, "event_type"),
    ({"event_type": "EQUIPMENT", "event_code": "GTIN", "equipment_reference": "CSQU3054383",
      "event_datetime": "2026-02-30T10:00:00Z"}, "event_datetime"),
    ({"event_type": "EQUIPMENT", "event_code": "GTIN", "equipment_reference": "CSQU3054383",
      "vgm_kg": "-5"}, "vgm_kg"),
])
def test_bad_events_are_refused_alone_and_make_a_list_refused_whole(api_client, connecting, item, field):
    network = connecting.network
    api_client.force_login(factories.user(network.operator))
    railway = APIClient()
    railway.force_login(factories.user(network.railway))
    departure = connecting.departure
    good = {"event_type": "TRANSPORT", "event_code": "DEPA", "classifier": "EST",
            "transport_reference": departure.reference,
            "event_datetime": (departure.planned_departure + timedelta(minutes=30)).isoformat()}

    single = api_client.post("/api/v1/events/", item, format="json")
    bulk = railway.post("/api/v1/events/", [good, item, "not an object"], format="json")
    good_alone = railway.post("/api/v1/events/", [good], format="json")

    assert_error_shape(single, 400, field)
    assert_error_shape(bulk, 400, f"1.{field}")
    assert "2" in bulk.json()["errors"]  # the item that is not an object, by its index
    # the good item was not applied with the list; alone it is
    assert good_alone.json()["applied"] == 1
    assert Event.objects.filter(transport_reference=departure.reference).count() == 1


def test_a_bulk_over_the_limit_is_refused_whole(api_client, network):
    api_client.force_login(factories.user(network.operator))
    items = [{"event_type": "EQUIPMENT", "event_code": "GTIN", "equipment_reference": "CSQU3054383"}] * 1001

    response = api_client.post("/api/v1/events/", json.dumps(items), content_type="application/json")

    assert_error_shape(response, 400)


# --- Forms ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("data", "field"), [
    ({"station": SQL, "st1": "42G1", "q1": "2"}, "station"),
    ({"station": "YIWU-W", "st1": "42G1", "q1": "-3"}, "q1"),
    ({"station": "YIWU-W", "st1": "42G1", "q1": "1e9"}, "q1"),
    ({"station": "YIWU-W", "st1": "<script>", "q1": "1"}, "st1"),
    ({"station": "YIWU-W", "st1": "42G1", "q1": "1", "latest_sailing": "2026-02-30"}, "latest_sailing"),
])
def test_the_booking_wizard_answers_bad_input_with_field_errors(shipper, network, data, field):
    client = Client()
    client.force_login(shipper.user)

    response = client.post("/bookings/new/", data)

    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not Booking.objects.exists()


@pytest.mark.parametrize(("query", "status"), [
    ({"container": SQL, "booking": "BK-1"}, 404),
    ({"container": "<script>alert(1)</script>", "booking": "<b>x</b>"}, 404),
    ({"container": "集装箱", "booking": "订舱"}, 404),
    ({"container": "x" * 5000, "booking": "y" * 5000}, 404),
])
def test_public_tracking_answers_odd_input_without_echoing_markup(client, db, query, status):
    response = client.get("/track/", query)

    assert response.status_code in (200, 400, 404)
    assert "<script>alert(1)</script>" not in response.content.decode()


@pytest.mark.parametrize(("url", "field"), [
    ("/api/v1/vessel-calls/", "cy_cutoff_after"),
    ("/api/v1/departures/", "departs_after"),
    ("/api/v1/events/", "since"),
    ("/api/v1/declarations/", "submitted_before"),
])
@pytest.mark.parametrize("value", ["0209-09-22T09:50:35+21:37", "0001-01-01T00:00:00+05:00",
                                   "9999-12-31T23:00:00-09:00"])
def test_date_times_postgresql_cannot_hold_are_converted_or_refused_not_a_500(shipper_api, url, field, value):
    response = shipper_api.get(url, {field: value})

    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert field in response.json()["errors"]


@pytest.mark.parametrize("page_size", ["null", "-3", "0", "1.5", "٣"])
def test_a_page_size_that_is_not_a_positive_whole_number_is_refused(shipper_api, page_size):
    response = shipper_api.get("/api/v1/bookings/", {"page_size": page_size})

    assert_error_shape(response, 400, "page_size")


@pytest.mark.parametrize("params", [{"since": ""}, {"container": "", "booking": ""}])
def test_an_empty_filter_is_no_filter_as_the_schema_says(shipper_api, params):
    assert shipper_api.get("/api/v1/events/", params).status_code == 200


def test_the_schema_says_an_empty_query_value_is_allowed_and_errors_have_their_shape(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    bookings = schema["paths"]["/api/v1/bookings/"]["get"]
    assert all(p.get("allowEmptyValue") for p in bookings["parameters"] if p["in"] == "query")
    assert {"400", "401", "403", "404", "429"} <= set(bookings["responses"])
    assert bookings["responses"]["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"}
    assert {} in schema["paths"]["/api/v1/stations/"]["get"]["security"]
    assert {} not in bookings["security"]


@pytest.mark.parametrize(("url", "params", "field"), [
    ("/api/v1/departures/", {"has_free_capacity": "-58800"}, "has_free_capacity"),
    ("/api/v1/stations/", {"issues_bills_of_lading": "perhaps"}, "issues_bills_of_lading"),
    ("/api/v1/declarations/", {"risk_selected": "2"}, "risk_selected"),
    ("/api/v1/events/", {"page_size": "null"}, "page_size"),
])
def test_yes_no_filters_and_the_event_page_size_refuse_what_they_cannot_read(shipper_api, url, params, field):
    assert_error_shape(shipper_api.get(url, params), 400, field)


def test_yes_no_filters_still_take_true_and_false(shipper_api):
    assert shipper_api.get("/api/v1/departures/", {"has_free_capacity": "true"}).status_code == 200
    assert shipper_api.get("/api/v1/stations/", {"issues_bills_of_lading": "False"}).status_code == 200
