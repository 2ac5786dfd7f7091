"""Single declaration, single release: a shipper declares a booking's goods, customs and border inspection clear
it in their queue, and the shipper sees it released, in a real browser."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from bookings import selectors as booking_selectors
from bookings import services as booking_services
from customs.models import Declaration, DeclarationStatus, RiskRule
from intermodal.access import Actor
from intermodal.models import Organisation
from stations.models import Location, Station

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NUMBERS = ["CSQU3054383", "TCNU7200794"]


@pytest.fixture
def booking(transactional_db):
    """A confirmed 2 x 42G1 booking of demo-shipper-a from Yiwu with both containers assigned."""
    call_command("seed_demo", "--quiet", verbosity=0)
    RiskRule.objects.update(is_active=False)  # so that risk selection does not send it to inspection
    shipper = Organisation.objects.get(code="demo-shipper-a")
    actor = Actor(organisation=shipper, user=shipper.users.first())
    lines = {"42G1": 2}
    connection = next(
        connection
        for station in Station.objects.filter(city__icontains="Yiwu").order_by("code")
        for connection in booking_selectors.connections_search(
            station=station, lines=lines, destination=Location.objects.get(unlocode="NLRTM")
        )
        if station.inspection_offices.exists()
    )
    booking = booking_services.booking_create(
        actor=actor, departure=connection.departure, vessel_call=connection.vessel_call,
        destination=Location.objects.get(unlocode="NLRTM"), lines=lines, commodity="Christmas decorations",
        cargo_weight_kg=Decimal("18000"), confirm=True,
    )
    for number in NUMBERS:
        booking_services.container_assign(actor=actor, booking=booking, number=number, size_type="42G1")
    return booking


def log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill("demo1234")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/")


def log_out(page) -> None:
    page.locator(".site-tools form[action$='/logout/'] button").click()
    page.wait_for_load_state()


def in_english(page) -> None:
    """Officers' demo accounts read Chinese: switch the page language with the header's language form."""
    page.locator("#language-select").select_option("en")
    page.locator(".lang-form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"


def officer_clears(page, live_server, screenshot, username: str, reference: str, reason: str) -> None:
    log_in(page, live_server, username)
    in_english(page)
    page.get_by_role("link", name="Declarations").click()
    row = page.locator(f"tr[data-reference='{reference}']")
    row.wait_for()
    screenshot(page, f"declaration-{username}-1-queue")
    row.get_by_role("link", name=reference).click()
    page.wait_for_url(f"{live_server.url}/declarations/{reference}/")
    page.get_by_label("Clear", exact=True).check()
    page.get_by_label("Reason").fill(reason)
    screenshot(page, f"declaration-{username}-2-decide")
    page.get_by_role("button", name="Record decision").click()
    page.wait_for_url(f"{live_server.url}/declarations/{reference}/")
    agency = "customs" if username == "customs" else "border_inspection"
    assert page.locator(f"tr[data-decision='{agency}-clear']").is_visible()
    screenshot(page, f"declaration-{username}-3-cleared")
    log_out(page)


def test_a_declaration_is_declared_cleared_by_both_agencies_and_released(live_server, page, screenshot, booking):
    log_in(page, live_server, "shipper-a")
    page.goto(f"{live_server.url}/bookings/{booking.reference}/")
    page.get_by_role("link", name="Declare goods").click()
    page.wait_for_url(f"{live_server.url}/declarations/new/{booking.reference}/")

    assert page.get_by_label("Declarant USCC").input_value() == booking.shipper.uscc
    page.get_by_label("Trade mode").select_option("1039")
    for number in NUMBERS:
        assert page.get_by_label(number).is_checked()
    page.get_by_label("HS code, line 1").fill("9505100000")
    page.get_by_label("Description, line 1").fill("Christmas decorations, plastic")
    page.get_by_label("Quantity, line 1").fill("24000")
    page.get_by_label("Unit, line 1").fill("pcs")
    page.get_by_label("Gross weight (kg), line 1").fill("18000")
    page.get_by_label("Value, line 1").fill("52000")
    assert page.get_by_label("Currency, line 1").input_value() == "USD"
    assert page.get_by_label("Origin country, line 1").input_value() == "CN"
    screenshot(page, "declaration-1-form")
    page.get_by_role("button", name="Save draft declaration").click()

    page.get_by_role("button", name="Submit").wait_for()
    declaration = Declaration.objects.get(booking=booking)
    assert page.url == f"{live_server.url}/declarations/{declaration.reference}/"
    assert page.locator("h1 [data-status]").inner_text() == "Draft"
    screenshot(page, "declaration-2-draft")
    page.get_by_role("button", name="Submit").click()
    page.locator("h1 [data-status='submitted']").wait_for()
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.SUBMITTED and not declaration.risk_selected
    screenshot(page, "declaration-3-submitted")
    log_out(page)

    officer_clears(page, live_server, screenshot, "customs", declaration.reference, "Documents in order")
    officer_clears(page, live_server, screenshot, "ciq", declaration.reference, "No quarantine concerns")

    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.RELEASED
    log_in(page, live_server, "shipper-a")
    page.goto(f"{live_server.url}/bookings/{booking.reference}/")
    page.locator("#declaration-link").get_by_role("link", name=declaration.reference).click()
    badge = page.locator("h1 [data-status]")
    assert badge.inner_text() == "Released"
    assert page.locator("#decisions tr[data-decision$='-clear']").count() == 2
    screenshot(page, "declaration-4-released")
