"""A person signs in, sees their network, switches to Chinese: in a real browser."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_station_staff_sign_in_in_their_language_and_switch_to_english(live_server, page, screenshot, demo):
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Log in").first.click()
    page.get_by_label("Username").fill("yiwu-staff")
    page.get_by_label("Password").fill("demo1234")
    page.get_by_role("button", name="Log in").click()

    # The demo station staff chose Chinese on their account; their own stations come first.
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator("[data-station]").first.get_attribute("data-station").startswith("YIWU")
    assert page.get_by_role("banner").get_by_text("义乌陆港场站运营有限公司").is_visible()
    screenshot(page, "home-station-operator-zh", full_page=False, docs="home-zh")

    page.locator("#language-select").select_option("en")
    page.locator("#language-select").press("Tab")
    page.locator("form[action='/language/'] button[type=submit]").click()

    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("banner").get_by_text("Yiwu Land Port Station Operations").is_visible()
    shot = screenshot(page, "home-station-operator", full_page=False, docs="home")
    assert shot.stat().st_size > 10_000


def test_a_tablet_at_the_gate_sees_the_page_without_sideways_scrolling(live_server, browser, screenshot, demo):
    context = browser.new_context(viewport={"width": 768, "height": 1024}, timezone_id="Asia/Shanghai")
    page = context.new_page()

    page.goto(f"{live_server.url}/")

    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    screenshot(page, "home-tablet", full_page=False)
    context.close()
    assert overflow <= 0
