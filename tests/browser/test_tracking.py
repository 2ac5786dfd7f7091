"""Journey (e): anyone tracks a container of the booking that sailed in journey (d), by its number and booking
reference, without signing in; the page shows places and times only. In a real browser."""

import pytest

from tests.browser import scenario
from tests.browser.conftest import TABLET_PORTRAIT
from tests.browser.pages import english_on_page, use_language

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sailed(demo):
    """Where journey (d) leaves off: the vessel sailed with both containers."""
    return scenario.sailed()


def test_journey_e_anyone_tracks_a_container_by_its_number(live_server, page, new_page, screenshot, sailed):
    booking, number = sailed.booking, scenario.NUMBERS[0]

    page.goto(f"{live_server.url}/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Track").click()
    page.wait_for_url(f"{live_server.url}/track/")

    # A wrong booking reference tells nothing about the container.
    page.get_by_label("Container number").fill(number)
    page.get_by_label("Booking reference").fill("BK-2000-000001")
    with page.expect_response(lambda response: "/track/?" in response.url) as answer:
        page.get_by_role("button", name="Track").click()
    assert answer.value.status == 404
    assert "No container matches" in page.locator("[data-not-found]").inner_text()
    screenshot(page, "journey-e-1-not-found")

    page.get_by_label("Container number").fill(number.lower())  # as typed from the papers
    page.get_by_label("Booking reference").fill(booking.reference)
    page.get_by_role("button", name="Track").click()
    page.locator("#track-title").wait_for()
    assert number in page.locator("#track-title").inner_text()
    assert page.locator("[data-container-status]").get_attribute("data-container-status") == "sailed"
    steps = page.locator(".timeline__step")
    assert steps.count() == 8
    assert page.locator('.timeline__step[data-done="true"]').count() == 8
    assert page.locator('[aria-current="step"]').get_attribute("data-step") == "vessel_departs"
    assert sailed.vessel_call.terminal.name in page.locator('[data-step="vessel_load"]').inner_text()
    # Places and times only: no goods, no party, no price.
    shown = page.locator("main").inner_text()
    for private in (scenario.COMMODITY, booking.shipper.name, "CNY", str(booking.quote_total)):
        assert private not in shown
    screenshot(page, "journey-e-2-sailed", docs="tracking")

    # The same look-up in Chinese, on a tablet held upright.
    tablet = new_page(TABLET_PORTRAIT, locale="zh-CN")
    tablet.goto(f"{live_server.url}/track/?container={number}&booking={booking.reference}")
    use_language(tablet, "zh-hans")
    assert tablet.locator("[data-container-status]").inner_text() == "已开航"
    assert sailed.vessel_call.terminal.name_zh in tablet.locator('[data-step="vessel_load"]').inner_text()
    assert english_on_page(tablet) == []
    assert tablet.evaluate("document.documentElement.scrollWidth - innerWidth") <= 0
    screenshot(tablet, "journey-e-3-sailed-zh-tablet", docs="tracking-zh-768x1024")
