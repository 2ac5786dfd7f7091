"""The import pages: the consignee's arrivals, booking and free time; the port's announcement, holds, arrival,
discharge and rail-outbound list; the station's import yard, scan and match-back on the board; the railway's
manifest, the bookings list and tracking both ways. Reads are scoped: another organisation's object is a 404."""

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pypdf import PdfReader

from bookings import services as bookings_services
from bookings.models import Booking, BookingStatus, Container, ContainerStatus
from inbound import services as arrivals
from inbound.models import ArrivingContainer, ReturnedEmpty
from inbound.selectors import import_departures_for
from intermodal.models import Event
from journey import imports
from tests import factories
from tests.bookings.conftest import book
from tests.imports.conftest import NUMBERS, announce, book_import
from tests.imports.test_import_steps import to_station

pytestmark = pytest.mark.django_db

IMPORTS = "/operations/imports/"
YARD = "/operations/station/imports/"
PORT_IMPORTS = "/operations/port/imports/"


def signed_in(actor) -> Client:
    client = Client()
    client.force_login(actor.user)
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def arrivals_url(corridor) -> str:
    return f"{PORT_IMPORTS}vessel/{corridor.call.reference}/"


def nav_links(response) -> dict[str, bool]:
    """The main navigation's links: where each goes -> whether it is marked as the page shown."""
    nav = re.search(r'<nav class="site-nav".*?</nav>', response.content.decode(), re.S).group(0)
    return {href: bool(current) for href, current in re.findall(r'<a href="([^"]+)"( aria-current="page")?', nav)}


# --- The main navigation ---------------------------------------------------------------------------------


def test_each_party_reaches_its_import_pages_from_the_main_navigation_and_no_other_partys(corridor):
    a = corridor.actors
    station, port = signed_in(a.station), signed_in(a.port)

    homes = {party: signed_in(getattr(a, party)).get("/") for party in ("station", "port", "consignee", "railway")}
    yard = station.get(YARD)
    port_imports, arrivals = port.get(PORT_IMPORTS), port.get(arrivals_url(corridor))

    assert nav_links(homes["station"])[YARD] is False
    assert yard.status_code == 200 and "operations/imports_yard.html" in [t.name for t in yard.templates]
    assert nav_links(yard)[YARD] is True  # shown as the page one is on, as the other links are
    assert nav_links(homes["port"])[PORT_IMPORTS] is False
    assert port_imports.status_code == arrivals.status_code == 200
    assert nav_links(port_imports)[PORT_IMPORTS] is True and nav_links(arrivals)[PORT_IMPORTS] is True
    assert nav_links(homes["consignee"])[IMPORTS] is False
    for party, home in homes.items():  # each party's own import page, and no other's
        links = nav_links(home)
        assert (YARD in links, PORT_IMPORTS in links, IMPORTS in links) == (
            party == "station", party == "port", party == "consignee"), party


# --- The consignee ---------------------------------------------------------------------------------------


def test_the_consignee_sees_its_arrivals_by_vessel_and_bl_and_another_consignee_does_not(corridor):
    announce(corridor)
    announce(corridor, ["GYOU4047990"], consignee=corridor.other)

    page = signed_in(corridor.actors.consignee).get(IMPORTS)
    other = signed_in(corridor.actors.other).get(IMPORTS)

    assert page.status_code == 200
    html = page.content.decode()
    assert all(f'data-arrival="{number}"' in html for number in NUMBERS)
    assert "GYOU4047990" not in html
    assert "MEDU1234567" in html and corridor.call.vessel_name in html
    assert 'data-arrival="GYOU4047990"' in other.content.decode()
    assert NUMBERS[0] not in other.content.decode()


def test_the_consignee_sees_the_quote_then_books_and_nothing_is_booked_before(corridor):
    announce(corridor)
    client = signed_in(corridor.actors.consignee)
    data = {"vessel_call": corridor.call.reference, "numbers": NUMBERS[:2], "departure": corridor.departure.reference,
            "commodity": "Machine parts"}

    quoted = client.post(IMPORTS, {**data, "step": "quote"})

    assert quoted.status_code == 200
    assert f'data-quote="{corridor.call.reference}"' in quoted.content.decode()
    assert "Saving against road" in text_of(quoted)
    assert not Booking.objects.exists()

    booked = client.post(IMPORTS, {**data, "step": "book"}, follow=True)

    booking = Booking.objects.get()
    assert booked.redirect_chain[-1][0] == f"/bookings/{booking.reference}/"
    assert booking.is_import and booking.status == BookingStatus.CONFIRMED
    assert sorted(booking.containers.values_list("number", flat=True)) == sorted(NUMBERS[:2])
    assert any(booking.reference in m for m in messages_of(booked))


def test_a_refused_import_booking_is_shown_at_the_fields_and_keeps_nothing(corridor):
    announce(corridor)
    client = signed_in(corridor.actors.consignee)

    nothing_ticked = client.post(IMPORTS, {"vessel_call": corridor.call.reference, "departure": "",
                                           "commodity": "", "step": "book"})

    assert nothing_ticked.status_code == 400
    form = nothing_ticked.context["calls"][0]["form"]
    assert {"numbers", "departure", "commodity"} <= set(form.errors)
    assert "Tick the containers to book." in nothing_ticked.content.decode()

    type(corridor.departure).objects.filter(pk=corridor.departure.pk).update(booked_teu=5)  # one TEU left
    full = client.post(IMPORTS, {"vessel_call": corridor.call.reference, "numbers": NUMBERS,
                                 "departure": corridor.departure.reference, "commodity": "Parts", "step": "book"})

    assert full.status_code == 409
    assert full.context["calls"][0]["form"].non_field_errors()
    assert not Booking.objects.exists()
    assert not ArrivingContainer.objects.filter(booking__isnull=False).exists()


def test_another_organisations_vessel_call_is_not_found_on_the_imports_page(corridor):
    announce(corridor)

    response = signed_in(corridor.actors.other).post(IMPORTS, {"vessel_call": corridor.call.reference,
                                                               "numbers": NUMBERS[:1], "step": "book"})

    assert response.status_code == 404
    assert not Booking.objects.exists()


def announce_on_another_call(corridor, number: str, hours_later: int):
    """A vessel arriving at the corridor's terminal `hours_later` than the corridor's, one container for the
    consignee on it: its departures close after another time than the first call's."""
    call = factories.vessel_call(corridor.network.beilun, etd=corridor.call.etd + timedelta(hours=hours_later),
                                 imo="9839179", voyage=f"{100 + hours_later}E", vessel_name="MSC Later")
    item = arrivals.Announced(number=number, size_type="22G1", bl_number=f"MEDU{hours_later:07d}",
                              consignee=corridor.consignee, port_of_loading=corridor.loading,
                              gross_weight_kg=Decimal("18000"))
    arrivals.arrivals_announce(actor=corridor.actors.port, vessel_call=call, items=[item])
    return call


def test_the_imports_page_reads_the_departures_of_all_its_vessel_calls_in_the_same_queries(
        corridor, django_assert_max_num_queries):
    announce(corridor, NUMBERS[:1])
    client = signed_in(corridor.actors.consignee)
    with django_assert_max_num_queries(40) as one:
        client.get(IMPORTS)
    announce_on_another_call(corridor, NUMBERS[1], hours_later=12)
    announce_on_another_call(corridor, NUMBERS[2], hours_later=30)

    with django_assert_max_num_queries(len(one.captured_queries)):
        three = client.get(IMPORTS)

    groups = three.context["calls"]
    assert len(groups) == 3 and all(group["open"] for group in groups)
    for group in groups:  # each call offered the departures it is offered alone, in the same order
        alone = import_departures_for(vessel_call=group["call"])
        assert alone and [d.reference for d in group["departures"]] == [d.reference for d in alone]
    assert groups[0]["departures"] != groups[2]["departures"]  # a later vessel misses the first trains


def test_the_import_booking_page_shows_direction_holds_free_time_and_the_move_and_cancel(corridor):
    a = corridor.actors
    booking = to_station(corridor, NUMBERS[:1])
    imports.station_discharge(actor=a.station, number=NUMBERS[0])
    client = signed_in(a.consignee)

    page = client.get(f"/bookings/{booking.reference}/")

    html = page.content.decode()
    assert 'data-direction="import"' in html
    assert f'data-container="{NUMBERS[0]}"' in html and 'data-holds="customs"' in html
    last_free = timezone.localdate() + timedelta(days=booking.free_days)
    assert f'data-last-free-day="{last_free:%Y-%m-%d}"' in html
    assert 'data-days-used="0"' in html
    assert 'id="move"' not in html  # on the train and arrived: no longer moved or cancelled
    assert signed_in(a.other).get(f"/bookings/{booking.reference}/").status_code == 404


def test_the_consignee_moves_an_import_booking_to_another_departure_or_is_told_why_not(corridor):
    announce(corridor)
    booking = book_import(corridor, NUMBERS[:1])
    later = (type(corridor.departure).objects.filter(service=corridor.inbound,
                                                     planned_departure__gt=corridor.departure.planned_departure)
             .order_by("planned_departure").first())
    client = signed_in(corridor.actors.consignee)
    assert 'id="move"' in client.get(f"/bookings/{booking.reference}/").content.decode()

    refused = client.post(f"/operations/imports/bookings/{booking.reference}/move/", {"move-departure": ""})
    moved = client.post(f"/operations/imports/bookings/{booking.reference}/move/", {"move-departure": later.reference,
                                                                 "move-reason": "Later truck"})

    assert refused.status_code == 400 and "departure" in refused.context["move_form"].errors
    assert moved.status_code == 302
    booking.refresh_from_db()
    assert booking.departure == later


def test_the_bookings_list_shows_and_filters_the_direction(corridor, shipper):
    announce(corridor)
    imported = book_import(corridor, NUMBERS[:1])
    client = signed_in(corridor.actors.consignee)

    both = client.get("/bookings/")
    only_imports = client.get("/bookings/?direction=import")
    only_exports = client.get("/bookings/?direction=export")

    assert f'data-reference="{imported.reference}"' in both.content.decode()
    assert 'data-direction="import"' in both.content.decode()
    assert imported.reference in only_imports.content.decode()
    assert imported.reference not in only_exports.content.decode()


# --- The port --------------------------------------------------------------------------------------------


def test_the_port_announces_pasted_rows_and_a_wrong_row_keeps_the_whole_list_out(corridor):
    client = signed_in(corridor.actors.port)
    code = corridor.consignee.code
    rows = (f"number,size-type,seal,weight,B/L,consignee,port of loading,holds\n"
            f"{NUMBERS[0]},42G1,ML000001,21000,MEDU1234567,{code},DEHAM,freight\n"
            f"{NUMBERS[1]}\t22G1\tML000002\t18000\tMEDU1234567\t{code}\tDEHAM\n")
    wrong = rows + f"CSQU3054384,42G1,ML3,999,MEDU1,{code},DEHAM,customs\n"

    refused = client.post(f"{arrivals_url(corridor)}announce/", {"rows": wrong})

    assert refused.status_code == 400
    errors = " ".join(refused.context["announce_form"].errors["rows"])
    assert "Row 3, container number" in errors and "Row 3, holds" in errors
    assert not ArrivingContainer.objects.exists()

    kept = client.post(f"{arrivals_url(corridor)}announce/", {"rows": rows}, follow=True)

    assert any("2 containers announced" in m for m in messages_of(kept))
    first = ArrivingContainer.objects.get(number=NUMBERS[0])
    assert first.freight_hold and not first.terminal_hold and first.consignee == corridor.consignee
    assert ArrivingContainer.objects.get(number=NUMBERS[1]).size_type == "22G1"


def test_the_port_reports_the_arrival_discharges_lifts_a_hold_and_loads_the_train(corridor):
    announce(corridor, NUMBERS[:1], freight_hold=True)
    book_import(corridor, NUMBERS[:1])
    client = signed_in(corridor.actors.port)
    call_page = arrivals_url(corridor)

    before = client.post(f"{call_page}containers/{NUMBERS[0]}/discharge/", follow=True)
    assert any("has not arrived" in m for m in messages_of(before))

    client.post(f"{call_page}arrived/", {"at": "", "confirm": "1"})
    discharged = client.post(f"{call_page}containers/{NUMBERS[0]}/discharge/", {"confirm": "1"}, follow=True)
    lifted = client.post(f"{call_page}containers/{NUMBERS[0]}/release/", {"kind": "freight"}, follow=True)

    corridor.call.refresh_from_db()
    assert corridor.call.actual_arrival is not None
    assert any(f"Container {NUMBERS[0]} discharged" in m for m in messages_of(discharged))
    assert not ArrivingContainer.objects.get(number=NUMBERS[0]).freight_hold
    assert any("freight hold" in m for m in messages_of(lifted))

    outbound = client.get(PORT_IMPORTS)
    assert f'data-import-load="{NUMBERS[0]}"' in outbound.content.decode()
    client.post(f"/operations/port/imports/containers/{NUMBERS[0]}/load/", {"confirm": "1"})
    assert Container.objects.get(number=NUMBERS[0]).status == ContainerStatus.ON_TRAIN


def test_another_port_gets_404_on_the_vessels_arrivals(corridor):
    other_port = factories.organisation("port", code="zhoushan-port")
    client = Client()
    client.force_login(factories.user(other_port))

    assert client.get(arrivals_url(corridor)).status_code == 404
    assert client.post(f"{arrivals_url(corridor)}announce/", {"rows": "x"}).status_code == 404
    assert signed_in(corridor.actors.consignee).get(arrivals_url(corridor)).status_code == 403


# --- The station -----------------------------------------------------------------------------------------


def test_the_yard_discharges_refuses_a_gate_out_with_the_holds_named_then_gates_out_and_takes_the_empty(corridor):
    a = corridor.actors
    booking = to_station(corridor, NUMBERS[:1])
    client = signed_in(a.station)
    station = corridor.inbound.station.code
    yard = f"{YARD}?station={station}"

    assert f'data-import-discharge="{NUMBERS[0]}"' in client.get(yard).content.decode()
    client.post(f"{YARD}{NUMBERS[0]}/discharge/", {"confirm": "1"})
    held = client.post(f"{YARD}{NUMBERS[0]}/gate-out/", {"confirm": "1"}, follow=True)

    assert any("on hold (Customs)" in m for m in messages_of(held))
    assert 'data-holds="customs"' in held.content.decode()
    assert Container.objects.get(number=NUMBERS[0]).status == ContainerStatus.AT_STATION

    factories.declaration_released(booking)
    client.post(f"{YARD}{NUMBERS[0]}/gate-out/", {"confirm": "1"})
    out = client.get(yard)
    assert f'data-empty-return="{NUMBERS[0]}"' in out.content.decode()
    client.post(f"{YARD}{NUMBERS[0]}/empty-return/", {"confirm": "1"})

    stock = client.get(yard)
    assert f'data-returned-empty="{NUMBERS[0]}"' in stock.content.decode()
    assert ReturnedEmpty.objects.get(number=NUMBERS[0]).station == corridor.inbound.station


def test_the_scan_form_records_the_import_steps(corridor):
    a = corridor.actors
    booking = to_station(corridor, NUMBERS[:1])
    factories.declaration_released(booking)
    client = signed_in(a.station)
    station = corridor.inbound.station.code

    for action in ("station_discharge", "gate_out", "empty_return"):
        response = client.post("/operations/scan/", {"station": station, "action": action, "number": NUMBERS[0],
                                                     "confirm": "1"}, follow=True)
        assert response.status_code == 200, action
        assert not response.context.get("scan_error"), (action, response.context.get("scan_error"))

    container = Container.objects.get(number=NUMBERS[0])
    assert container.status == ContainerStatus.RETURNED and container.returned_at is not None
    assert Event.objects.filter(equipment_reference=NUMBERS[0], event_code="GTIN", empty_indicator="EMPTY").exists()


def test_the_board_offers_a_returned_empty_to_a_fitting_export_request_and_hands_it_out(corridor, shipper):
    a = corridor.actors
    booking = to_station(corridor, NUMBERS[:1])  # a 40-foot box, of the vessel's carrier
    factories.declaration_released(booking)
    for step in (imports.station_discharge, imports.import_gate_out, imports.empty_return):
        step(actor=a.station, number=NUMBERS[0], confirmed=True)
    export_departure = (type(corridor.departure).objects.filter(service=corridor.network.yiwu_rail,
                                                                closing_time__gt=timezone.now())
                        .order_by("planned_departure").first())
    connecting = type("C", (), {"departure": export_departure, "vessel_call": corridor.network.vessel_call})
    export = book(shipper.actor, connecting)
    request = bookings_services.empty_request_create(actor=shipper.actor, booking=export, size_type="42G1",
                                                     quantity=1)
    client = signed_in(a.station)

    board = client.get(f"/operations/station/?station={corridor.inbound.station.code}")

    html = board.content.decode()
    assert f'data-returned-empty="{NUMBERS[0]}"' in html
    assert f'data-hand-out-returned="{NUMBERS[0]}"' in html
    client.post(f"/operations/station/empty-requests/{request.pk}/hand-out/", {"number": NUMBERS[0]})
    assert ReturnedEmpty.objects.get(number=NUMBERS[0]).used_at is not None


def test_another_stations_import_container_is_not_found(corridor):
    to_station(corridor, NUMBERS[:1])
    other = factories.organisation("station_operator", code="jinhua-ops")
    client = Client()
    client.force_login(factories.user(other))

    assert client.post(f"{YARD}{NUMBERS[0]}/discharge/").status_code == 404
    assert Container.objects.get(number=NUMBERS[0]).status == ContainerStatus.AT_STATION_TRACK


# --- The railway and tracking ----------------------------------------------------------------------------


def test_the_manifest_of_an_import_train_runs_from_the_terminal_to_the_station(corridor):
    announce(corridor, NUMBERS[:1])
    book_import(corridor, NUMBERS[:1])

    page = signed_in(corridor.actors.railway).get(f"/operations/railway/{corridor.departure.reference}/")

    text = text_of(page)
    assert "Arrives at the station" in text and "Arrives at the terminal" not in text
    assert "the others stay at the terminal" in text
    html = page.content.decode()
    origin = re.search(r"data-origin>([^<]+)<", html).group(1)
    assert origin == corridor.inbound.terminal.display_name


# What the port announced of each container: what the railway carries it under (an import has no VGM).
ANNOUNCED = {NUMBERS[0]: ("MEDU1111111", "ML000101", Decimal("21350")),
             NUMBERS[1]: ("MEDU2222222", "ML000102", Decimal("18720")),
             NUMBERS[2]: ("MEDU2222222", "ML000103", Decimal("26480"))}


def announce_each(corridor):
    arrivals.arrivals_announce(actor=corridor.actors.port, vessel_call=corridor.call, items=[
        arrivals.Announced(number=number, size_type="22G1", bl_number=bl, seal_number=seal, gross_weight_kg=kg,
                           consignee=corridor.consignee, port_of_loading=corridor.loading)
        for number, (bl, seal, kg) in ANNOUNCED.items()])


def test_an_import_trains_manifest_shows_the_announced_weight_seal_and_bl_and_no_vgm(corridor):
    announce_each(corridor)
    book_import(corridor, NUMBERS[:1])
    client = signed_in(corridor.actors.railway)
    url = f"/operations/railway/{corridor.departure.reference}/"
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    book_import(corridor, NUMBERS[1:])

    with CaptureQueriesContext(connection) as three:
        page = client.get(url)

    html, text = page.content.decode(), text_of(page)
    assert page.status_code == 200
    assert "VGM" not in text and "data-total-vgm" not in html
    for number, (bl, seal, kg) in ANNOUNCED.items():
        row = re.search(rf'<tr data-container="{number}".*?</tr>', html, re.S).group(0)
        assert bl in row and seal in row and f"{kg:,.0f}" in row, number
    assert re.search(r"data-total-gross>([^<]+)<", html).group(1) == "66,550"
    assert len(three.captured_queries) == len(one.captured_queries)  # the announcements in one query


def test_an_import_trains_manifest_as_csv_and_pdf_carries_the_announced_weight_seal_and_bl(corridor):
    announce_each(corridor)
    book_import(corridor)
    railway = signed_in(corridor.actors.railway)
    reference = corridor.departure.reference

    csv_answer = railway.get(f"/departures/{reference}/manifest.csv")
    pdf = signed_in(corridor.actors.station).get(f"/departures/{reference}/manifest.pdf")

    rows = list(csv.reader(io.StringIO(b"".join(csv_answer.streaming_content).decode("utf-8-sig"))))
    headers = rows[0]
    assert "VGM (kg)" not in headers and "Consignee" in headers and "Port of loading" in headers
    shown = {row[0]: (row[headers.index("B/L")], row[headers.index("Seal")],
                      Decimal(row[headers.index("Gross weight (kg)")])) for row in rows[1:]}
    assert shown == ANNOUNCED
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert pdf.status_code == 200 and "VGM" not in text
    assert all(bl in text and seal in text and f"{kg:,.0f}" in text for bl, seal, kg in ANNOUNCED.values())
    assert f"{corridor.inbound.terminal.display_name} → {corridor.inbound.station.display_name}" in text
    assert "gross weight 66,550 kg" in text


def test_tracking_labels_the_import_steps(corridor):
    a = corridor.actors
    booking = to_station(corridor, NUMBERS[:1])
    imports.station_discharge(actor=a.station, number=NUMBERS[0])

    page = signed_in(a.consignee).get(f"/operations/track/?q={NUMBERS[0]}")
    public = Client().get(f"/track/?container={NUMBERS[0]}&booking={booking.reference}")

    for response in (page, public):
        html = response.content.decode()
        for step in ("vessel_arrives", "vessel_discharge", "train_load", "train_departs", "train_arrives",
                     "station_discharge"):
            assert f'data-step="{step}" data-done="true"' in html, step
        assert 'data-step="gate_out" data-done="false"' in html
        assert "Train arrives at the station" in text_of(response)
