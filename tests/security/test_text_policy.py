"""The one text policy (guard/text.py, docs/SECURITY.md "Text policy") through the API: hostile text in every
free-text field of the write endpoints, codes normalised or refused, numbers as numbers, dates in range, paths and
query strings; and exports that never fail on a stored value. The pages' side is in test_text_policy_pages.py."""

import io
import json
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from bookings import services as booking_services
from bookings.models import Booking, Container
from customs.models import Declaration, GoodsLine
from intermodal.access import Actor
from intermodal.models import ApiKey
from journey import services as journey
from tests import factories
from tests.bookings.conftest import book
from tests.security.test_bad_input import assert_error_shape, booking_body

pytestmark = pytest.mark.django_db

NUMBERS = ["CSQU3054383", "TCNU7200794"]

# (id, value, refused): each is refused with a field error naming the field, or (full-width text is text) kept.
HOSTILE = [
    ("NUL", "Toys\x00", True),
    ("lone surrogate", "Toys\ud800", True),
    ("escape", "\x1b[31mToys", True),
    ("C1 control", "Toys\x85more", True),
    ("DEL", "To\x7fys", True),
    ("10k characters", "x" * 10_000, True),
    ("full-width digits", "玩具 １２３", False),
]


def post_json(client, url, body, method="post"):
    # json.dumps writes a lone surrogate and a NUL as \u escapes, as a hostile client would send them
    return getattr(client, method)(url, json.dumps(body), content_type="application/json")


@pytest.fixture
def shipper_api(api_client, shipper):
    api_client.force_login(shipper.user)
    return api_client


def _declared_booking(shipper, connecting):
    booking = book(shipper.actor, connecting, lines={"42G1": 2})
    for number in NUMBERS:
        booking_services.container_assign(actor=shipper.actor, booking=booking, number=number, size_type="42G1")
    return booking


def _declaration_body(booking, **line):
    return {"booking": booking.reference, "declarant_uscc": factories.VALID_USCC, "trade_mode": "0110",
            "transport_mode": "rail_vessel", "containers": NUMBERS, "lines": [factories.goods_line(**line)]}


def _write(kind, value, *, client, shipper, connecting):
    """One write endpoint with `value` in one of its free-text fields: (response, field named in errors)."""
    if kind == "booking commodity":
        return post_json(client, "/api/v1/bookings/", booking_body(connecting, commodity=value)), "commodity"
    if kind == "booking cancel reason":
        booking = book(shipper.actor, connecting)
        return post_json(client, f"/api/v1/bookings/{booking.reference}/cancel/", {"reason": value}), "reason"
    if kind == "booking amend reason":
        booking = book(shipper.actor, connecting)
        body = {"containers": [{"size_type": "42G1", "quantity": 1}], "reason": value}
        return post_json(client, f"/api/v1/bookings/{booking.reference}/amend/", body), "reason"
    if kind == "container VGM signatory":
        booking = book(shipper.actor, connecting)
        booking_services.container_assign(actor=shipper.actor, booking=booking, number=NUMBERS[0], size_type="42G1")
        url = f"/api/v1/bookings/{booking.reference}/containers/{NUMBERS[0]}/"
        body = {"vgm_kg": 25000, "vgm_method": 1, "vgm_signatory": value}
        return post_json(client, url, body, method="patch"), "vgm_signatory"
    if kind in ("declaration line description", "declaration line unit"):
        name = kind.rsplit(" ", 1)[1]
        body = _declaration_body(_declared_booking(shipper, connecting), **{name: value})
        return post_json(client, "/api/v1/declarations/", body), f"lines.0.{name}"
    if kind == "API key name":
        return post_json(client, "/api/v1/api-keys/", {"name": value}), "name"
    if kind in ("B/L consignee name", "B/L consignee address (multi-line)"):
        from tests.bookings.test_bill_of_lading import REQUEST

        booking = book(shipper.actor, connecting)
        name = "consignee_name" if kind == "B/L consignee name" else "consignee_address"
        url = f"/api/v1/bookings/{booking.reference}/bill-of-lading/"
        return post_json(client, url, {**REQUEST, name: value}), name
    if kind == "subscription name":
        body = {"url": "https://erp.example/hook", "event_kinds": ["equipment.*"], "name": value}
        return post_json(client, "/api/v1/subscriptions/", body), "name"
    if kind == "decision reason":
        from customs import services as customs_services
        from tests.customs.conftest import draft

        declaration = draft(SimpleNamespace(booking=_declared_booking(shipper, connecting), shipper=shipper))
        customs_services.declaration_submit(actor=shipper.actor, declaration=declaration)
        customs, _ciq = factories.inspection_offices(connecting.network.yiwu)
        client.force_login(factories.user(customs))
        url = f"/api/v1/declarations/{declaration.reference}/decide/"
        return post_json(client, url, {"decision": "clear", "reason": value}), "reason"
    raise AssertionError(kind)


WRITES = ["booking commodity", "booking cancel reason", "booking amend reason", "container VGM signatory",
          "declaration line description", "declaration line unit", "API key name", "B/L consignee name",
          "B/L consignee address (multi-line)", "subscription name", "decision reason"]


@pytest.mark.parametrize("kind", WRITES)
@pytest.mark.parametrize(("case", "value", "refused"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_text_in_every_free_text_field_is_a_field_error_never_a_500(shipper_api, shipper, connecting,
                                                                             kind, case, value, refused):
    response, field = _write(kind, value, client=shipper_api, shipper=shipper, connecting=connecting)

    if refused:
        assert_error_shape(response, 400, field)
    else:
        assert response.status_code in (200, 201), response.content
        # full-width text is text: kept as sent (but for where a value the service refuses is not text's fault)


def test_a_control_character_is_named_in_the_message(shipper_api, connecting):
    response = post_json(shipper_api, "/api/v1/bookings/", booking_body(connecting, commodity="Toys\x1b"))

    assert_error_shape(response, 400, "commodity")
    assert "U+001B" in response.json()["errors"]["commodity"][0]
    assert not Booking.objects.exists()


def test_leading_and_trailing_whitespace_is_trimmed_everywhere(shipper_api, connecting):
    response = post_json(shipper_api, "/api/v1/bookings/", booking_body(connecting, commodity="\u3000 Toys \n\t"))

    assert response.status_code == 201, response.content
    assert Booking.objects.get().commodity == "Toys"


def test_multi_line_text_keeps_tab_and_line_breaks_but_not_other_controls(api_client, shipper, connecting):
    from customs import services as customs_services
    from tests.customs.conftest import draft

    booking = _declared_booking(shipper, connecting)
    customs, _ciq = factories.inspection_offices(connecting.network.yiwu)
    declared = SimpleNamespace(booking=booking, shipper=shipper)
    declaration = draft(declared)
    customs_services.declaration_submit(actor=shipper.actor, declaration=declaration)
    officer = factories.user(customs)
    officer_actor = Actor(organisation=customs, user=officer)
    customs_services.declaration_decide(actor=officer_actor, declaration=declaration, kind="inspect", reason="Sample")
    customs_services.inspection_schedule(actor=officer_actor, declaration=declaration,
                                         appointment_at=timezone.now() + timedelta(hours=2), place="Bay 3")
    api_client.force_login(officer)
    url = f"/api/v1/declarations/{declaration.reference}/inspection/result/"

    refused = post_json(api_client, url, {"result": "passed", "findings": "Seal ok\x1b"})
    kept = post_json(api_client, url, {"result": "passed", "findings": "Seal ok\r\n\tCartons: 1,200"})

    assert_error_shape(refused, 400, "findings")
    assert kept.status_code == 200, kept.content
    assert kept.json()["inspection"]["findings"] == "Seal ok\r\n\tCartons: 1,200"


# --- Nested JSON: the declaration's goods lines are a real serializer ----------------------------------------


@pytest.mark.parametrize(("line", "field"), [
    ({"description": "Toys\x00"}, "lines.0.description"),
    ({"unit": "pcs\ud800"}, "lines.0.unit"),
    ({"quantity": True}, "lines.0.quantity"),
    ({"value": "١٢٠٠"}, "lines.0.value"),  # Arabic-Indic digits: not a number here
    ({"value": {"amount": 1}}, "lines.0.value"),  # a dict is not stored as its Python repr
    ({"description": {"text": "Toys"}}, "lines.0.description"),
    ({"hs_code": "٢٣٩٩٩٩٩٩٩٩"}, "lines.0.hs_code"),  # NFKC leaves Arabic-Indic digits: not ASCII, refused
    ({"colour": "red"}, "lines.0.colour"),
])
def test_goods_lines_take_their_fields_only_with_the_policy(shipper_api, shipper, connecting, line, field):
    body = _declaration_body(_declared_booking(shipper, connecting))
    body["lines"][0].update(line)

    response = post_json(shipper_api, "/api/v1/declarations/", body)

    assert_error_shape(response, 400, field)
    assert not Declaration.objects.exists()
    assert "goods_line_hs_code" not in response.content.decode()  # no constraint name leaks


# --- Codes: normalised (NFKC, upper case, no spaces or hyphens), then validated -------------------------------


def test_unicode_digits_in_an_hs_code_are_normalised_to_ascii(shipper_api, shipper, connecting):
    body = _declaration_body(_declared_booking(shipper, connecting), hs_code="²³99999999")
    body["declarant_uscc"] = factories.VALID_USCC.lower()
    body["containers"] = ["csqu 305438-3", "ＴＣＮＵ７２００７９４"]
    body["lines"][0].update(currency="usd", origin_country="ｃｎ")

    response = post_json(shipper_api, "/api/v1/declarations/", body)

    assert response.status_code == 201, response.content
    line = GoodsLine.objects.get()
    assert (line.hs_code, line.currency, line.origin_country) == ("2399999999", "USD", "CN")
    declaration = Declaration.objects.get()
    assert declaration.declarant_uscc == factories.VALID_USCC
    assert sorted(declaration.containers.values_list("number", flat=True)) == sorted(NUMBERS)


@pytest.mark.parametrize(("number", "status", "stored"), [
    ("ＣＳＱＵ３０５４３８３", 201, "CSQU3054383"),  # full-width: normalised, not a 409 from the constraint
    ("csqu-305438 3", 201, "CSQU3054383"),
    ("CSQU305438٣", 400, None),  # an Arabic-Indic check digit: not ASCII after NFKC
])
def test_container_numbers_are_normalised_or_refused_never_a_409(shipper_api, shipper, connecting, number, status,
                                                                 stored):
    booking = book(shipper.actor, connecting)

    response = post_json(shipper_api, f"/api/v1/bookings/{booking.reference}/containers/",
                         {"number": number, "size_type": "42G1", "seal_number": "sl-0012 34"})

    assert response.status_code == status, response.content
    if stored:
        container = Container.objects.get()
        assert (container.number, container.seal_number) == (stored, "SL001234")
    else:
        assert_error_shape(response, 400, "number")
        assert not Container.objects.exists()


def test_a_destination_and_un_number_are_codes_too(shipper_api, connecting):
    body = booking_body(connecting, destination="nl rtm", un_number="１２６３", imdg_class="3")

    response = post_json(shipper_api, "/api/v1/bookings/", body)

    assert response.status_code in (201, 409), response.content  # 409: the train may not take class 3
    if response.status_code == 201:
        assert (response.json()["destination"], response.json()["un_number"]) == ("NLRTM", "1263")


# --- Numbers: JSON numbers or ASCII digits ----------------------------------------------------------------------


@pytest.mark.parametrize(("changes", "field"), [
    ({"cargo_weight_kg": True}, "cargo_weight_kg"),
    ({"cargo_weight_kg": "１８０００"}, "cargo_weight_kg"),
    ({"cargo_weight_kg": "١٨٠٠٠"}, "cargo_weight_kg"),
    ({"free_days": False}, "free_days"),
    ({"free_days": "٧"}, "free_days"),
    ({"containers": [{"size_type": "42G1", "quantity": True}]}, "containers.0.quantity"),
])
def test_numbers_are_json_numbers_or_ascii_digits(shipper_api, connecting, changes, field):
    response = post_json(shipper_api, "/api/v1/bookings/", booking_body(connecting, **changes))

    assert_error_shape(response, 400, field)
    assert not Booking.objects.exists()


def test_ascii_digit_strings_are_still_numbers(shipper_api, connecting):
    response = post_json(shipper_api, "/api/v1/bookings/", booking_body(connecting, cargo_weight_kg=" 18000.5 ",
                                                                        free_days="10"))

    assert response.status_code == 201, response.content
    assert response.json()["free_days"] == 10


# --- Dates out of range ------------------------------------------------------------------------------------------


def test_a_date_time_out_of_range_in_a_query_is_a_400(shipper_api, connecting):
    response = shipper_api.get("/api/v1/connections/", {"station": "YIWU-W", "containers": "42G1:1",
                                                        "destination": "NLRTM", "latest_sailing": "0001-01-01"})

    assert_error_shape(response, 400, "latest_sailing")


@pytest.mark.parametrize("value", ["0001-01-01", "0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-10:00"])
def test_a_date_time_out_of_range_in_a_body_is_a_400(shipper_api, value):
    response = post_json(shipper_api, "/api/v1/api-keys/", {"name": "ci", "expires_at": value})

    assert_error_shape(response, 400, "expires_at")
    assert not ApiKey.objects.exists()


def test_an_event_time_out_of_range_is_a_400_alone_and_in_a_bulk(api_client, network):
    api_client.force_login(factories.user(network.operator))
    item = {"event_type": "EQUIPMENT", "event_code": "GTIN", "equipment_reference": NUMBERS[0],
            "event_datetime": "0001-01-01T00:00:00+08:00"}

    single = post_json(api_client, "/api/v1/events/", item)
    bulk = post_json(api_client, "/api/v1/events/", [item])

    assert_error_shape(single, 400, "event_datetime")
    assert_error_shape(bulk, 400, "0.event_datetime")


# --- Paths and query strings ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/track/%00/", "/api/v1/bookings/BK%1B1/", "/api/v1/declarations/%C2%85/"])
def test_a_control_character_in_an_api_path_is_a_404_in_the_error_shape(shipper_api, path):
    assert_error_shape(shipper_api.get(path), 404)


def test_a_control_character_in_a_page_path_is_a_404_page(client, shipper):
    client.force_login(shipper.user)

    assert client.get("/bookings/BK%00/").status_code == 404


@pytest.mark.parametrize(("url", "params", "field"), [
    ("/api/v1/bookings/", {"reference": "BK\x1b"}, "reference"),
    ("/api/v1/events/", {"container": "CSQU\x00"}, "container"),
    ("/api/v1/connections/", {"station": "YIWU-W\x07", "containers": "42G1:1", "destination": "NLRTM"}, "station"),
    ("/api/v1/stations/", {"q": "义乌\x9b"}, "q"),
])
def test_a_control_character_in_any_query_value_is_a_400_naming_it(shipper_api, url, params, field):
    assert_error_shape(shipper_api.get(url, params), 400, field)


# --- Exports never fail on a stored value --------------------------------------------------------------------------


@pytest.fixture
def hostile_booking(shipper, connecting):
    """A booking whose stored text holds what the policy now refuses (written before it, or by SQL)."""
    booking = book(shipper.actor, connecting, lines={"42G1": 1})
    booking_services.container_assign(actor=shipper.actor, booking=booking, number=NUMBERS[0], size_type="42G1")
    Booking.objects.filter(pk=booking.pk).update(commodity="\x1b[31mToys\x07\x0b=1+1")
    return booking


@pytest.mark.parametrize("kind", ["bookings", "containers", "events"])
def test_xlsx_exports_never_fail_on_a_stored_control_character(client, shipper, hostile_booking, kind):
    client.force_login(shipper.user)

    response = client.get(f"/bookings/export/{kind}.xlsx")

    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert any(hostile_booking.reference in (cell or "") for row in rows for cell in row if isinstance(cell, str))
    if kind == "bookings":
        assert "\ufffd[31mToys\ufffd\ufffd=1+1" in [cell for row in rows for cell in row]


def test_csv_exports_write_a_stored_control_character_as_a_replacement(client, shipper, hostile_booking):
    client.force_login(shipper.user)

    response = client.get("/bookings/export/bookings.csv")

    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert response.status_code == 200
    assert "\x1b" not in text and "\ufffd[31mToys" in text


def test_the_bill_of_lading_pdf_never_fails_on_a_stored_control_character(shipper, connecting):
    from documents import bill_of_lading as bl
    from journey import services as journey
    from tests.bookings.test_bill_of_lading import REQUEST, verify_url
    from tests.bookings.test_journey import vgm

    network = connecting.network
    network.yiwu.issues_bills_of_lading = True
    network.yiwu.save(update_fields=["issues_bills_of_lading"])
    station = Actor(organisation=network.operator, user=factories.user(network.operator))
    booking = book(shipper.actor, connecting, lines={"42G1": 1})
    request = booking_services.empty_request_create(actor=shipper.actor, booking=booking, size_type="42G1",
                                                    quantity=1)
    journey.empty_request_ready(actor=station, request=request)
    journey.empty_hand_out(actor=station, request=request, number=NUMBERS[0])
    journey.laden_gate_in(actor=station, number=NUMBERS[0], **vgm(0))
    bill = bl.bill_of_lading_request(actor=shipper.actor, booking=booking, **REQUEST)
    type(bill).objects.filter(pk=bill.pk).update(consignee_name="Gifts\x1b B.V.\x00"[:-1],
                                                 goods_description="Decorations\x07\x0c, 1,200 cartons")
    factories.declaration_released(booking)
    booking.refresh_from_db()

    issued = bl.bill_of_lading_issue(actor=station, booking=booking, verify_url=verify_url)

    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(bytes(issued.pdf))).pages)
    assert issued.pdf and "Decorations" in text and "\x1b" not in text


def test_reported_events_take_container_numbers_and_seals_as_codes():
    from journey.api import EventReportSerializer

    report = EventReportSerializer(data={"event_type": "EQUIPMENT", "event_code": "gtin",
                                         "equipment_reference": "ｃｓｑｕ ３０５４３８-３", "seal_number": "sl-12 34"})
    hostile = EventReportSerializer(data={"event_type": "EQUIPMENT", "event_code": "GTIN",
                                          "equipment_reference": "CSQU3054383", "seal_number": "SL\x001234"})

    assert report.is_valid(), report.errors
    assert (report.validated_data["equipment_reference"], report.validated_data["seal_number"]) == (
        "CSQU3054383", "SL1234")
    assert not hostile.is_valid() and "seal_number" in hostile.errors


@pytest.mark.parametrize("value", ["BK\x00-1", "BK\ud800", "BK\x1b"])
def test_a_dcsa_subscription_filter_with_a_control_character_is_a_400_in_dcsas_error(api_client, shipper, value):
    import base64

    from notifications.models import Subscription

    api_client.force_login(shipper.user)
    body = {"callbackUrl": "https://erp.example/dcsa", "secret": base64.b64encode(b"s" * 32).decode(),
            "carrierBookingReference": value}

    response = post_json(api_client, "/api/dcsa/tnt/v2/event-subscriptions", body)

    assert response.status_code == 400
    assert response.json()["errors"][0]["message"].startswith("carrierBookingReference: Remove U+")
    assert not Subscription.objects.exists()


@pytest.mark.parametrize(("url", "params", "field"), [
    ("/api/v1/departures/", {"min_free_teu": "٣"}, "min_free_teu"),
    ("/api/v1/departures/", {"min_free_teu": "３"}, "min_free_teu"),
    ("/api/v1/bookings/", {"page": "２"}, "page"),
])
def test_numbers_in_query_strings_are_ascii_digits_only(shipper_api, url, params, field):
    assert_error_shape(shipper_api.get(url, params), 400, field)


def test_a_dcsa_limit_in_other_digits_is_a_400_in_dcsas_error(shipper_api):
    response = shipper_api.get("/api/dcsa/tnt/v2/events", {"limit": "٣"})

    assert response.status_code == 400
    assert "limit" in response.json()["errors"][0]["message"]


def test_a_subscriptions_codes_are_normalised_and_numbers_refused(shipper_api, network):
    body = {"url": "https://erp.example/hook", "event_kinds": ["equipment.*"],
            "equipment_reference": "ｃｓｑｕ 305438-3", "station_code": " ＹＩＷＵ－Ｗ ",
            "booking_reference": "ＢＫ-2026-000001"}

    created = post_json(shipper_api, "/api/v1/subscriptions/", body)
    as_number = post_json(shipper_api, "/api/v1/subscriptions/", {**body, "equipment_reference": 30543830000})

    assert created.status_code == 201, created.content
    assert (created.json()["equipment_reference"], created.json()["station_code"],
            created.json()["booking_reference"]) == ("CSQU3054383", "YIWU-W", "BK-2026-000001")
    assert_error_shape(as_number, 400, "equipment_reference")


def test_query_filters_on_codes_and_references_are_normalised_too(shipper_api, shipper, connecting):
    booking = _declared_booking(shipper, connecting)
    staff = factories.user(connecting.network.yiwu.operator)
    journey.laden_gate_in(actor=Actor(organisation=staff.organisation, user=staff), number=NUMBERS[0],
                          seal_number="SL1", vgm_kg=Decimal("12000"), vgm_method=1, vgm_signatory="Gate")
    wide_reference = booking.reference.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789BK-"})

    by_container = shipper_api.get("/api/v1/events/", {"container": "ｃｓｑｕ 305438-3"})
    by_booking = shipper_api.get("/api/v1/bookings/", {"reference": f" {wide_reference} "})
    by_station = shipper_api.get("/api/v1/departures/", {"station": "ＹＩＷＵ－Ｗ"})

    assert by_container.status_code == 200
    assert [e["equipment_reference"] for e in by_container.json()["results"]] == [NUMBERS[0]]
    assert [b["reference"] for b in by_booking.json()["results"]] == [booking.reference]
    assert by_station.json()["count"] == shipper_api.get("/api/v1/departures/", {"station": "YIWU-W"}).json()["count"]
    assert by_station.json()["count"] > 0
