"""The figures dashboard and a bill of lading's verification page in a real browser, with screenshots."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bookings import selectors as booking_selectors
from bookings import services as booking_services
from bookings import services as bookings_services
from bookings.models import BookingStatus, ContainerStatus
from documents import bill_of_lading
from intermodal.access import Actor
from intermodal.models import Organisation, User
from journey import services as journey
from stations.models import DepartureStatus, Location, Station
from tests import factories
from tests.browser.pages import log_in, printed, use_language
from tests.figures.conftest import booking as history_booking
from tests.figures.conftest import declaration, departure, empty_request

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def history(days: int = 12) -> None:
    """Two Yiwu services' sailings of the last weeks: 3 bookings each, one in nine rolled."""
    shipper = Organisation.objects.get(code="demo-shipper-a")
    other = Organisation.objects.get(code="demo-shipper-b")
    stations = Station.objects.filter(city="Yiwu").order_by("code")
    today = timezone.localdate()
    n = 0
    for station in stations:
        service = station.services.order_by("code").first()
        for back in range(days):
            day = today - timedelta(days=80 - back * 6)
            dep = departure(service, day, capacity=service.teu_capacity, booked=9,
                            status=DepartureStatus.ARRIVED)
            etd = factories.shanghai(day + timedelta(days=2), 18)
            call = factories.vessel_call(service.terminal, etd=etd, imo="9811000", actual_departure=etd,
                                         voyage=f"H{station.pk}{back:03d}")
            later = factories.vessel_call(service.terminal, etd=etd + timedelta(days=1), imo="9811000",
                                          actual_departure=etd + timedelta(days=1), voyage=f"R{station.pk}{back:03d}")
            for k in range(3):
                n += 1
                rolled = n % 9 == 0
                b = history_booking(shipper if k else other, dep, later if rolled else call, "22G1", 3,
                                    original=call if rolled else None)
                empty_request(b, dep.planned_departure - timedelta(days=3), 6 + (n * 7) % 40)
                declaration(b, dep.planned_departure - timedelta(days=2), 2 + n % 11, inspected=n % 4 == 0,
                            hs_code=("9503008900", "6109100021", "9403609990")[k], kg=str(9000 + 500 * k))


def test_dashboard_reads_at_a_glance(live_server, page, screenshot, demo):
    history()
    log_in(page, live_server, "port")
    page.get_by_role("link", name="Figures").click()
    page.wait_for_url(f"{live_server.url}/figures/")

    chart = page.locator("#chart-on-schedule")
    assert chart.is_visible()
    assert chart.locator("title").first.text_content() == "On-schedule shipment rate by month"
    assert chart.locator(".chart-goal").count() == 1
    assert "%" in page.locator("#kpi-on-schedule .kpi__value").inner_text()
    for figure in ("#chart-empty-wait", "#chart-clearance", "#chart-teu-station", "#chart-load-factor",
                   "#chart-cost", "#chart-cargo-mix"):
        assert page.locator(figure).is_visible()
    assert page.locator("#chart-teu-station rect").count() >= 2
    screenshot(page, "figures-1-port-dashboard")
    page.locator("#id_station").select_option("YIWU-W")
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state()
    assert page.locator("#chart-teu-station rect").count() == 1
    screenshot(page, "figures-2-port-one-station")

    page.context.clear_cookies()
    page.set_viewport_size({"width": 820, "height": 1180})  # a tablet
    log_in(page, live_server, "gov")
    page.goto(f"{live_server.url}/figures/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator("#chart-cargo-mix").is_visible() and page.locator("#chart-cost").count() == 0
    assert page.locator("#chart-on-schedule title").first.text_content() == "按月准点发运率"
    screenshot(page, "figures-3-government-zh-tablet")


@pytest.fixture
def ready_for_bill(demo):
    """A Yiwu booking of demo-shipper-a: two containers gated in, declaration released, B/L asked for."""
    shipper = Organisation.objects.get(code="demo-shipper-a")
    actor = Actor(organisation=shipper, user=shipper.users.first())
    staff = User.objects.get(username="yiwu-staff")
    station_actor = Actor(organisation=staff.organisation, user=staff)
    lines = {"42G1": 2}
    connection = next(
        connection
        for station in Station.objects.filter(operator=staff.organisation, issues_bills_of_lading=True)
        .exclude(inspection_offices=None).order_by("code")
        for connection in booking_selectors.connections_search(
            station=station, lines=lines, destination=Location.objects.get(unlocode="NLRTM"))
    )
    booking = booking_services.booking_create(
        actor=actor, departure=connection.departure, vessel_call=connection.vessel_call,
        destination=Location.objects.get(unlocode="NLRTM"), lines=lines, commodity="Christmas decorations",
        cargo_weight_kg=Decimal("18000"), confirm=True,
    )
    request = bookings_services.empty_request_create(actor=actor, booking=booking, size_type="42G1", quantity=2)
    journey.empty_request_ready(actor=station_actor, request=request)
    for n, number in enumerate(("CSQU3054383", "TCNU7200794")):
        journey.empty_hand_out(actor=station_actor, request=request, number=number)
        journey.laden_gate_in(actor=station_actor, number=number, seal_number=f"YW{n:06d}",
                              vgm_kg=Decimal("12500"), vgm_method=1, vgm_signatory="Chen Jie")
    factories.declaration_released(booking)
    bill_of_lading.bill_of_lading_request(
        actor=actor, booking=booking, shipper_name=shipper.name, shipper_address="88 Chouzhou Road, Yiwu",
        consignee_name="Rotterdam Gifts B.V.", consignee_address="Waalhaven 12, Rotterdam",
        notify_name="Maas Customs Brokers", notify_address="Kade 5, Rotterdam",
        goods_description="Christmas decorations, 1,200 cartons", marks_and_numbers="YWC/RTM", freight_terms="prepaid",
    )
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert set(booking.containers.values_list("status", flat=True)) == {ContainerStatus.GATED_IN}
    return booking


def test_station_issues_a_bill_and_its_verification_page_shows_it(live_server, page, screenshot, ready_for_bill):
    log_in(page, live_server, "yiwu-staff")
    use_language(page, "en")
    page.goto(f"{live_server.url}/bookings/{ready_for_bill.reference}/")
    section = page.locator("#bill-of-lading")
    assert "Rotterdam Gifts B.V." in section.inner_text()
    screenshot(page, "bill-of-lading-1-ready-to-issue")
    page.get_by_role("button", name="Issue the bill of lading").click()
    page.locator("#bill-issued").wait_for()
    ready_for_bill.bill_of_lading.refresh_from_db()
    bill = ready_for_bill.bill_of_lading
    assert bill.number in page.locator("#bill-issued").inner_text()
    screenshot(page, "bill-of-lading-2-issued")
    pdf = printed(page, page.locator(f"#bill-of-lading a[href$='/{ready_for_bill.reference}/bill-of-lading.pdf']"))
    assert bill.number in pdf and "Rotterdam Gifts B.V." in pdf and "Waalhaven 12, Rotterdam" in pdf

    page.context.clear_cookies()  # the verification page is public: whoever scans the QR code
    page.goto(f"{live_server.url}/bl/{bill.verification_token}/")
    assert page.locator("#bl-number").inner_text() == bill.number
    assert page.locator("#bl-sha256").inner_text() == bill.pdf_sha256
    assert page.locator("#bl-containers tbody tr").count() == 2
    screenshot(page, "bill-of-lading-3-verification")
    page.goto(f"{live_server.url}/bl/forged-code/")
    assert page.locator("#verification-failed").is_visible()
