"""Each party's day in a real browser, in English and in Chinese: the home page's work queue -> the item -> done
(and gone from the queue), the search box, a sorted list, date navigation, the bulk action of the party, the
papers it prints (each PDF's text read, in the reader's language) and the map - every page looked at on a
laptop (1366x768) and on a tablet held upright (768x1024): nothing to scroll sideways, and no English left on
a Chinese page. The English day is worked on the laptop, the Chinese day on the tablet."""

from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from customs.models import Declaration, DeclarationStatus
from journey import services as journey
from stations.models import Departure, DepartureStatus, Station
from tests.browser import scenario
from tests.browser.conftest import LAPTOP, TABLET_PORTRAIT
from tests.browser.pages import english_on_page, log_in, printed, text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANGUAGES = ["en", "zh-hans"]
WORKED_ON = {"en": LAPTOP, "zh-hans": TABLET_PORTRAIT}
# What people typed in English, shown as they typed it on a Chinese page.
TYPED = (scenario.GOODS, scenario.COMMODITY, "Documents in order", "Paper check done", "Ceramic tableware",
         "Porcelain tableware")


def looked_at(page, language: str) -> None:
    """The page on a laptop and on a tablet held upright: nothing wider than the screen; on a Chinese page, no
    English UI text. Back to the size the day is worked on."""
    for viewport in (LAPTOP, TABLET_PORTRAIT):
        page.set_viewport_size(viewport)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{page.url} is {overflow}px too wide at {viewport}: {too_wide(page)}"
    page.set_viewport_size(WORKED_ON[language])
    if language != "en":
        assert english_on_page(page, TYPED) == [], page.url


def too_wide(page) -> list[str]:
    """The outermost elements that reach past the right edge of the screen, to say what to fix."""
    return page.evaluate("""() => [...document.querySelectorAll("body *")]
        .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .filter(e => ["absolute", "fixed"].includes(getComputedStyle(e).position)
                     || e.parentElement.getBoundingClientRect().right <= document.documentElement.clientWidth + 1)
        .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
                         + (typeof e.className === "string" ? "." + e.className.split(" ").join(".") : ""))
    """)


def start_the_day(page, live_server, username: str, language: str):
    log_in(page, live_server, username, language)
    page.set_default_timeout(20_000)  # a page that never comes fails the walk soon enough on a busy machine
    page.set_viewport_size(WORKED_ON[language])
    page.locator("#work").wait_for()
    looked_at(page, language)


def open_work_item(page, kind: str, reference: str) -> None:
    item = page.locator(f"#work [data-work='{kind}']:has-text('{reference}')")
    assert item.count() == 1, f"no {kind} item for {reference} on the home page"
    item.get_by_role("link").click()
    page.wait_for_load_state()


def queue_holds(page, live_server, reference: str) -> int:
    page.goto(f"{live_server.url}/")
    return page.locator(f"#work [data-work]:has-text('{reference}')").count()


def search(page, number: str) -> None:
    page.locator("#site-search").fill(number)
    page.locator("#site-search").press("Enter")
    page.wait_for_load_state()


def sort_by(page, key: str) -> None:
    """Sort a list by a column, then the other way: by its header, or where the headers are hidden (rows stacked
    as cards on a tablet) by the sort bar above the list."""
    for expected in ("ascending", "descending"):
        bar = page.locator(f"[data-sort-bar] [data-sort-key='{key}']")
        (bar if bar.is_visible() else page.locator(f"th[data-sort-key='{key}'] a").first).click()
        page.wait_for_load_state()
        assert page.locator(f"th[data-sort-key='{key}']").first.get_attribute("aria-sort") == expected


def dates(page, language: str):
    return page.get_by_role("navigation", name=text("Dates", language))


def to_the_next_days(page, language: str) -> None:
    """The date navigation's next days: the period shown starts later."""
    start = dates(page, language).get_attribute("data-period-start")
    dates(page, language).locator("[data-period='next']").click()
    page.wait_for_load_state()
    assert dates(page, language).get_attribute("data-period-start") > start


def record_the_report(page) -> None:
    """A report is shown against its plan first (review), or asked again when far from it (warning)."""
    for step in ("[data-review-report] [data-action='record']", "[data-confirm-report] [data-action='confirm']"):
        button = page.locator(step)
        if button.count():
            button.click()
            page.wait_for_load_state()


def guide_picture(name: str, language: str) -> str:
    """The user guide's name of a picture: the English one on a laptop, the Chinese one on a tablet."""
    return name if language == "en" else f"{name}-zh-768x1024"


def station_name(language: str) -> str:
    station = Station.objects.get(code=scenario.STATION)
    return station.name if language == "en" else station.name_zh


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_shippers_day(live_server, page, screenshot, demo, language):
    state = scenario.loaded()
    reference = state.booking.reference
    start_the_day(page, live_server, "shipper-a", language)

    # The queue: declare the goods of the booking now on the train.
    open_work_item(page, "to_declare", reference)
    page.wait_for_url(f"{live_server.url}/declarations/new/{reference}/")
    for name, value in (("hs_code", "9505100000"), ("description", scenario.GOODS), ("quantity", "24000"),
                        ("unit", "pcs"), ("gross_weight_kg", "18000"), ("value", "52000")):
        page.locator(f"[name='line0_{name}']").fill(value)
    looked_at(page, language)
    page.locator("#declaration-form button[type=submit]").click()
    page.locator("#submit-declaration").click()
    page.locator("h1 [data-status='submitted']").wait_for()
    assert queue_holds(page, live_server, reference) == 0
    screenshot(page, f"day-shipper-{language}")

    # The bookings list, sorted; the booking confirmation printed.
    page.get_by_role("navigation", name=text("Main", language)).get_by_role(
        "link", name=text("Bookings", language), exact=True).click()
    page.wait_for_load_state()
    sort_by(page, "reference")
    looked_at(page, language)
    page.locator(f"a:text-is('{reference}')").first.click()
    page.wait_for_url(f"{live_server.url}/bookings/{reference}/")
    confirmation = printed(page, page.locator("#booking-confirmation"))
    assert text("Booking confirmation", language) in confirmation and reference in confirmation
    assert station_name(language) in confirmation
    eir_in = printed(page, page.locator(f"a[href$='/{scenario.NUMBERS[0]}/eir-in.pdf']"))
    assert text("Gate in, laden", language) in eir_in and scenario.SEALS[scenario.NUMBERS[0]] in eir_in

    # A container found from the search box, on the map of its route.
    search(page, scenario.NUMBERS[0])
    assert page.locator("[data-network-map] [data-container-position]").count() == 1
    assert page.locator(f"[data-route^='{scenario.STATION}:']").count() == 1
    looked_at(page, language)
    screenshot(page, f"day-shipper-track-{language}", docs=guide_picture("tracking-map", language),
               scroll_to="[data-network-map]")


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_station_day(live_server, page, screenshot, demo, language):
    state = scenario.booked()
    request, reference = state.empty_request, state.booking.reference
    start_the_day(page, live_server, "yiwu-staff", language)

    # The queue: the empties asked for. Ready, then handed out in one go, with a result for each number.
    open_work_item(page, "empties_requested", reference)
    assert page.url.startswith(f"{live_server.url}/operations/station/?station={scenario.STATION}")
    looked_at(page, language)
    page.locator(f"[data-mark-ready='{request.pk}']").click()
    page.wait_for_load_state()
    empty = page.locator(f"[data-empty-request='{request.pk}']")
    empty.locator("details.ops-bulk summary").click()
    page.locator(f"#id_handout_{request.pk}_numbers").fill("\n".join([*scenario.NUMBERS, "CSQU3054380"]))
    page.locator(f"[data-hand-out-several='{request.pk}']").click()
    page.wait_for_load_state()
    assert page.locator(".message-success").count() == 2
    assert "CSQU3054380" in page.locator(".message-error").inner_text()  # a wrong check digit: that one only
    screenshot(page, f"day-station-hand-out-{language}", docs="hand-out-several" if language == "en" else "")
    assert queue_holds(page, live_server, reference) == 0

    # The gate, keyboard only: both containers gated in laden, then the train loaded after its review.
    page.goto(f"{live_server.url}/operations/station/?station={scenario.STATION}")
    for number in scenario.NUMBERS:
        assert page.evaluate("document.activeElement.name") == "number"
        page.keyboard.type(number)
        for value in (scenario.SEALS[number], "24500", None, "Wang Jun"):
            page.keyboard.press("Tab")
            if value:
                page.keyboard.type(value)
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert number in page.locator(".message-success").inner_text()
    looked_at(page, language)
    page.locator(f"[data-load-all='{state.departure.reference}']").click()
    page.wait_for_load_state()
    looked_at(page, language)
    record_the_report(page)
    card = page.locator(f"[data-departure='{state.departure.reference}']")
    assert {card.locator(f"tr[data-container='{n}']").get_attribute("data-status") for n in scenario.NUMBERS} == {
        "on_train"}
    screenshot(page, f"day-station-{language}")

    # Papers: the train's manifest from the board, the gate's receipts and the labels from the booking.
    manifest = printed(page, page.locator(f"[data-manifest='{state.departure.reference}']"))
    assert text("Container number", language) in manifest
    assert all(number in manifest for number in scenario.NUMBERS)
    page.goto(f"{live_server.url}/bookings/{reference}/")
    looked_at(page, language)
    eir_out = printed(page, page.locator(f"a[href$='/{scenario.NUMBERS[0]}/eir-out.pdf']"))
    assert text("Gate out, empty", language) in eir_out and station_name(language) in eir_out
    label = printed(page, page.locator(f"[data-label-for='{scenario.NUMBERS[1]}']"))
    assert scenario.NUMBERS[1] in label and reference in label

    # The next days from the keyboard, and a container found from the search box.
    page.goto(f"{live_server.url}/operations/station/?station={scenario.STATION}")
    page.locator("h1").first.click()
    start = dates(page, language).get_attribute("data-period-start")
    page.keyboard.press("]")
    page.wait_for_url("**/operations/station/?*from=*")
    assert dates(page, language).get_attribute("data-period-start") > start
    looked_at(page, language)
    search(page, scenario.NUMBERS[1])
    assert page.locator("[data-network-map] [data-container-position]").count() == 1


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_railway_day(live_server, page, screenshot, demo, language):
    state = scenario.loaded()
    departure = state.departure
    now = timezone.now()  # the train was due to leave half an hour ago
    Departure.objects.filter(pk=departure.pk).update(planned_departure=now - timedelta(minutes=30),
                                                     closing_time=now - timedelta(hours=2))
    # The railway's earlier trains ran on time (late in the day, the demo's would fill the queue ahead of this
    # one, the oldest first).
    earlier = Departure.objects.filter(service__operator=departure.service.operator, planned_departure__lt=now,
                                       status__in=[DepartureStatus.SCHEDULED, DepartureStatus.CLOSED]).exclude(
        pk=departure.pk)
    earlier.filter(planned_arrival__lt=now).update(status=DepartureStatus.ARRIVED, actual_arrival=F("planned_arrival"),
                                                   actual_departure=F("planned_departure"))
    earlier.update(status=DepartureStatus.DEPARTED, actual_departure=F("planned_departure"))
    start_the_day(page, live_server, "railway", language)

    # The queue: the train to report departed; its manifest confirmed whole and printed first.
    open_work_item(page, "train_to_depart", departure.reference)
    page.wait_for_url(f"{live_server.url}/operations/railway/{departure.reference}/")
    looked_at(page, language)
    page.locator("[data-action='confirm-manifest']").click()
    page.wait_for_load_state()
    assert page.locator("#manifest-confirmed").get_attribute("data-manifest-confirmed") == "2"
    documents = page.locator("#manifest-documents a")
    manifest = printed(page, documents.nth(0))
    assert text("Container number", language) in manifest and station_name(language) in manifest
    csv = printed(page, documents.nth(1))
    assert all(number in csv for number in scenario.NUMBERS)
    page.locator("form[action$='/departed/'] button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("[data-review-report] [data-planned]").count() >= 1  # shown against the plan first
    looked_at(page, language)
    record_the_report(page)
    assert page.locator("[data-departure-status]").get_attribute("data-departure-status") == "departed"
    screenshot(page, f"day-railway-{language}")
    assert page.evaluate("document.location.pathname") == f"/operations/railway/{departure.reference}/"
    page.goto(f"{live_server.url}/")
    assert page.locator(f"#work [data-work='train_to_depart']:has-text('{departure.reference}')").count() == 0

    # The departures: sorted within each day, the next days, a day picked.
    page.goto(f"{live_server.url}/operations/railway/")
    sort_by(page, "station")
    to_the_next_days(page, language)
    assert "sort=-station" in page.url  # the order chosen travels with the days
    looked_at(page, language)
    screenshot(page, f"day-railway-departures-{language}", docs=guide_picture("railway-departures", language))
    search(page, departure.reference)
    assert departure.reference in page.locator("main").inner_text()


@pytest.fixture
def arrived(demo):
    """Journey (c) done and the train arrived at the port with both containers."""
    state = scenario.released()
    railway = scenario.actor("demo-railway")
    departed = journey.train_depart(confirmed=True, actor=railway, departure=state.departure).actual_departure
    journey.train_arrive(confirmed=True, actor=railway, departure=state.departure,
                         at=departed + timedelta(milliseconds=1))
    return state.refresh()


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_port_day(live_server, page, screenshot, arrived, language):
    departure, call = arrived.departure, arrived.vessel_call
    start_the_day(page, live_server, "port", language)

    # The queue: the train to discharge. Each container discharged and gated in at the terminal.
    open_work_item(page, "train_to_discharge", departure.reference)
    looked_at(page, language)
    arrival = page.locator(f"#arrival-{departure.reference}")
    for number in scenario.NUMBERS:
        arrival.locator(f"[data-discharge='{number}']").click()
        page.wait_for_load_state()
        record_the_report(page)
        arrival.locator(f"[data-terminal-gate-in='{number}']").click()
        page.wait_for_load_state()
        record_the_report(page)
        assert arrival.locator(f"tr[data-container='{number}']").get_attribute("data-status") == "at_terminal"
    assert queue_holds(page, live_server, departure.reference) == 0

    # The vessel calls: one terminal's, sorted, the next days and back; the vessel's loading list.
    page.goto(f"{live_server.url}/operations/port/")
    page.locator("#terminal-filter").select_option(call.terminal.code)
    page.locator("#terminal-filter").locator("xpath=ancestor::form").locator("button").click()
    page.wait_for_load_state()
    assert f"terminal={call.terminal.code}" in page.url
    sort_by(page, "etd")
    to_the_next_days(page, language)
    dates(page, language).locator("[data-period='today']").click()
    page.wait_for_load_state()
    looked_at(page, language)
    page.locator(f"tr[data-vessel-call='{call.reference}'] a").click()
    page.wait_for_url(f"{live_server.url}/operations/port/vessel/{call.reference}/")
    looked_at(page, language)

    # Both containers ticked and loaded in one go, after seeing them against the vessel's times.
    for number in scenario.NUMBERS:
        page.locator(f"#pick-{number}").check()
    page.locator("[data-action='load-selected']").click()
    page.wait_for_load_state()
    # Against the vessel's times; a vessel that has not arrived yet asks again (the warning step).
    review = page.locator("[data-review-report], [data-confirm-report]")
    assert all(number in review.inner_text() for number in scenario.NUMBERS)
    looked_at(page, language)
    record_the_report(page)
    assert page.locator(".message-success").count() == 2, page.locator(".messages").inner_text()
    assert {page.locator(f"tr[data-container='{n}']").get_attribute("data-status") for n in scenario.NUMBERS} == {
        "on_vessel"}
    screenshot(page, f"day-port-{language}")
    search(page, scenario.NUMBERS[0])
    assert page.locator("[data-network-map] [data-container-position]").count() == 1


@pytest.fixture
def two_declared(demo):
    """Two declarations waiting for both agencies: the scenario's and another shipper's, filed before its
    containers have numbers."""
    state = scenario.declared()
    other = scenario.other_declaration(state)
    return state, other


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_officers_day(live_server, page, screenshot, two_declared, language):
    state, other = two_declared
    references = [state.declaration.reference, other.reference]
    start_the_day(page, live_server, "customs", language)
    screenshot(page, f"day-customs-queue-{language}", docs="work-queue" if language == "en" else "")

    # The queue: the declarations to decide. The queue page sorted; both ticked and cleared in one go.
    open_work_item(page, "declaration_to_decide", references[1])
    page.wait_for_url(f"{live_server.url}/declarations/{references[1]}/")
    looked_at(page, language)
    page.get_by_role("navigation", name=text("Main", language)).get_by_role(
        "link", name=text("Declarations", language), exact=True).click()
    page.wait_for_load_state()
    sort_by(page, "submitted")
    looked_at(page, language)
    for reference in references:
        page.locator(f"#select-{reference}").check()
    page.locator("#id_bulk-reason").fill("Paper check done")
    page.locator("[data-action='clear-selected']").click()
    page.wait_for_load_state()
    assert page.locator(".message-success").count() == 2
    screenshot(page, f"day-customs-{language}", docs="clear-selected" if language == "en" else "")
    assert all(queue_holds(page, live_server, reference) == 0 for reference in references)

    # Border inspection works the scenario's declaration from its own queue, one at a time.
    page.context.clear_cookies()
    start_the_day(page, live_server, "ciq", language)
    open_work_item(page, "declaration_to_decide", references[0])
    page.locator("[name='decision-kind'][value='clear']").check()
    page.locator("[name='decision-reason']").fill("Documents in order")
    page.locator("#decision-form button[type=submit]").click()
    page.wait_for_load_state()
    looked_at(page, language)
    assert Declaration.objects.get(reference=references[0]).status == DeclarationStatus.RELEASED
    assert queue_holds(page, live_server, references[0]) == 0
    search(page, references[1])
    page.wait_for_url(f"{live_server.url}/declarations/{references[1]}/")
