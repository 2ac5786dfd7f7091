"""A day's work in a real browser, beside each party's whole day (test_a_day.py): the search box, picking a
period on the operations pages, the station board from the keyboard, and the Chinese web font."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.browser import scenario
from tests.browser.pages import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def declared(demo):
    """A booking's containers on the train and its declaration waiting for both agencies."""
    return scenario.declared()


def test_the_search_box_finds_a_container_from_any_page(live_server, page, declared):
    log_in(page, live_server, "shipper-a", "en")
    page.goto(f"{live_server.url}/declarations/")
    page.get_by_label("Search by number").fill(scenario.NUMBERS[0].lower())
    page.get_by_label("Search by number").press("Enter")
    page.wait_for_url(f"{live_server.url}/operations/track/?q={scenario.NUMBERS[0]}")
    assert scenario.NUMBERS[0] in page.locator("main").inner_text()
    page.get_by_label("Search by number").fill(declared.declaration.reference)
    page.get_by_label("Search by number").press("Enter")
    page.wait_for_url(f"{live_server.url}/declarations/{declared.declaration.reference}/")


def test_the_railway_steps_through_the_days_and_picks_a_date(live_server, page, demo):
    log_in(page, live_server, "railway", "en")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Departures").click()
    dates = page.get_by_role("navigation", name="Dates")
    today = timezone.localdate()
    assert dates.get_attribute("data-period-start") == today.isoformat()

    dates.locator("[data-period='next']").click()
    page.wait_for_load_state()
    moved = page.get_by_role("navigation", name="Dates")
    assert moved.get_attribute("data-period-start") == (today + timedelta(days=4)).isoformat()

    day = today + timedelta(days=10)
    moved.get_by_label("From").fill(day.isoformat())
    moved.get_by_label("To").fill(day.isoformat())
    moved.get_by_role("button", name="Show these days").click()
    page.wait_for_load_state()
    days = {section.get_attribute("id") for section in page.locator("section.ops-day").all()}
    assert days == {f"day-{day.isoformat()}"}  # the demo publishes departures weeks ahead
    assert page.get_by_role("navigation", name="Dates").get_attribute("data-period-end") == day.isoformat()


def test_the_station_board_works_from_the_keyboard(live_server, page, demo):
    log_in(page, live_server, "yiwu-staff", "en")
    page.goto(f"{live_server.url}/operations/station/?station=YIWU-W")
    page.locator("body").click(position={"x": 5, "y": 300})  # nothing focused: keys are the page's

    page.keyboard.press("?")
    assert page.locator("[data-shortcuts]").get_attribute("open") is not None
    page.keyboard.press("Escape")
    page.locator("h1").first.click()
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "site-search"
    page.locator("h1").first.click()
    page.keyboard.press("n")
    assert page.evaluate("document.activeElement.hasAttribute('data-scan-number')")
    page.keyboard.type("x")  # typed into the field: not a shortcut
    assert page.locator("[data-scan-number]").input_value().lower().endswith("x")
    page.locator("h1").first.click()
    start = page.get_by_role("navigation", name="Dates").get_attribute("data-period-start")
    page.keyboard.press("]")
    page.wait_for_url("**/operations/station/?*from=*")
    moved = page.get_by_role("navigation", name="Dates").get_attribute("data-period-start")
    assert moved > start


def test_chinese_pages_load_the_font_they_bring(live_server, page, demo):
    log_in(page, live_server, "customs", "zh-hans")
    loaded = page.evaluate("""async () => {
        const faces = await document.fonts.load('16px "Noto Sans SC Variable"', '义乌海关');
        await document.fonts.ready;
        return faces.map(face => face.status);
    }""")

    assert loaded and set(loaded) == {"loaded"}
