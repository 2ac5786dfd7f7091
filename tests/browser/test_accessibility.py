"""Accessibility of the main pages of every party, checked by axe-core (from npm, injected into each page) in a
real browser: no serious or critical violation - every field labelled, enough contrast, names on controls -
and no sideways scrolling on a laptop (1366x768) or a tablet (1024x768, 768x1024).
Each person sees the pages in the language of their account (the demo mixes English and Chinese)."""

import pytest

from tests.browser import scenario
from tests.browser.conftest import LAPTOP, TABLET_LANDSCAPE, TABLET_PORTRAIT
from tests.browser.pages import axe_violations, log_in, log_out

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def main_pages(state) -> dict[str, list[str]]:
    booking, declaration = state.booking, state.declaration
    return {
        "": ["/", "/login/", "/track/", f"/track/?container={scenario.NUMBERS[0]}&booking={booking.reference}",
             "/track/?container=CSQU3054384&booking=BK"],
        "shipper-a": ["/", "/bookings/", "/bookings/?status=draft", "/bookings/new/",
                      "/bookings/new/?station=YIWU-W&destination=NLRTM&st1=42G1&q1=2&step=connections",
                      f"/bookings/new/?station=YIWU-W&destination=NLRTM&st1=42G1&q1=2&step=cargo"
                      f"&departure={state.departure.reference}&vessel={state.vessel_call.reference}",
                      f"/bookings/{booking.reference}/", "/declarations/", f"/declarations/{declaration.reference}/",
                      f"/operations/track/?q={booking.reference}", "/bookings/import/", "/bookings/?sort=-reference",
                      f"/search/?q={booking.reference[:6]}"],
        "yiwu-staff": ["/operations/station/?station=YIWU-W", "/operations/scan/", "/bookings/"],
        "railway": ["/operations/railway/", "/operations/railway/?sort=-station",
                    f"/operations/railway/{state.departure.reference}/"],
        "port": ["/figures/", "/operations/port/", "/operations/port/?terminal=BEILUN&sort=etd",
                 f"/operations/port/vessel/{state.vessel_call.reference}/"],
        "customs": ["/declarations/", "/declarations/?sort=submitted", "/figures/",
                    f"/declarations/{declaration.reference}/"],
        "ciq": ["/declarations/", f"/declarations/{declaration.reference}/"],
        "msa": ["/", "/operations/track/"],
        "gov": ["/", "/figures/"],
    }


@pytest.fixture
def declared(demo):
    """Containers on the train and their declaration waiting for both agencies: every list has rows."""
    return scenario.declared()


@pytest.fixture
def page(new_page):
    """axe-core goes into each page as a script tag, which a strict Content-Security-Policy refuses: these
    tests are about accessibility, so their pages let it in."""
    return new_page(LAPTOP, bypass_csp=True)


def test_the_main_pages_of_every_party_are_accessible_and_fit_laptop_and_tablet(live_server, page, new_page,
                                                                               declared):
    found, overflowing = {}, {}
    for username, paths in main_pages(declared).items():
        if username:
            log_in(page, live_server, username)
        for path in paths:
            page.goto(f"{live_server.url}{path}")
            where = f"{username or 'anonymous'} {path} ({page.locator('html').get_attribute('lang')})"
            violations = axe_violations(page)
            if violations:
                found[where] = violations
            # The same page on a laptop and on a tablet held either way: no sideways scrolling.
            for viewport in (LAPTOP, TABLET_LANDSCAPE, TABLET_PORTRAIT):
                page.set_viewport_size(viewport)
                overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
                if overflow > 0:
                    overflowing[f"{where} {viewport['width']}x{viewport['height']}"] = overflow
            if "sort=" in path:  # a sorted list on a tablet held upright: its sort bar instead of the headers
                violations = axe_violations(page)
                if violations:
                    found[f"{where} 768x1024"] = violations
            page.set_viewport_size(LAPTOP)
        if username:
            log_out(page)

    # The gate's tablet, held sideways, with a refused scan on the page.
    log_in(page, live_server, "yiwu-staff", "en")
    tablet = new_page(TABLET_LANDSCAPE, storage_state=page.context.storage_state(), bypass_csp=True)
    tablet.goto(f"{live_server.url}/operations/station/?station=YIWU-W")
    tablet.locator("#id_number").fill("CSQU3054384")
    tablet.locator("#id_number").press("Enter")
    tablet.wait_for_load_state()
    assert tablet.locator("#id_number").get_attribute("aria-invalid") == "true"
    violations = axe_violations(tablet)
    if violations:
        found["yiwu-staff refused scan on a tablet"] = violations

    # The railway's report, at the step that asks to confirm it against the plan (review or warning).
    log_out(tablet)
    log_in(page, live_server, "railway")
    page.goto(f"{live_server.url}/operations/railway/{declared.departure.reference}/")
    page.locator("[data-action='departed']").click()
    page.wait_for_load_state()
    assert page.locator("[data-review-report], [data-confirm-report]").count() == 1
    violations = axe_violations(page)
    if violations:
        found["railway report confirmation"] = violations
    page.set_viewport_size(TABLET_PORTRAIT)
    if page.evaluate("document.documentElement.scrollWidth - innerWidth") > 0:
        overflowing["railway report confirmation 768x1024"] = True

    assert found == {}
    assert overflowing == {}


def test_axe_finds_what_it_is_meant_to_find(live_server, page, transactional_db):
    """The check can fail: a field without a label and grey-on-grey text are reported."""
    page.goto(f"{live_server.url}/login/")
    page.evaluate("""() => {
        document.querySelector("label[for=id_username]").remove();
        document.querySelector("main h1").style.color = "#ddd";
    }""")

    rules = {violation["id"] for violation in axe_violations(page)}

    assert {"label", "color-contrast"} <= rules
