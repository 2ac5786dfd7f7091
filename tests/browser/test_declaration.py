"""Journey (c), single declaration, single release: the shipper declares the goods of the containers journey (b)
put on the train, customs and border inspection each clear it from their queue, and the shipper sees it
released; in a real browser."""

import pytest

from customs.models import Declaration, DeclarationStatus
from tests.browser import scenario
from tests.browser.pages import log_in, log_out

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NUMBERS = scenario.NUMBERS


@pytest.fixture
def booking(demo):
    """Where journey (b) leaves off: both containers of the booking gated in and on the train."""
    return scenario.loaded().booking


def officer_clears(page, live_server, screenshot, username: str, reference: str, reason: str) -> None:
    log_in(page, live_server, username, "en")  # the officers' demo accounts read Chinese
    page.get_by_role("link", name="Declarations").click()
    row = page.locator(f"tr[data-reference='{reference}']")
    row.wait_for()
    screenshot(page, f"journey-c-{username}-1-queue", docs="declarations-queue" if username == "customs" else "")
    row.get_by_role("link", name=reference).click()
    page.wait_for_url(f"{live_server.url}/declarations/{reference}/")
    page.get_by_label("Clear", exact=True).check()
    page.get_by_label("Reason").fill(reason)
    screenshot(page, f"journey-c-{username}-2-decide", docs="declaration-decide" if username == "customs" else "",
               scroll_to="#actions")
    page.get_by_role("button", name="Record decision").click()
    page.wait_for_url(f"{live_server.url}/declarations/{reference}/")
    agency = "customs" if username == "customs" else "border_inspection"
    assert page.locator(f"tr[data-decision='{agency}-clear']").is_visible()
    screenshot(page, f"journey-c-{username}-3-cleared")
    log_out(page)


def test_journey_c_customs_and_border_inspection_release_the_declaration(live_server, page, screenshot, booking):
    log_in(page, live_server, "shipper-a")
    page.goto(f"{live_server.url}/bookings/{booking.reference}/")
    page.get_by_role("link", name="Declare goods").click()
    page.wait_for_url(f"{live_server.url}/declarations/new/{booking.reference}/")

    assert page.get_by_label("Declarant USCC").input_value() == booking.shipper.uscc
    page.get_by_label("Trade mode").select_option("1039")
    covered = page.locator("#containers-covered")
    for number in NUMBERS:
        assert covered.locator(f"[data-container='{number}']").is_visible()
    page.get_by_label("HS code, line 1").fill("9505100000")
    page.get_by_label("Description, line 1").fill("Christmas decorations, plastic")
    page.get_by_label("Quantity, line 1").fill("24000")
    page.get_by_label("Unit, line 1").fill("pcs")
    page.get_by_label("Gross weight (kg), line 1").fill("18000")
    page.get_by_label("Value, line 1").fill("52000")
    assert page.get_by_label("Currency, line 1").input_value() == "USD"
    assert page.get_by_label("Origin country, line 1").input_value() == "CN"
    screenshot(page, "journey-c-1-form", docs="declaration-form")
    page.get_by_role("button", name="Save draft declaration").click()

    page.get_by_role("button", name="Submit").wait_for()
    declaration = Declaration.objects.get(booking=booking)
    assert page.url == f"{live_server.url}/declarations/{declaration.reference}/"
    assert page.locator("h1 [data-status]").inner_text() == "Draft"
    screenshot(page, "journey-c-2-draft")
    page.get_by_role("button", name="Submit").click()
    page.locator("h1 [data-status='submitted']").wait_for()
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.SUBMITTED and not declaration.risk_selected
    screenshot(page, "journey-c-3-submitted")
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
    screenshot(page, "journey-c-4-released")
