"""The text policy on the pages (intermodal.forms.InputPolicyForm): every form has it, and hostile text posted by a
browser is a field error on the form, never a 500; codes typed in full width are normalised. Also: what Django
answers itself on the API (too many fields, a bad Host) is in the API's error shape."""

import importlib
import inspect

import pytest
from django import forms
from django.test import Client

from bookings.models import Booking, BookingStatus
from customs.models import Declaration, GoodsLine
from intermodal.forms import InputPolicyForm
from tests import factories
from tests.bookings.conftest import book
from tests.security.test_bad_input import assert_error_shape

pytestmark = pytest.mark.django_db

FORM_MODULES = ["intermodal.forms", "bookings.forms", "bookings.csv_views", "customs.forms", "operations.forms",
                "tracking.forms", "notifications.forms", "documents.views", "figures.views"]
NUMBERS = ["CSQU3054383", "TCNU7200794"]


@pytest.fixture
def browser(shipper):
    client = Client()
    client.force_login(shipper.user)
    return client


def test_every_form_of_the_pages_applies_the_text_policy():
    found = []
    for name in FORM_MODULES:
        module = importlib.import_module(name)
        for _attr, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, forms.BaseForm) and cls.__module__ == name:
                found.append(cls)
                assert issubclass(cls, InputPolicyForm), f"{name}.{cls.__name__} lacks InputPolicyForm"
    assert len(found) >= 20


@pytest.mark.parametrize(("reason", "message"), [
    ("Changed plans\x1b[0m", "U+001B"),
    ("Changed\x00plans", "U+0000"),
    ("Changed\x85plans", "U+0085"),  # inside: trailing whitespace (NEL is one) is trimmed first
])
def test_hostile_text_in_a_page_form_is_a_field_error(browser, shipper, connecting, reason, message):
    booking = book(shipper.actor, connecting)

    response = browser.post(f"/bookings/{booking.reference}/cancel/", {"cancel-reason": reason})

    assert response.status_code == 400
    assert message in str(response.context["cancel_form"].errors["reason"])
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CONFIRMED


@pytest.mark.parametrize(("data", "field"), [
    ({"station": "YIWU-W", "st1": "42G1", "q1": "２"}, "q1"),  # a full-width digit is not a number here
    ({"station": "YIWU-W", "st1": "42G1", "q1": "٢"}, "q1"),
    ({"station": "YIWU-W\x1b", "st1": "42G1", "q1": "1"}, "station"),
])
def test_the_booking_wizard_takes_ascii_numbers_and_no_control_characters(browser, network, data, field):
    response = browser.post("/bookings/new/", data)

    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not Booking.objects.exists()


def _declaration_post(**line):
    row = {"hs_code": "9503008900", "description": "Plastic toys", "quantity": "1200", "unit": "pcs",
           "gross_weight_kg": "18000", "value": "36000", "currency": "USD", "origin_country": "CN", "un_number": ""}
    row.update(line)
    data = {"declarant_uscc": factories.VALID_USCC, "trade_mode": "0110", "transport_mode": "rail_vessel",
            "containers": NUMBERS}
    data.update({f"line0_{name}": value for name, value in row.items()})
    return data


@pytest.fixture
def declarable(shipper, connecting):
    from bookings import services

    booking = book(shipper.actor, connecting, lines={"42G1": 2})
    for number in NUMBERS:
        services.container_assign(actor=shipper.actor, booking=booking, number=number, size_type="42G1")
    return booking


@pytest.mark.parametrize(("line", "field"), [
    ({"description": "Toys\x00"}, "line0_description"),
    ({"unit": "pcs\x1b"}, "line0_unit"),
    ({"quantity": "１２００"}, "line0_quantity"),
    ({"hs_code": "٢٣٩٩٩٩٩٩٩٩"}, "line0_hs_code"),
])
def test_the_declaration_page_refuses_hostile_goods_lines_on_their_row(browser, declarable, line, field):
    response = browser.post(f"/declarations/new/{declarable.reference}/", _declaration_post(**line))

    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not Declaration.objects.exists()


def test_the_declaration_page_normalises_codes_typed_in_full_width(browser, declarable):
    data = _declaration_post(hs_code="²³ 9999-9999", currency="ｕｓｄ", origin_country="cn")
    data["declarant_uscc"] = factories.VALID_USCC.lower()

    response = browser.post(f"/declarations/new/{declarable.reference}/", data)

    assert response.status_code == 302, response.context["form"].errors if response.context else response
    line = GoodsLine.objects.get()
    assert (line.hs_code, line.currency, line.origin_country) == ("2399999999", "USD", "CN")
    assert Declaration.objects.get().declarant_uscc == factories.VALID_USCC


def test_public_tracking_normalises_a_full_width_container_number(client, shipper, connecting):
    from bookings import services

    booking = book(shipper.actor, connecting)
    services.container_assign(actor=shipper.actor, booking=booking, number=NUMBERS[0], size_type="42G1")

    found = client.get("/track/", {"container": "ＣＳＱＵ ３０５４３８-３", "booking": booking.reference})
    hostile = client.get("/track/", {"container": "CSQU3054383\x1b", "booking": booking.reference})

    assert found.status_code == 200 and booking.reference in found.content.decode()
    assert hostile.status_code == 200 and "container" in hostile.context["form"].errors


def test_a_login_with_a_nul_in_the_username_is_a_form_error(client, shipper):
    response = client.post("/login/", {"username": "alice\x00", "password": "whatever"})

    assert response.status_code in (200, 400)
    assert response.context["form"].errors


# --- Django's own answers on the API, in the error shape ----------------------------------------------------------


def test_more_query_fields_than_allowed_is_a_400_in_the_error_shape(client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 50
    query = "&".join(f"f{n}=1" for n in range(60))

    response = client.get(f"/api/v1/stations/?{query}")

    assert_error_shape(response, 400)


def test_an_unknown_host_on_the_api_is_a_400_in_the_error_shape(client):
    response = client.get("/api/v1/stations/", HTTP_HOST="attacker.example")

    assert_error_shape(response, 400)


# --- The bookings CSV import, a page input of its own -------------------------------------------------------------


@pytest.mark.parametrize("commodity", ["Toys\x00", "Toys\x1b[0m"])
def test_a_csv_import_with_a_control_character_is_refused_whole(browser, connecting, commodity):
    from bookings.models import BookingImport
    from tests.bookings.test_csv import HEADER, csv_file, row

    response = browser.post("/bookings/import/", {"file": csv_file([HEADER, row(connecting, commodity=commodity)])})

    assert response.status_code == 400
    assert "U+00" in response.content.decode()
    assert not BookingImport.objects.exists()


def test_a_csv_import_takes_ascii_numbers_only(browser, connecting):
    from bookings.imports import row_arguments
    from intermodal.errors import InvalidInput

    with pytest.raises(InvalidInput) as refused:
        row_arguments({"departure": connecting.departure.reference, "vessel_call": connecting.vessel_call.reference,
                       "destination": "nlrtm", "containers": "42G1:1", "commodity": "Toys",
                       "cargo_weight_kg": "１８０００", "free_days": "٧"})

    assert set(refused.value.errors) == {"cargo_weight_kg", "free_days"}


@pytest.mark.parametrize(("url", "party"), [("/operations/railway/?station=%00", "railway"),
                                            ("/bookings/?page=1%00", "shipper"),
                                            ("/declarations/?status=%00draft", "shipper")])
def test_a_nul_in_a_page_query_string_is_a_400_page_not_a_500(client, network, shipper, url, party):
    client.force_login(factories.user(network.railway) if party == "railway" else shipper.user)

    response = client.get(url)

    assert response.status_code == 400
