"""Journey (b): station staff work the board at the gate - the empties of journey (a) made ready and handed out,
both gated in laden by keyboard-only scans, the train loaded in one click; in a real browser, on a laptop and
on a tablet both ways round."""

import pytest

from bookings.models import ContainerStatus
from tests.browser import scenario
from tests.browser.conftest import TABLET_LANDSCAPE, TABLET_PORTRAIT
from tests.browser.pages import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMPTIES = scenario.NUMBERS


@pytest.fixture
def booked(demo):
    """Where journey (a) leaves off: a confirmed booking on a Yiwu West departure of today or tomorrow, with
    two empties requested."""
    state = scenario.booked()
    return state.booking, state.empty_request, state.departure


def sign_in_in_english(page, live_server):
    # The demo station staff chose Chinese on their account.
    log_in(page, live_server, "yiwu-staff", "en")


def focused_name(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.name")


def test_journey_b_station_staff_hand_out_the_empties_gate_them_in_and_load_the_train(live_server, page, new_page,
                                                                                       screenshot, booked):
    booking, request, departure = booked
    sign_in_in_english(page, live_server)
    board = f"{live_server.url}/operations/station/?station=YIWU-W"
    empty = page.locator(f'[data-empty-request="{request.pk}"]')
    card = page.locator(f'[data-departure="{departure.reference}"]')

    page.goto(board)
    assert empty.get_attribute("data-status") == "requested"
    assert booking.reference in empty.inner_text()
    assert focused_name(page) == "number"  # ready for a scan as soon as the board opens
    screenshot(page, "journey-b-1-board", docs="station-board")

    page.locator(f'[data-mark-ready="{request.pk}"]').click()
    page.wait_for_load_state()
    assert empty.get_attribute("data-status") == "ready"
    assert "ready for pick-up" in page.locator(".message-success").inner_text()
    screenshot(page, "journey-b-2-ready")

    for n, number in enumerate(EMPTIES, start=1):
        page.locator(f"#id_handout_{request.pk}_number").fill(number)
        page.locator(f'[data-hand-out="{request.pk}"]').click()
        page.wait_for_load_state()
        assert f"({n} of 2)" in page.locator(".message-success").inner_text()
    assert empty.count() == 0  # all handed out: no longer waiting
    for number in EMPTIES:
        assert card.locator(f'tr[data-container="{number}"]').get_attribute("data-status") == "empty_out"
    screenshot(page, "journey-b-3-handed-out")

    # A scan with a mistake: the seal is missing. Not recorded, the reason shown, the cursor on the seal.
    page.locator("#id_number").fill(EMPTIES[1])
    page.get_by_role("button", name="Record scan").click()
    page.wait_for_load_state()
    assert "Not recorded." in page.locator("[data-scan-result=error]").inner_text()
    assert "A laden container needs its seal number." in page.locator("#id_seal_number_error").inner_text()
    assert page.locator("#id_seal_number").get_attribute("aria-invalid") == "true"
    assert focused_name(page) == "seal_number"
    assert card.locator(f'tr[data-container="{EMPTIES[1]}"]').get_attribute("data-status") == "empty_out"
    screenshot(page, "journey-b-4-scan-refused", docs="scan-refused", scroll_to="#scan")
    page.goto(board)

    # The gate, keyboard only: the cursor is in the number field; Tab through seal and VGM, Enter records.
    for number in EMPTIES:
        assert focused_name(page) == "number"
        page.keyboard.type(number)
        page.keyboard.press("Tab")
        assert focused_name(page) == "seal_number"
        page.keyboard.type(scenario.SEALS[number])
        page.keyboard.press("Tab")
        page.keyboard.type("24500")
        page.keyboard.press("Tab")
        assert focused_name(page) == "vgm_method"
        page.keyboard.press("Tab")
        page.keyboard.type("Wang Jun")
        with page.expect_navigation():
            page.keyboard.press("Enter")

        message = page.locator(".message-success").inner_text()
        assert f"Container {number} gated in at" in message
        assert scenario.SEALS[number] in message
        assert card.locator(f'tr[data-container="{number}"]').get_attribute("data-status") == "gated_in"
        assert page.locator(f'#yard tr[data-container="{number}"]').count() == 1
    assert focused_name(page) == "number"  # back in the number field for the next scan
    screenshot(page, "journey-b-5-gated-in", docs="station-departures", scroll_to="#departures")

    card.locator(f'[data-load-all="{departure.reference}"]').click()
    page.wait_for_load_state()
    review = page.locator("[data-review-report]")  # loading a train is confirmed against its plan first
    assert review.locator("[data-planned]").count() >= 2
    screenshot(page, "journey-b-6-review")
    review.get_by_role("button", name="Record it").click()
    page.wait_for_load_state()
    assert "2 containers loaded" in page.locator(".message-success").inner_text()
    for number in EMPTIES:
        assert card.locator(f'tr[data-container="{number}"]').get_attribute("data-status") == "on_train"
    assert page.locator("#yard tr[data-container]").count() == 0
    screenshot(page, "journey-b-6-loaded")

    containers = {c.number: c for c in booking.containers.all()}
    assert sorted(containers) == sorted(EMPTIES)
    assert all(c.status == ContainerStatus.ON_TRAIN and c.has_vgm for c in containers.values())
    assert {n: c.seal_number for n, c in containers.items()} == scenario.SEALS
    booking.refresh_from_db()
    assert booking.status == "in_transit"

    # The same board on the tablet at the gate, both ways round: no sideways scrolling.
    for viewport in (TABLET_LANDSCAPE, TABLET_PORTRAIT):
        tablet = new_page(viewport, storage_state=page.context.storage_state())
        tablet.goto(board)
        overflow = tablet.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        screenshot(tablet, f"journey-b-board-{viewport['width']}x{viewport['height']}",
                   docs=f"station-board-{viewport['width']}x{viewport['height']}")
        assert overflow <= 0
