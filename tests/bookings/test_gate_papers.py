"""The gate's paper and the shipper's: the booking confirmation, the equipment interchange receipts (empty out,
laden in) with the container's scannable code, and the container label - each from what was recorded, for those
who may see it, Chinese text included."""

import io

import pytest
from django.test import Client
from pypdf import PdfReader

from bookings import services as bookings_services
from intermodal.models import PartyKind
from journey import services as journey
from tests import factories
from tests.bookings import test_operations_views as operations
from tests.bookings.conftest import book
from tests.bookings.test_operations_views import NUMBERS, person, vgm

pytestmark = pytest.mark.django_db
staff, tomorrow = operations.staff, operations.tomorrow  # the operations pages' fixtures


def pdf_text(response) -> str:
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf", response.status_code
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(response.content)).pages)


def get(user, url):
    client = Client()
    client.force_login(user)
    return client.get(url)


@pytest.fixture
def handed_out(shipper, tomorrow, staff):
    """One container handed out empty and gated in laden; a second only handed out."""
    shipper.actor.organisation.name_zh = "义乌工艺品有限公司"
    shipper.actor.organisation.save(update_fields=["name_zh"])
    booking = book(shipper.actor, tomorrow, lines={"42G1": 2})
    request = bookings_services.empty_request_create(actor=shipper.actor, booking=booking, size_type="42G1",
                                                     quantity=2)
    journey.empty_request_ready(actor=staff.actor, request=request)
    for number in NUMBERS[:2]:
        journey.empty_hand_out(actor=staff.actor, request=request, number=number)
    journey.laden_gate_in(confirmed=True, actor=staff.actor, number=NUMBERS[0], **vgm(0))
    return booking


def test_the_eirs_say_what_moved_through_the_gate_and_when(handed_out, shipper, staff):
    base = f"/bookings/{handed_out.reference}/containers"

    out = pdf_text(get(staff.user, f"{base}/{NUMBERS[0]}/eir-out.pdf"))
    laden = pdf_text(get(shipper.user, f"{base}/{NUMBERS[0]}/eir-in.pdf"))
    not_yet = get(staff.user, f"{base}/{NUMBERS[1]}/eir-in.pdf")

    assert "Gate out, empty" in out and NUMBERS[0] in out and handed_out.reference in out
    assert "Gate in, laden" in laden and "SEAL00000" in laden and "24,500 kg" in laden
    assert not_yet.status_code == 404  # not gated in: nothing to give a receipt for


def test_the_label_and_the_confirmation_carry_the_numbers_to_scan(handed_out, shipper, staff):
    shipper.user.language = "zh-hans"
    shipper.user.save(update_fields=["language"])

    label = pdf_text(get(staff.user, f"/bookings/{handed_out.reference}/containers/{NUMBERS[0]}/label.pdf"))
    confirmation = pdf_text(get(shipper.user, f"/bookings/{handed_out.reference}/confirmation.pdf"))
    for_station = pdf_text(get(staff.user, f"/bookings/{handed_out.reference}/confirmation.pdf"))

    assert NUMBERS[0] in label and handed_out.departure.reference in label
    assert handed_out.reference in confirmation and "义乌工艺品有限公司" in confirmation
    assert "订舱确认" in confirmation  # in the reader's language
    assert "总价" in confirmation and "Total price" not in for_station  # prices for the shipper only


def test_the_gate_papers_are_for_the_shipper_and_its_station_only(handed_out, other_shipper, tomorrow):
    url = f"/bookings/{handed_out.reference}/containers/{NUMBERS[0]}/eir-out.pdf"
    railway = person(tomorrow.network.railway)
    other_station = person(factories.organisation(PartyKind.STATION_OPERATOR, code="other-ops"))

    answers = [get(other_shipper.user, url).status_code, get(railway.user, url).status_code,
               get(other_station.user, url).status_code,
               get(other_shipper.user, f"/bookings/{handed_out.reference}/confirmation.pdf").status_code,
               Client().get(url).status_code]

    assert answers == [404, 404, 404, 404, 302]


def test_the_booking_page_links_its_paper_for_the_shipper_and_the_station(handed_out, shipper, staff, tomorrow):
    page = get(shipper.user, f"/bookings/{handed_out.reference}/").content.decode()
    station = get(staff.user, f"/bookings/{handed_out.reference}/").content.decode()
    railway = get(person(tomorrow.network.railway).user, f"/bookings/{handed_out.reference}/").content.decode()

    label = f"/bookings/{handed_out.reference}/containers/{NUMBERS[0]}/label.pdf"
    assert f"/bookings/{handed_out.reference}/confirmation.pdf" in page
    assert label in page and f"/containers/{NUMBERS[0]}/eir-in.pdf" in page
    assert f"/containers/{NUMBERS[1]}/eir-in.pdf" not in page  # not gated in yet
    assert label in station and label not in railway
