"""Station staff work the board at the gate: empties ready and handed out, a keyboard-only gate-in scan, and
the train loaded in one click; in a real browser, at desktop and tablet width."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from bookings import journey
from bookings.selectors import connections_search
from bookings.services import booking_create
from intermodal.access import Actor
from intermodal.models import Organisation
from stations.models import Station, VesselCall

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMPTIES = ["CSQU3054383", "TCNU7200794"]


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", "--quiet", verbosity=0)


@pytest.fixture
def booked(demo):
    """A confirmed booking of demo shipper A on a Yiwu West departure of today or tomorrow, asking for 2 empties."""
    shipper = Organisation.objects.get(code="demo-shipper-a")
    actor = Actor(organisation=shipper, user=shipper.users.first())
    station = Station.objects.get(code="YIWU-W")
    today = timezone.localdate()
    calls = (VesselCall.objects.filter(etd__gt=timezone.now(), actual_departure__isnull=True,
                                       terminal__services__station=station).distinct().order_by("etd"))
    for call in calls:
        for connection in connections_search(station=station, lines={"42G1": 2}, vessel_call=call):
            if connection.departure.service_date in (today, today + timedelta(days=1)):
                booking = booking_create(
                    actor=actor, departure=connection.departure, vessel_call=call,
                    destination=call.destinations.first(), lines={"42G1": 2}, commodity="Small commodities",
                    cargo_weight_kg=Decimal("18000"), confirm=True,
                )
                request = journey.empty_request_create(actor=actor, booking=booking, size_type="42G1", quantity=2)
                return booking, request, connection.departure
    pytest.fail("The demo network has no Yiwu West departure today or tomorrow that makes a vessel.")


def sign_in_in_english(page, live_server):
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("yiwu-staff")
    page.get_by_label("Password").fill("demo1234")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")
    # The demo station staff chose Chinese on their account.
    page.locator("#language-select").select_option("en")
    page.locator("form[action='/language/'] button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"


def focused_name(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.name")


def test_station_staff_hand_out_empties_scan_a_gate_in_and_load_the_train(live_server, page, browser, screenshot,
                                                                         booked):
    booking, request, departure = booked
    sign_in_in_english(page, live_server)
    board = f"{live_server.url}/operations/station/?station=YIWU-W"
    empty = page.locator(f'[data-empty-request="{request.pk}"]')
    card = page.locator(f'[data-departure="{departure.reference}"]')

    page.goto(board)
    assert empty.get_attribute("data-status") == "requested"
    assert booking.reference in empty.inner_text()
    assert focused_name(page) == "number"  # ready for a scan as soon as the board opens
    screenshot(page, "board-1")

    page.locator(f'[data-mark-ready="{request.pk}"]').click()
    page.wait_for_load_state()
    assert empty.get_attribute("data-status") == "ready"
    assert "ready for pick-up" in page.locator(".message-success").inner_text()
    screenshot(page, "board-2")

    for n, number in enumerate(EMPTIES, start=1):
        page.locator(f"#id_handout_{request.pk}_number").fill(number)
        page.locator(f'[data-hand-out="{request.pk}"]').click()
        page.wait_for_load_state()
        assert f"({n} of 2)" in page.locator(".message-success").inner_text()
    assert empty.count() == 0  # all handed out: no longer waiting
    for number in EMPTIES:
        assert card.locator(f'tr[data-container="{number}"]').get_attribute("data-status") == "empty_out"
    screenshot(page, "board-3")

    # The gate, keyboard only: the cursor is in the number field; Tab through seal and VGM, Enter records.
    assert focused_name(page) == "number"
    page.keyboard.type(EMPTIES[0])
    page.keyboard.press("Tab")
    assert focused_name(page) == "seal_number"
    page.keyboard.type("SEAL0012345")
    page.keyboard.press("Tab")
    page.keyboard.type("24500")
    page.keyboard.press("Tab")
    assert focused_name(page) == "vgm_method"
    page.keyboard.press("Tab")
    page.keyboard.type("Wang Jun")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    message = page.locator(".message-success").inner_text()
    assert f"Container {EMPTIES[0]} gated in at" in message
    assert "SEAL0012345" in message
    assert card.locator(f'tr[data-container="{EMPTIES[0]}"]').get_attribute("data-status") == "gated_in"
    assert page.locator(f'#yard tr[data-container="{EMPTIES[0]}"]').count() == 1
    assert focused_name(page) == "number"  # back in the number field for the next scan
    screenshot(page, "board-4")

    card.locator(f'[data-load-all="{departure.reference}"]').click()
    page.wait_for_load_state()
    assert "1 container loaded" in page.locator(".message-success").inner_text()
    assert card.locator(f'tr[data-container="{EMPTIES[0]}"]').get_attribute("data-status") == "on_train"
    assert card.locator(f'tr[data-container="{EMPTIES[1]}"]').get_attribute("data-status") == "empty_out"
    assert page.locator(f'#yard tr[data-container="{EMPTIES[0]}"]').count() == 0
    screenshot(page, "board-5")

    tablet = browser.new_context(viewport={"width": 768, "height": 1024}, timezone_id="Asia/Shanghai",
                                 storage_state=page.context.storage_state())
    tablet_page = tablet.new_page()
    tablet_page.goto(board)
    overflow = tablet_page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    screenshot(tablet_page, "board-tablet")
    tablet.close()
    assert overflow <= 0
