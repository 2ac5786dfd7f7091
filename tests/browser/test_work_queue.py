"""A party's day starts on its home page's work queue: the item, one click to its page, done, and gone from the
queue; in English and in Chinese, on a laptop and on a tablet held upright, in a real browser."""

import pytest

from customs.models import DeclarationStatus
from tests.browser import scenario
from tests.browser.conftest import TABLET_PORTRAIT
from tests.browser.pages import english_on_page, log_in, log_out

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def declared(demo):
    """A booking's containers on the train and its declaration waiting for both agencies."""
    return scenario.declared()


def test_officers_work_their_queue_from_the_home_page(live_server, page, new_page, screenshot, declared):
    reference = declared.declaration.reference
    log_in(page, live_server, "customs", "en")
    item = page.locator(f"#work [data-work='declaration_to_decide']:has-text('{reference}')")
    item.wait_for()
    screenshot(page, "work-queue-customs", docs="work-queue")
    item.get_by_role("link").click()
    page.wait_for_url(f"{live_server.url}/declarations/{reference}/")
    page.get_by_label("Clear", exact=True).check()
    page.get_by_label("Reason").fill("Documents in order")
    page.get_by_role("button", name="Record decision").click()
    page.wait_for_url(f"{live_server.url}/declarations/{reference}/")
    page.goto(f"{live_server.url}/")
    assert page.locator(f"#work [data-work]:has-text('{reference}')").count() == 0  # done: off this queue
    log_out(page)

    # Border inspection still has it, in Chinese on a tablet held upright.
    log_in(page, live_server, "ciq", "zh-hans")
    tablet = new_page(TABLET_PORTRAIT, storage_state=page.context.storage_state(), locale="zh-CN")
    tablet.goto(f"{live_server.url}/")
    waiting = tablet.locator(f"#work [data-work='declaration_to_decide']:has-text('{reference}')")
    waiting.wait_for()
    assert "待您处理" in tablet.locator("#work-title").inner_text()
    assert english_on_page(tablet) == []
    assert tablet.evaluate("document.documentElement.scrollWidth - innerWidth") <= 0
    screenshot(tablet, "work-queue-ciq-zh-tablet")
    waiting.get_by_role("link").click()
    tablet.wait_for_url(f"{live_server.url}/declarations/{reference}/")
    declared.declaration.refresh_from_db()
    assert declared.declaration.status == DeclarationStatus.SUBMITTED  # only customs has cleared it so far


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
