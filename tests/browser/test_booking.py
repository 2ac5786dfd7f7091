"""A shipper books containers from Yiwu to Rotterdam through the wizard, in a real browser."""

import re

import pytest
from django.core.management import call_command

from bookings.models import Booking, BookingStatus
from stations.models import Departure

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", "--quiet", verbosity=0)


def log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("demo1234")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")


def test_a_shipper_books_two_containers_from_yiwu_to_rotterdam(live_server, page, screenshot, demo):
    log_in(page, live_server, "shipper-a")

    page.locator(".intro").get_by_role("link", name="Book containers").click()
    page.get_by_label("Inland station").select_option("YIWU-W")
    page.get_by_label("Destination port").select_option("NLRTM")
    page.locator("#id_st1").select_option("42G1")
    page.locator("#id_q1").fill("2")
    screenshot(page, "booking-1-search")
    page.get_by_role("button", name="Find departures").click()

    first = page.locator("tr[data-departure]").first
    first.wait_for()
    assert page.locator("[aria-current=step]").inner_text().strip().endswith("Departure")
    assert "CNY" in first.inner_text()
    departure = first.get_attribute("data-departure")
    screenshot(page, "booking-2-connections")
    first.get_by_role("link").click()

    page.get_by_label("Commodity").fill("Christmas decorations")
    page.get_by_label("Cargo weight (kg)").fill("18000")
    assert page.get_by_label("Destination port").input_value() == "NLRTM"
    screenshot(page, "booking-3-cargo")
    page.get_by_role("button", name="Review booking").click()

    page.get_by_role("button", name="Confirm booking").wait_for()
    assert "Christmas decorations" in page.locator("main").inner_text()
    screenshot(page, "booking-4-review")
    held_before = Departure.objects.get(reference=departure).booked_teu
    page.get_by_role("button", name="Confirm booking").click()

    page.wait_for_url(re.compile(r"/bookings/BK-\d{4}-\d{6}/$"))
    booking = Booking.objects.get(reference=page.url.rstrip("/").rsplit("/", 1)[1])
    heading = page.get_by_role("heading", level=1)
    assert booking.reference in heading.inner_text()
    assert heading.locator(".badge").inner_text() == "Confirmed"
    assert page.get_by_role("status").filter(has_text=f"Booking {booking.reference} confirmed.").is_visible()
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.departure.reference == departure
    assert booking.shipper.code == "demo-shipper-a"
    assert booking.departure.booked_teu == held_before + 4
    screenshot(page, "booking-5-detail")


def test_bookings_pages_fit_a_tablet(live_server, browser, screenshot, demo):
    context = browser.new_context(viewport={"width": 768, "height": 1024}, timezone_id="Asia/Shanghai")
    page = context.new_page()
    log_in(page, live_server, "shipper-a")
    overflows = {}

    page.goto(f"{live_server.url}/bookings/new/?station=YIWU-W&destination=NLRTM&st1=42G1&q1=2&step=connections")
    overflows["connections"] = page.evaluate("document.documentElement.scrollWidth - innerWidth")
    screenshot(page, "booking-2-connections-tablet")
    page.locator("tr[data-departure]").first.get_by_role("link").click()
    page.get_by_label("Commodity").fill("Toys")
    page.get_by_label("Cargo weight (kg)").fill("9000")
    overflows["cargo"] = page.evaluate("document.documentElement.scrollWidth - innerWidth")
    screenshot(page, "booking-3-cargo-tablet")
    page.get_by_role("button", name="Review booking").click()
    page.get_by_role("button", name="Save as draft").click()
    page.wait_for_url(re.compile(r"/bookings/BK-"))
    overflows["detail"] = page.evaluate("document.documentElement.scrollWidth - innerWidth")
    screenshot(page, "booking-5-detail-tablet")
    page.goto(f"{live_server.url}/bookings/")
    overflows["list"] = page.evaluate("document.documentElement.scrollWidth - innerWidth")
    screenshot(page, "booking-6-list-tablet", full_page=False)
    context.close()

    assert overflows == {"connections": 0, "cargo": 0, "detail": 0, "list": 0}
