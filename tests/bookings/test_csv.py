"""CSV and Excel: exports of the bookings list with its filters, and bulk import of bookings (all or nothing)."""

import csv
import io

import pytest
from openpyxl import load_workbook

from bookings.imports import booking_import_run
from bookings.models import Booking, BookingImport, ImportStatus
from intermodal.models import Event
from tests import factories
from tests.bookings.conftest import book

pytestmark = pytest.mark.django_db


def rows_of(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_bookings_export_follows_the_filters_and_the_scope(client, shipper, other_shipper, connecting):
    mine = book(shipper.actor, connecting, lines={"42G1": 1}, commodity="=HYPERLINK(\"x\")")
    draft = book(shipper.actor, connecting, lines={"22G1": 1}, confirm=False)
    theirs = book(other_shipper.actor, connecting, lines={"42G1": 1})
    client.force_login(shipper.user)

    rows = rows_of(client.get("/bookings/export/bookings.csv", {"status": "confirmed"}))

    references = [row[0] for row in rows[1:]]
    assert references == [mine.reference]  # not the draft (filter), not the other shipper's (scope)
    assert draft.reference not in references and theirs.reference not in references
    assert rows[0][-4:] == ["currency", "quote total", "road haulage", "saving"]
    assert rows[1][10] == "'=HYPERLINK(\"x\")"  # a formula is written as text


def test_station_export_has_no_prices_and_xlsx_matches(client, shipper, connecting):
    booking = book(shipper.actor, connecting, lines={"42G1": 2})
    client.force_login(factories.user(connecting.network.operator))

    workbook = load_workbook(io.BytesIO(client.get("/bookings/export/bookings.xlsx").content))
    rows = list(workbook.active.iter_rows(values_only=True))
    assert "quote total" not in rows[0] and rows[0][1] == "shipper"
    assert rows[1][0] == booking.reference and rows[1][1] == shipper.org.name


def test_containers_and_events_exports(client, shipper, connecting):
    from bookings.services import container_assign

    booking = book(shipper.actor, connecting, lines={"42G1": 1})
    container_assign(actor=shipper.actor, booking=booking, number="CSQU3054383", size_type="42G1")
    client.force_login(shipper.user)

    containers = rows_of(client.get("/bookings/export/containers.csv"))
    assert containers[1][:3] == ["CSQU3054383", booking.reference, "42G1"]
    events = rows_of(client.get("/bookings/export/events.csv", {"reference": booking.reference}))
    codes = [row[2] for row in events[1:]]
    assert codes == list(Event.objects.filter(booking_reference=booking.reference)
                         .order_by("event_datetime", "id").values_list("event_code", flat=True))
    assert "CONF" in codes
    assert client.get("/bookings/export/secrets.csv").status_code == 404


def csv_file(rows: list[list[str]], name="bookings.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return SimpleUploadedFile(name, buffer.getvalue().encode(), content_type="text/csv")


HEADER = ["departure", "vessel_call", "destination", "containers", "commodity", "cargo_weight_kg", "confirm"]


def row(connecting, containers="42G1:1", **overrides):
    values = {"departure": connecting.departure.reference, "vessel_call": connecting.vessel_call.reference,
              "destination": "NLRTM", "containers": containers, "commodity": "Toys", "cargo_weight_kg": "9000",
              "confirm": "yes"}
    values.update(overrides)
    return [values[name] for name in HEADER]


def upload(client, rows) -> BookingImport:
    response = client.post("/bookings/import/", {"file": csv_file(rows)})
    assert response.status_code == 302
    return BookingImport.objects.latest("id")


def test_import_books_every_row_and_reports_progress(client, shipper, connecting):
    client.force_login(shipper.user)
    job = upload(client, [HEADER, row(connecting), row(connecting, containers="22G1:2")])
    assert job.status == ImportStatus.QUEUED and job.total_rows == 2
    progress = client.get(f"/bookings/import/{job.pk}/progress.json").json()
    assert (progress["status"], progress["percent"], progress["finished"]) == ("queued", 0, False)
    assert 'id="import-progress"' in client.get(f"/bookings/import/{job.pk}/").content.decode()

    booking_import_run(job_id=job.pk)  # what the worker runs

    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and job.processed_rows == 2
    booked = Booking.objects.filter(reference__in=job.created_references)
    assert sorted(b.teu for b in booked) == [2, 2] and {b.status for b in booked} == {"confirmed"}
    progress = client.get(f"/bookings/import/{job.pk}/progress.json").json()
    assert (progress["percent"], progress["finished"], progress["created"]) == (100, True, job.created_references)
    assert job.created_references[0] in client.get(f"/bookings/import/{job.pk}/").content.decode()


def test_import_with_bad_rows_books_nothing_and_names_every_bad_row(client, shipper, connecting):
    client.force_login(shipper.user)
    before = Booking.objects.count()
    job = upload(client, [
        HEADER,
        row(connecting),
        row(connecting, departure="NO-SUCH-DEPARTURE", cargo_weight_kg="heavy"),
        row(connecting, containers="99X9:1"),
        row(connecting, destination="USLAX"),  # the vessel does not call there
    ])

    booking_import_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED and Booking.objects.count() == before
    by_row = {bad["row"]: bad["errors"] for bad in job.errors}
    assert set(by_row) == {3, 4, 5}
    assert set(by_row[3]) == {"departure", "cargo_weight_kg"}
    assert "containers" in by_row[4] and "destination" in by_row[5]
    html = client.get(f"/bookings/import/{job.pk}/").content.decode()
    assert 'id="import-failed"' in html and 'data-row="3"' in html and "NO-SUCH-DEPARTURE" in html


def test_import_is_all_or_nothing_when_rows_fit_alone_but_not_together(client, shipper, connecting):
    capacity = connecting.departure.teu_free
    client.force_login(shipper.user)
    half = capacity // 2 + 1
    job = upload(client, [HEADER, row(connecting, containers=f"22G1:{half}"),
                          row(connecting, containers=f"22G1:{half}")])
    before = Booking.objects.count()

    booking_import_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED and Booking.objects.count() == before
    assert job.errors[0]["row"] == 3
    connecting.departure.refresh_from_db()
    assert connecting.departure.teu_free == capacity


def test_import_refuses_a_file_without_its_columns_and_other_parties(client, shipper, other_shipper, connecting):
    client.force_login(shipper.user)
    response = client.post("/bookings/import/", {"file": csv_file([["reference", "commodity"], ["x", "y"]])})
    assert response.status_code == 400 and "lacks the columns" in response.content.decode()
    assert not BookingImport.objects.exists()

    job = upload(client, [HEADER, row(connecting)])
    client.force_login(other_shipper.user)
    assert client.get(f"/bookings/import/{job.pk}/progress.json").status_code == 404
    client.force_login(factories.user(connecting.network.operator))
    assert client.get("/bookings/import/").status_code == 403


def test_import_template_downloads(client, shipper):
    client.force_login(shipper.user)
    rows = rows_of(client.get("/bookings/import/template.csv"))
    assert rows[0][:4] == ["departure", "vessel_call", "destination", "containers"]
