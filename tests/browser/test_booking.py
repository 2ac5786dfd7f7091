"""Journey (a): a shipper finds a Yiwu departure for a Rotterdam vessel, books 2 x 40', requests the empties and
follows the timeline; and journey (f): the same in Simplified Chinese. In a real browser, through the pages."""

import re

import pytest

from bookings.models import Booking, BookingStatus, EmptyRequestStatus
from stations.models import Departure
from tests.browser import scenario
from tests.browser.conftest import TABLET_LANDSCAPE, TABLET_PORTRAIT
from tests.browser.pages import english_on_page, log_in, text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DATE_FORMAT_CONTEXT = "date format of departures and cut-offs, see the date template filter"


def book_and_request_empties(page, live_server, screenshot, language: str, shot: str, docs: str) -> Booking:
    """Journey (a) in `language`; `docs` names the user guide's pictures ("" for English, "-zh" for Chinese,
    which takes only the pictures that differ by language)."""
    def t(message, context=""):
        return text(message, language, context)

    def shows_only_chinese(step):
        english = english_on_page(page, data=(scenario.COMMODITY,))
        if language == "zh-hans":
            assert english == [], f"English left on the {step} page"
        else:
            assert english, "the check for English on Chinese pages must see the English of this page"

    log_in(page, live_server, "shipper-a", language)
    page.locator(".intro").get_by_role("link", name=t("Book containers")).click()

    station = page.get_by_label(t("Inland station"))
    station.select_option(scenario.STATION)
    destination = page.get_by_label(t("Destination port"))
    destination.select_option(scenario.DESTINATION)
    names = {"en": ("Yiwu West Railway Freight Station", "Rotterdam"), "zh-hans": ("义乌西铁路货场", "鹿特丹")}
    assert names[language][0] in station.locator("option:checked").inner_text()
    assert destination.locator("option:checked").inner_text() == f"{names[language][1]} (NLRTM)"
    page.locator("#id_st1").select_option(scenario.SIZE_TYPE)
    page.locator("#id_q1").fill("2")
    shows_only_chinese("search")
    screenshot(page, f"{shot}-1-search", docs="" if docs else "booking-search")
    page.get_by_role("button", name=t("Find departures")).click()

    first = page.locator("tr[data-departure]").first
    first.wait_for()
    assert page.locator("[aria-current=step]").inner_text().strip().endswith(t("Departure"))
    assert "CNY" in first.inner_text()
    departure = Departure.objects.get(reference=first.get_attribute("data-departure"))
    # Times in Asia/Shanghai, in the page's language: the departure's own local time is what the row shows.
    from django.utils import dateformat, timezone, translation

    with translation.override(language):
        shown = dateformat.format(timezone.localtime(departure.planned_departure), t("D j M H:i", DATE_FORMAT_CONTEXT))
    assert shown in first.locator("th").inner_text()
    shows_only_chinese("connections")
    screenshot(page, f"{shot}-2-connections", docs=f"booking-connections{docs}")
    first.get_by_role("link").click()

    page.get_by_label(t("Commodity")).fill(scenario.COMMODITY)
    page.get_by_label(t("Cargo weight (kg)")).fill("18000")
    assert page.get_by_label(t("Destination port")).input_value() == scenario.DESTINATION
    shows_only_chinese("cargo")
    screenshot(page, f"{shot}-3-cargo")
    page.get_by_role("button", name=t("Review booking")).click()

    confirm = page.get_by_role("button", name=t("Confirm booking"))
    confirm.wait_for()
    assert scenario.COMMODITY in page.locator("main").inner_text()
    shows_only_chinese("review")
    screenshot(page, f"{shot}-4-review", docs="" if docs else "booking-review")
    held_before = Departure.objects.get(pk=departure.pk).booked_teu
    confirm.click()

    page.wait_for_url(re.compile(r"/bookings/BK-\d{4}-\d{6}/$"))
    booking = Booking.objects.get(reference=page.url.rstrip("/").rsplit("/", 1)[1])
    heading = page.get_by_role("heading", level=1)
    assert booking.reference in heading.inner_text()
    assert heading.locator(".badge").inner_text() == t("Confirmed")
    confirmed = t("Booking %(ref)s confirmed.") % {"ref": booking.reference}
    assert page.get_by_role("status").filter(has_text=confirmed).is_visible()
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.departure == departure and booking.destination_id == scenario.DESTINATION
    assert booking.shipper.code == "demo-shipper-a"
    assert Departure.objects.get(pk=departure.pk).booked_teu == held_before + 4

    # Empties for the booking, asked for on its page.
    empties = page.locator("#empties")
    empties.get_by_label(t("Size-type")).select_option(scenario.SIZE_TYPE)
    empties.get_by_label(t("Empty containers")).fill("2")
    empties.get_by_role("button", name=t("Request empties at the station")).click()
    page.wait_for_load_state()
    requested = t("%(n)s empty %(size_type)s requested at the station.") % {"n": 2, "size_type": scenario.SIZE_TYPE}
    assert page.get_by_role("status").filter(has_text=requested).is_visible()
    request = booking.empty_requests.get()
    assert (request.quantity, request.status) == (2, EmptyRequestStatus.REQUESTED)
    row = page.locator(f'#empties tr[data-empty-request="{request.pk}"]')
    assert t("Requested") in row.inner_text()

    # The timeline: every step of the journey, none done yet, with the deadlines the shipper must make.
    timeline = page.locator("#journey .timeline__step")
    assert timeline.count() == 8
    assert page.locator('#journey .timeline__step[data-done="true"]').count() == 0
    gate_in = page.locator('#journey [data-step="station_gate_in"]')
    assert t("Gated in at the station (pre-entry)") in gate_in.inner_text()
    assert t("Station closes") in gate_in.inner_text()
    assert t("CY cut-off") in page.locator('#journey [data-step="terminal_gate_in"]').inner_text()
    shows_only_chinese("booking")
    screenshot(page, f"{shot}-5-booking", docs="" if docs else "booking-detail")
    screenshot(page, f"{shot}-5-journey", full_page=False, docs="" if docs else "booking-journey", scroll_to="#journey")

    # Following it: the signed-in tracking page finds the booking by its reference.
    page.get_by_role("navigation", name=t("Main")).get_by_role("link", name=t("Track"), exact=True).click()
    page.get_by_label(t("Container number or booking reference")).fill(booking.reference)
    page.get_by_label(t("Container number or booking reference")).press("Enter")
    page.locator(f'[data-booking="{booking.reference}"]').wait_for()
    assert page.locator(".timeline__step").count() == 8
    assert t("Train departs") in page.locator('[data-step="train_departs"]').inner_text()
    shows_only_chinese("tracking")
    screenshot(page, f"{shot}-6-tracking")
    return booking


def test_journey_a_shipper_books_two_40ft_from_yiwu_to_rotterdam_and_requests_empties(live_server, page,
                                                                                       screenshot, demo):
    booking = book_and_request_empties(page, live_server, screenshot, "en", "journey-a", "")

    assert booking.created_by.username == "shipper-a"
    assert booking.lines.get().quantity == 2


def test_journey_f_the_same_booking_in_chinese(live_server, page, screenshot, demo):
    booking = book_and_request_empties(page, live_server, screenshot, "zh-hans", "journey-f", "-zh")

    assert page.locator("html").get_attribute("lang") == "zh-hans"
    booking.created_by.refresh_from_db()
    assert booking.created_by.language == "zh-hans"  # the choice is kept on the account
    assert booking.status == BookingStatus.CONFIRMED


@pytest.mark.parametrize("viewport", [TABLET_LANDSCAPE, TABLET_PORTRAIT], ids=["1024x768", "768x1024"])
def test_bookings_pages_fit_a_tablet(live_server, new_page, screenshot, demo, viewport):
    page = new_page(viewport)
    size = f"{viewport['width']}x{viewport['height']}"
    log_in(page, live_server, "shipper-a")
    overflows = {}

    page.goto(f"{live_server.url}/bookings/new/?station=YIWU-W&destination=NLRTM&st1=42G1&q1=2&step=connections")
    overflows["connections"] = page.evaluate("document.documentElement.scrollWidth - innerWidth")
    screenshot(page, f"booking-2-connections-{size}")
    page.locator("tr[data-departure]").first.get_by_role("link").click()
    page.get_by_label("Commodity").fill("Toys")
    page.get_by_label("Cargo weight (kg)").fill("9000")
    overflows["cargo"] = page.evaluate("document.documentElement.scrollWidth - innerWidth")
    screenshot(page, f"booking-3-cargo-{size}")
    page.get_by_role("button", name="Review booking").click()
    page.get_by_role("button", name="Save as draft").click()
    page.wait_for_url(re.compile(r"/bookings/BK-"))
    overflows["detail"] = page.evaluate("document.documentElement.scrollWidth - innerWidth")
    screenshot(page, f"booking-5-detail-{size}")
    page.goto(f"{live_server.url}/bookings/")
    overflows["list"] = page.evaluate("document.documentElement.scrollWidth - innerWidth")
    screenshot(page, f"booking-6-list-{size}", full_page=False,
               docs="bookings-list" if viewport == TABLET_LANDSCAPE else "")

    assert overflows == {"connections": 0, "cargo": 0, "detail": 0, "list": 0}
