"""Journey (d): the railway reports the train of journey (b) departed and arrived; the port discharges the
containers, gates them in at the terminal, loads them on the vessel (their declaration was released in journey
(c)) and reports it sailed; the shipper sees the whole journey done. In a real browser, through the pages."""

from datetime import timedelta

import pytest
from django.utils import timezone

from bookings.models import BookingStatus, ContainerStatus
from stations.models import DepartureStatus
from tests.browser import scenario
from tests.browser.pages import log_in, log_out

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def confirmed_if_asked(page, screenshot=None, name: str = "") -> bool:
    """The demo reports its steps now, off their plan (the train is due days later): the page asks to confirm,
    showing why and the expected time; the person confirms. Whether it asked. A report near its plan is shown
    against the plan first (the review step) and recorded with "Record it"."""
    review = page.locator("[data-review-report]")
    if review.count():
        assert review.locator("[data-planned]").count() >= 1
        if screenshot and name:
            screenshot(page, f"{name}-review")
        review.get_by_role("button", name="Record it").click()
        page.wait_for_load_state()
        return False
    check = page.locator("[data-confirm-report]")
    if not check.count():
        return False
    assert check.locator("[data-reasons] li").count() >= 1
    if screenshot and name:
        screenshot(page, name)
    check.get_by_role("button", name="The time is right: record it").click()
    page.wait_for_load_state()
    return True


@pytest.fixture
def released(demo):
    """Where journey (c) leaves off: both containers on the train, their declaration released."""
    return scenario.released()


def test_journey_d_the_railway_runs_the_train_and_the_port_loads_and_sails_the_vessel(live_server, page, screenshot,
                                                                                      released):
    booking, departure, call = released.booking, released.departure, released.vessel_call
    numbers = scenario.NUMBERS

    # The railway: its departures, the train's manifest, departed, and a time in the future refused.
    log_in(page, live_server, "railway", "en")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Departures").click()
    page.get_by_label("Station", exact=True).select_option(scenario.STATION)
    page.get_by_role("button", name="Show", exact=True).click()
    page.locator(f'tr[data-departure="{departure.reference}"] a').click()
    page.wait_for_url(f"{live_server.url}/operations/railway/{departure.reference}/")
    assert page.locator("[data-total-containers]").inner_text() == "2"
    for number in numbers:
        assert page.locator(f'tr[data-container="{number}"]').get_attribute("data-status") == "on_train"
    screenshot(page, "journey-d-1-manifest", docs="railway-manifest")

    departed = page.locator("form[action$='/departed/']")
    later = timezone.localtime() + timedelta(hours=3)
    departed.get_by_label("Actual time").fill(later.strftime("%Y-%m-%dT%H:%M"))
    departed.get_by_role("button", name="Report departed").click()
    page.wait_for_load_state()
    assert "An actual time cannot be in the future." in departed.inner_text()
    assert page.locator("[data-departure-status]").get_attribute("data-departure-status") == "scheduled"
    screenshot(page, "journey-d-2-refused")

    departed.get_by_label("Actual time").fill("")
    departed.get_by_role("button", name="Report departed").click()
    page.wait_for_load_state()
    confirmed_if_asked(page, screenshot, "journey-d-2b-confirm")
    assert f"Train {departure.reference} reported departed." in page.get_by_role("status").inner_text()
    assert page.locator("[data-departure-status]").get_attribute("data-departure-status") == "departed"
    page.locator("form[action$='/arrived/']").get_by_role("button", name="Report arrived").click()
    page.wait_for_load_state()
    # Seconds after the departure: faster than the train can run, so the page asks.
    assert confirmed_if_asked(page)
    assert f"Train {departure.reference} reported arrived at the port." in page.get_by_role("status").inner_text()
    assert page.locator("[data-departure-status]").get_attribute("data-departure-status") == "arrived"
    screenshot(page, "journey-d-3-arrived")
    departure.refresh_from_db()
    assert departure.status == DepartureStatus.ARRIVED
    assert departure.actual_departure < departure.actual_arrival
    log_out(page)

    # The port: the arrival, each container discharged and gated in at the terminal.
    log_in(page, live_server, "port", "en")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Port", exact=True).click()
    arrival = page.locator(f'#arrival-{departure.reference}')
    screenshot(page, "journey-d-4-port", docs="port")
    for number in numbers:
        arrival.locator(f'[data-discharge="{number}"]').click()
        page.wait_for_load_state()
        confirmed_if_asked(page)
        assert f"Container {number} discharged from the train." in page.get_by_role("status").inner_text()
        arrival.locator(f'[data-terminal-gate-in="{number}"]').click()
        page.wait_for_load_state()
        confirmed_if_asked(page)
        assert f"Container {number} gated in at the terminal." in page.get_by_role("status").inner_text()
        assert arrival.locator(f'tr[data-container="{number}"]').get_attribute("data-status") == "at_terminal"

    # The vessel's loading list: released by customs, made the cut-off, loaded, sailed.
    page.locator(f'tr[data-vessel-call="{call.reference}"] a').click()
    page.wait_for_url(f"{live_server.url}/operations/port/vessel/{call.reference}/")
    for number in numbers:
        row = page.locator(f'tr[data-container="{number}"]')
        assert row.locator("[data-customs]").inner_text() == "Released"
        assert row.locator("[data-cutoff]").get_attribute("data-cutoff") == "yes"
    screenshot(page, "journey-d-5-loading-list", docs="vessel-loading-list")
    for number in numbers:
        page.locator(f'[data-vessel-load="{number}"]').click()
        page.wait_for_load_state()
        confirmed_if_asked(page)
        assert f"Container {number} loaded on {call.vessel_name}." in page.get_by_role("status").inner_text()
    assert page.locator("[data-loaded]").get_attribute("data-loaded") == "2"
    page.get_by_role("button", name="Report sailed").click()
    page.wait_for_load_state()
    confirmed_if_asked(page)
    assert f"{call.vessel_name} {call.voyage} reported sailed." in page.get_by_role("status").inner_text()
    assert page.locator("[data-sailed]").is_visible()
    for number in numbers:
        assert page.locator(f'tr[data-container="{number}"]').get_attribute("data-status") == "sailed"
    screenshot(page, "journey-d-6-sailed")
    log_out(page)

    booking.refresh_from_db()
    assert booking.status == BookingStatus.SAILED
    assert set(booking.containers.values_list("status", flat=True)) == {ContainerStatus.SAILED}

    # The shipper follows it to the end: every step of the timeline done, the vessel's departure the last.
    log_in(page, live_server, "shipper-a", "en")
    page.goto(f"{live_server.url}/bookings/{booking.reference}/")
    assert page.locator("h1 .badge").inner_text() == "Sailed"
    assert page.locator('#journey .timeline__step[data-done="false"]').count() == 0
    assert page.locator('#journey [aria-current="step"]').get_attribute("data-step") == "vessel_departs"
    screenshot(page, "journey-d-7-shipper")
