"""Bills of lading issued inland: the shipper's request, the station's issue once the containers are gated in and
the declaration released, the PDF (every field in its text), the ISSU event, the public verification page."""

import hashlib
import io

import pytest
from pypdf import PdfReader

from bookings import services as bookings_services
from bookings.models import BillOfLadingStatus
from documents import bill_of_lading as bl
from intermodal.access import Actor
from intermodal.errors import InvalidInput, NotAllowed, StateConflict
from intermodal.models import Event, PartyKind
from journey import services as journey
from tests import factories
from tests.bookings.conftest import book
from tests.bookings.test_journey import NUMBERS, vgm

pytestmark = pytest.mark.django_db

REQUEST = {
    "shipper_name": "Yiwu Crafts Co., Ltd.", "shipper_address": "88 Chouzhou Road, Yiwu, Zhejiang, China",
    "consignee_name": "Rotterdam Gifts B.V.", "consignee_address": "Waalhaven 12, 3089 Rotterdam, Netherlands",
    "notify_name": "Maas Customs Brokers", "notify_address": "Kade 5, 3011 Rotterdam, Netherlands",
    "goods_description": "Christmas decorations, 1,200 cartons", "marks_and_numbers": "YWC/RTM/1-1200",
    "freight_terms": "prepaid",
}


def verify_url(token: str) -> str:
    return f"https://intermodal.example.com/bl/{token}/"


@pytest.fixture
def station_actor(network):
    network.yiwu.issues_bills_of_lading = True
    network.yiwu.save(update_fields=["issues_bills_of_lading"])
    return Actor(organisation=network.operator, user=factories.user(network.operator))


@pytest.fixture
def ready(shipper, connecting, station_actor):
    """Two containers gated in at Yiwu with seals and VGM; the shipper has asked for the B/L; declaration released."""
    booking = book(shipper.actor, connecting, lines={"42G1": 2})
    request = bookings_services.empty_request_create(actor=shipper.actor, booking=booking, size_type="42G1", quantity=2)
    journey.empty_request_ready(actor=station_actor, request=request)
    for n, number in enumerate(NUMBERS[:2]):
        journey.empty_hand_out(actor=station_actor, request=request, number=number)
        journey.laden_gate_in(actor=station_actor, number=number, **vgm(n))
    bl.bill_of_lading_request(actor=shipper.actor, booking=booking, **REQUEST)
    factories.declaration_released(booking)
    booking.refresh_from_db()
    return booking


def test_station_issues_the_bill_with_number_pdf_and_event(ready, station_actor):
    bill = bl.bill_of_lading_issue(actor=station_actor, booking=ready, verify_url=verify_url)

    assert bill.status == BillOfLadingStatus.ISSUED
    assert bill.number.startswith("BLCNYIU") and bill.place_of_issue.code == "YIWU-W"
    assert hashlib.sha256(bytes(bill.pdf)).hexdigest() == bill.pdf_sha256
    event = Event.objects.get(event_code="ISSU", booking_reference=ready.reference)
    assert (event.event_type, event.document_type, event.document_reference) == ("SHIPMENT", "TRD", bill.number)
    assert (event.facility_code, event.reported_by_organisation_id) == ("YIWU-W", station_actor.organisation.pk)
    assert Event.objects.filter(event_code="SUBM", document_type="SHI", booking_reference=ready.reference).exists()


def test_pdf_text_has_every_field(ready, station_actor):
    bill = bl.bill_of_lading_issue(actor=station_actor, booking=ready, verify_url=verify_url)

    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(bytes(bill.pdf))).pages)
    text = " ".join(text.split())
    call = ready.vessel_call
    expected = [
        "BILL OF LADING", f"B/L No. {bill.number}", ready.reference,
        *[value for name, value in REQUEST.items() if name != "freight_terms"],
        "Freight prepaid", call.vessel_name, call.voyage, call.carrier, "Beilun, Ningbo-Zhoushan (CNNGB)",
        "NLRTM", "PLACE AND DATE OF ISSUE", "Yiwu West, Yiwu (CNYIU)", ready.departure.reference,
        *NUMBERS[:2], "SEAL00000", "SEAL00001", "42G1", "24,500.0", "2 container(s); total VGM 49,000.0 kg",
        "HS 9503008900: Plastic toys", verify_url(bill.verification_token),
    ]
    missing = [field for field in expected if field not in text]
    assert missing == []


def test_refused_until_gated_in_and_released(shipper, connecting, station_actor):
    booking = book(shipper.actor, connecting, lines={"42G1": 1})
    bl.bill_of_lading_request(actor=shipper.actor, booking=booking, **REQUEST)

    with pytest.raises(StateConflict) as refused:
        bl.bill_of_lading_issue(actor=station_actor, booking=booking, verify_url=verify_url)
    assert refused.value.code == "not_ready" and "0 of 1 containers" in refused.value.message

    request = bookings_services.empty_request_create(actor=shipper.actor, booking=booking, size_type="42G1", quantity=1)
    journey.empty_request_ready(actor=station_actor, request=request)
    journey.empty_hand_out(actor=station_actor, request=request, number=NUMBERS[0])
    journey.laden_gate_in(actor=station_actor, number=NUMBERS[0], **vgm())
    with pytest.raises(StateConflict) as refused:
        bl.bill_of_lading_issue(actor=station_actor, booking=booking, verify_url=verify_url)
    assert "not released by customs" in refused.value.message
    assert not Event.objects.filter(event_code="ISSU").exists()
    booking.bill_of_lading.refresh_from_db()
    assert booking.bill_of_lading.number is None


def test_only_the_station_issues_and_only_the_shipper_asks(ready, connecting, shipper, other_shipper):
    railway = Actor(organisation=connecting.network.railway)
    with pytest.raises(NotAllowed) as refused:
        bl.bill_of_lading_issue(actor=railway, booking=ready, verify_url=verify_url)
    assert refused.value.status == 403
    other_station = Actor(organisation=factories.organisation(PartyKind.STATION_OPERATOR))
    with pytest.raises(NotAllowed):
        bl.bill_of_lading_issue(actor=other_station, booking=ready, verify_url=verify_url)
    with pytest.raises(NotAllowed) as refused:
        bl.bill_of_lading_request(actor=other_shipper.actor, booking=ready, **REQUEST)
    assert refused.value.status == 403


def test_request_is_validated_and_frozen_once_issued(ready, shipper, station_actor):
    with pytest.raises(InvalidInput) as refused:
        bl.bill_of_lading_request(actor=shipper.actor, booking=ready, **{**REQUEST, "consignee_name": " ",
                                                                         "freight_terms": "cash"})
    assert set(refused.value.errors) == {"consignee_name", "freight_terms"}

    bl.bill_of_lading_issue(actor=station_actor, booking=ready, verify_url=verify_url)
    with pytest.raises(StateConflict) as refused:
        bl.bill_of_lading_request(actor=shipper.actor, booking=ready, **REQUEST)
    assert refused.value.code == "already_issued"
    with pytest.raises(StateConflict):
        bl.bill_of_lading_issue(actor=station_actor, booking=ready, verify_url=verify_url)


def test_station_that_issues_no_bills_refuses(ready, station_actor, network):
    network.yiwu.issues_bills_of_lading = False
    network.yiwu.save(update_fields=["issues_bills_of_lading"])
    with pytest.raises(StateConflict) as refused:
        bl.bill_of_lading_issue(actor=station_actor, booking=ready, verify_url=verify_url)
    assert "does not issue bills of lading" in refused.value.message


def test_pages_request_issue_download_and_verify(client, shipper, ready, station_actor):
    client.force_login(shipper.user)
    page = client.get(f"/bookings/{ready.reference}/").content.decode()
    assert 'id="bill-requested"' in page and "Rotterdam Gifts B.V." in page

    client.force_login(station_actor.user)
    page = client.get(f"/bookings/{ready.reference}/").content.decode()
    assert 'id="issue-bill"' in page
    response = client.post(f"/bookings/{ready.reference}/bill-of-lading/issue/")
    assert response.status_code == 302
    ready.bill_of_lading.refresh_from_db()
    bill = ready.bill_of_lading
    assert bill.number and f"http://testserver/bl/{bill.verification_token}/" in " ".join(
        p.extract_text() for p in PdfReader(io.BytesIO(bytes(bill.pdf))).pages).replace("\n", "")

    client.force_login(shipper.user)
    pdf = client.get(f"/bookings/{ready.reference}/bill-of-lading.pdf")
    assert pdf["Content-Type"] == "application/pdf" and hashlib.sha256(pdf.content).hexdigest() == bill.pdf_sha256

    client.logout()
    verify = client.get(f"/bl/{bill.verification_token}/")
    html = verify.content.decode()
    assert verify.status_code == 200 and bill.number in html and NUMBERS[0] in html and bill.pdf_sha256 in html
    assert str(ready.quote_total) not in html and str(ready.quote_saving) not in html
    assert client.get("/bl/not-a-real-code/").status_code == 404


def test_shipper_asks_through_the_page(client, shipper, connecting):
    booking = book(shipper.actor, connecting, lines={"42G1": 1})
    client.force_login(shipper.user)

    refused = client.post(f"/bookings/{booking.reference}/bill-of-lading/", {**REQUEST, "notify_name": ""})
    assert refused.status_code == 400 and "This field is required." in refused.content.decode()
    done = client.post(f"/bookings/{booking.reference}/bill-of-lading/", REQUEST)
    assert done.status_code == 302
    booking.refresh_from_db()
    assert booking.bill_of_lading.consignee_name == REQUEST["consignee_name"]


def test_api_bill_of_lading(api_client, shipper, ready, station_actor, other_shipper):
    _key, station_key = factories.api_key(station_actor.organisation)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {station_key}")
    issued = api_client.post(f"/api/v1/bookings/{ready.reference}/bill-of-lading/issue/")
    assert issued.status_code == 200 and issued.json()["status"] == "issued"

    _key, shipper_key = factories.api_key(shipper.org)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {shipper_key}")
    body = api_client.get(f"/api/v1/bookings/{ready.reference}/bill-of-lading/").json()
    assert body["number"] == issued.json()["number"] and body["verify_url"].startswith("http://testserver/bl/")
    pdf = api_client.get(f"/api/v1/bookings/{ready.reference}/bill-of-lading/pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    again = api_client.post(f"/api/v1/bookings/{ready.reference}/bill-of-lading/", REQUEST, format="json")
    assert again.status_code == 409 and again.json()["code"] == "already_issued"

    _key, other_key = factories.api_key(other_shipper.org)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {other_key}")
    assert api_client.get(f"/api/v1/bookings/{ready.reference}/bill-of-lading/").status_code == 404


def test_chinese_parties_and_addresses_are_written_in_an_embedded_font(shipper, connecting, station_actor, ready):
    from documents.fonts import EMBEDDED

    bill = ready.bill_of_lading
    bill.shipper_name, bill.shipper_address = "义乌工艺品有限公司", "浙江省义乌市稠州路88号"
    bill.save(update_fields=["shipper_name", "shipper_address"])

    issued = bl.bill_of_lading_issue(actor=station_actor, booking=ready, verify_url=verify_url)

    reader = PdfReader(io.BytesIO(bytes(issued.pdf)))
    text = " ".join(page.extract_text() for page in reader.pages)
    fonts = {str(font.get_object().get("/BaseFont")) for page in reader.pages
             for font in page["/Resources"]["/Font"].values()}
    assert "义乌工艺品有限公司" in text and "浙江省义乌市稠州路88号" in text
    assert any(EMBEDDED in name for name in fonts)  # the font travels with the PDF
