"""The figures dashboard's direction filter in a real browser, on a laptop and a tablet: the mixed export and
import data set of tests/figures/test_imports.py."""

import pytest

from tests import factories
from tests.browser.conftest import TABLET_PORTRAIT
from tests.browser.pages import PASSWORD, log_in
from tests.figures.conftest import figures_data  # noqa: F401 - the fixtures
from tests.figures.test_imports import mixed_data  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PERIOD = "date_from=2025-03-01&date_to=2025-04-30"


def test_the_port_reads_imports_apart_then_both(live_server, page, new_page, screenshot, mixed_data):  # noqa: F811
    port = factories.user(mixed_data.network.port, username="port-figures")
    port.set_password(PASSWORD)
    port.save()
    log_in(page, live_server, "port-figures")

    page.goto(f"{live_server.url}/figures/?{PERIOD}")
    page.locator("#id_direction").select_option("import")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**direction=import**")
    assert page.locator("#kpi-on-schedule .kpi__value").inner_text() == "60.0%"
    assert page.locator("#kpi-dwell .kpi__value").inner_text() == "102.0 h"
    assert page.locator("#chart-dwell").is_visible() and page.locator("#chart-match-back").count() == 0
    assert page.locator("#chart-empty-wait").count() == 0  # empties are handed out for exports
    screenshot(page, "figures-4-imports")

    page.locator("#id_direction").select_option("")
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state()
    assert page.locator("#kpi-match-back .kpi__value").inner_text() == "33.3%"
    assert page.locator("#chart-dwell").is_visible() and page.locator("#chart-match-back").is_visible()

    tablet = new_page(TABLET_PORTRAIT, storage_state=page.context.storage_state())
    tablet.goto(f"{live_server.url}/figures/?{PERIOD}&direction=import")
    assert tablet.locator("#kpi-free-time-charges").is_visible()
    width = tablet.evaluate("document.documentElement.scrollWidth")
    assert width <= TABLET_PORTRAIT["width"]  # nothing runs off the side of a tablet
    screenshot(tablet, "figures-5-imports-tablet")
