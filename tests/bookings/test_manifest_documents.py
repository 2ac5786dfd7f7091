"""A train's manifest printed (PDF, Chinese names in an embedded font) and as a CSV, for the railway, the station
and the port; another railway's is a 404."""

import csv
import io

import pytest
from django.test import Client
from django.utils import translation
from pypdf import PdfReader

from documents.fonts import EMBEDDED
from intermodal.models import PartyKind
from tests import factories
from tests.bookings import test_operations_views as operations
from tests.bookings.test_operations_views import NUMBERS, at_station, person

pytestmark = pytest.mark.django_db
staff, tomorrow = operations.staff, operations.tomorrow  # the operations pages' fixtures


def get(user, url):
    client = Client()
    client.force_login(user)
    return client.get(url)


def test_the_manifest_prints_every_container_with_totals_in_the_readers_language(shipper, tomorrow, staff):
    network, departure = tomorrow.network, tomorrow.departure
    shipper.actor.organisation.name_zh = "义乌工艺品有限公司"
    shipper.actor.organisation.save(update_fields=["name_zh"])
    at_station(shipper, tomorrow, staff, NUMBERS[:2])
    railway = person(network.railway)
    railway.user.language = "zh-hans"
    railway.user.save(update_fields=["language"])

    pdf = get(railway.user, f"/departures/{departure.reference}/manifest.pdf")
    csv_answer = get(person(network.port).user, f"/departures/{departure.reference}/manifest.csv")

    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.content))
    text = " ".join(page.extract_text() for page in reader.pages)
    assert all(number in text for number in NUMBERS[:2])
    assert departure.reference in text and "义乌工艺品有限公司" in text
    with translation.override("zh-hans"):
        assert translation.gettext("Container number") in text  # the headings in the reader's language
    fonts = {str(font.get_object().get("/BaseFont")) for page in reader.pages
             for font in page["/Resources"]["/Font"].values()}
    assert any(EMBEDDED in name for name in fonts)
    rows = list(csv.reader(io.StringIO(b"".join(csv_answer.streaming_content).decode("utf-8-sig"))))
    assert rows[0][0] == "Container number" and {row[0] for row in rows[1:]} == set(NUMBERS[:2])
    assert rows[0][6] == "VGM (kg)" and "B/L" not in rows[0]  # an export's: the shipper's VGM
    assert all(row[6] == "24500.000" or row[6].startswith("24500") for row in rows[1:])


def test_the_manifest_is_for_the_parties_that_work_the_train(shipper, tomorrow, staff):
    departure = tomorrow.departure
    other_railway = person(factories.organisation(PartyKind.RAILWAY, code="other-rail"))
    url = f"/departures/{departure.reference}/manifest.pdf"

    answers = {
        "station": get(staff.user, url).status_code,
        "shipper": get(shipper.user, url).status_code,
        "other railway": get(other_railway.user, url).status_code,
        "bad format": get(staff.user, f"/departures/{departure.reference}/manifest.exe").status_code,
    }

    assert answers == {"station": 200, "shipper": 404, "other railway": 404, "bad format": 404}
