"""Accessibility of the main pages of every party, checked by axe-core (from npm, injected into each page) in a
real browser: no serious or critical violation - every field labelled, enough contrast, names on controls -
and no sideways scrolling on a laptop (1366x768) or a tablet (1024x768, 768x1024). The import pages too, on the
demo's import traffic (journey/demo_imports.py).
Each person sees the pages in the language of their account (the demo mixes English and Chinese)."""

import pytest

from bookings.models import Booking, BookingStatus, ContainerStatus
from stations.models import Departure, Direction
from tests.browser import scenario
from tests.browser.conftest import LAPTOP, TABLET_LANDSCAPE, TABLET_PORTRAIT
from tests.browser.pages import axe_violations, log_in, log_out

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def import_pages() -> dict[str, list[str]]:
    """The import pages of each party that works them: the consignee's imports and an import booking it may still
    move (its move form), the station's import yard, the port's arriving vessels and rail-outbound list and a
    vessel's arrivals, and the manifest of an import train loaded at the terminal."""
    movable = (Booking.objects.filter(direction=Direction.IMPORT, shipper__code="demo-shipper-a",
                                      status=BookingStatus.CONFIRMED)
               .select_related("vessel_call").order_by("reference").first())
    loaded = (Departure.objects.filter(service__direction=Direction.IMPORT,
                                       bookings__containers__status=ContainerStatus.ON_TRAIN)
              .distinct().order_by("planned_departure").first())
    assert movable is not None and loaded is not None, "the demo has no import traffic (seed_demo_imports)"
    return {
        "shipper-a": ["/operations/imports/", f"/bookings/{movable.reference}/"],
        "yiwu-staff": [f"/operations/station/imports/?station={scenario.STATION}"],
        "railway": [f"/operations/railway/{loaded.reference}/"],
        "port": ["/operations/port/imports/", f"/operations/port/imports/vessel/{movable.vessel_call.reference}/"],
    }


def main_pages(state) -> dict[str, list[str]]:
    booking, declaration = state.booking, state.declaration
    pages = {
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
    for username, paths in import_pages().items():
        pages[username] += paths
    return pages


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

    # The import pages after a step: what they then show (a quote, a form's errors, a refusal's message).
    def after_step(name: str) -> None:
        page.wait_for_load_state()
        violations = axe_violations(page)
        if violations:
            found[name] = violations

    log_out(page)
    imports = import_pages()
    log_in(page, live_server, "shipper-a")
    page.goto(f"{live_server.url}/operations/imports/")
    card = page.locator("article[data-vessel-call]:has(input[name=numbers])").first
    card.locator("input[name=numbers]").first.check()
    card.locator("select[name=departure]").select_option(index=1)
    card.locator("input[name=commodity]").fill("Machine parts")
    card.locator("[data-action=quote]").click()
    after_step("shipper-a import quote")
    assert page.locator("[data-quote]").count() == 1
    page.goto(f"{live_server.url}{imports['shipper-a'][1]}")
    page.locator("#move button[type=submit]").click()  # no departure chosen
    after_step("shipper-a refused import booking move")
    assert page.locator("#id_move-departure").get_attribute("aria-invalid") == "true"
    log_out(page)
    log_in(page, live_server, "port")
    page.goto(f"{live_server.url}{imports['port'][1]}")
    page.locator("#id_announce_rows").fill("CSQU3054384,42G1,ML1,19800,MEDU1,demo-shipper-a,SGSIN\n")
    page.locator("[data-action=announce]").click()
    after_step("port refused announcement")
    assert page.locator("#id_announce_rows").get_attribute("aria-invalid") == "true"
    log_out(page)
    log_in(page, live_server, "yiwu-staff")
    page.goto(f"{live_server.url}{imports['yiwu-staff'][0]}")
    page.locator("tr:has([data-holds='customs']) [data-import-gate-out]").first.click()  # customs holds it
    after_step("yiwu-staff refused import gate-out")
    assert page.get_by_role("alert").count() >= 1

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
