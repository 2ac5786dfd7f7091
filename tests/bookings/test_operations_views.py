"""Operations pages: the station board and gate scan, railway manifests, the port's lists, and tracking."""

import re
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from stdnum import iso6346

from bookings import services as bookings_services
from bookings.models import BookingStatus, Container, ContainerStatus, EmptyRequestStatus
from intermodal.access import Actor
from intermodal.models import Event, PartyKind
from journey import services as journey
from stations.models import Departure, DepartureStatus, VesselCall
from tests import factories
from tests.bookings.conftest import book

pytestmark = pytest.mark.django_db

NUMBERS = ["CSQU3054383", "TCNU7200794", "TOLU4734787"]
BOARD = "/operations/station/"
SCAN = "/operations/scan/"


def container_number(n: int) -> str:
    prefix = f"MSKU{n:06d}"
    return prefix + iso6346.calc_check_digit(prefix)


def person(org) -> SimpleNamespace:
    user = factories.user(org)
    return SimpleNamespace(user=user, actor=Actor(organisation=org, user=user))


@pytest.fixture
def staff(network):
    return person(network.operator)


@pytest.fixture
def railway(network):
    return person(network.railway)


@pytest.fixture
def port(network):
    return person(network.port)


@pytest.fixture
def tomorrow(network):
    """Tomorrow's Yiwu departure (always still open at the station) to the network's vessel call."""
    departure = Departure.objects.select_related("service__station", "service__terminal").get(
        service=network.yiwu_rail, service_date=timezone.localdate() + timedelta(days=1))
    return SimpleNamespace(departure=departure, vessel_call=network.vessel_call, network=network)


def vgm(n: int = 0) -> dict:
    return {"seal_number": f"SEAL{n:05d}", "vgm_kg": Decimal("24500"), "vgm_method": 1, "vgm_signatory": "Chen Jie"}


def at_station(shipper, connecting, staff, numbers, *, gate_in=True, **fields):
    """Book, ask for empties, hand them out and (by default) gate them in laden, through the journey."""
    booking = book(shipper.actor, connecting, lines={"42G1": len(numbers)}, **fields)
    request = bookings_services.empty_request_create(actor=shipper.actor, booking=booking, size_type="42G1",
                                           quantity=len(numbers))
    journey.empty_request_ready(actor=staff.actor, request=request)
    for n, number in enumerate(numbers):
        journey.empty_hand_out(actor=staff.actor, request=request, number=number)
        if gate_in:
            journey.laden_gate_in(confirmed=True, actor=staff.actor, number=number, **vgm(n))
    return booking


def status_of(number: str) -> str:
    return Container.objects.get(number=number, is_active=True).status


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def gate_in_post(number: str, **overrides) -> dict:
    data = {"action": "gate_in", "number": number, "seal_number": "SEAL12345", "vgm_kg": "24500", "vgm_method": "1",
            "vgm_signatory": "Chen Jie"}
    data.update(overrides)
    return data


# --- Station board ---------------------------------------------------------------------------------------


def test_the_board_shows_departures_load_list_yard_and_empty_requests(client, shipper, tomorrow, staff):
    at_station(shipper, tomorrow, staff, NUMBERS[:1])
    waiting = book(shipper.actor, tomorrow, lines={"22G1": 3})
    bookings_services.empty_request_create(actor=shipper.actor, booking=waiting, size_type="22G1", quantity=3)
    today_departure = Departure.objects.get(service=tomorrow.network.yiwu_rail, service_date=timezone.localdate())
    client.force_login(staff.user)

    response = client.get(BOARD)

    page = response.content.decode()
    assert response.status_code == 200
    assert f'data-departure="{today_departure.reference}"' in page
    assert f'data-departure="{tomorrow.departure.reference}"' in page
    board = response.context
    load_list = {d.reference: [c.number for c in d.load_list] for d in board["departures"]}
    assert load_list[tomorrow.departure.reference] == [NUMBERS[0]]
    assert [c.number for c in board["yard"]] == [NUMBERS[0]]
    assert [(e.booking.reference, e.quantity, e.handed_out) for e in board["empties"]] == [(waiting.reference, 3, 0)]
    assert "SEAL00000" in page
    assert re.search(r'<input[^>]*name="number"[^>]*autofocus', page)


def test_the_board_is_for_station_staff_only(client, shipper, network, railway):
    client.force_login(shipper.user)
    as_shipper = client.get(BOARD)
    client.force_login(railway.user)
    as_railway = client.get(BOARD)

    assert as_shipper.status_code == 403
    assert as_railway.status_code == 403
    assert "inland stations" in as_shipper.content.decode()


def test_the_board_offers_only_the_organisations_stations(client, network, staff):
    other = factories.organisation(PartyKind.STATION_OPERATOR, code="jinhua-ops")
    network.jinhua.operator = other
    network.jinhua.save()
    factories.station("YIWU-S", operator=network.operator, name="Yiwu Suxi")
    admin = person(factories.organisation(PartyKind.PLATFORM_ADMIN, code="admin"))
    client.force_login(staff.user)

    second = client.get(BOARD, {"station": "YIWU-S"})
    remembered = client.get(BOARD)
    elsewhere = client.get(BOARD, {"station": "JINHUA-E"})
    client.force_login(admin.user)
    as_admin = client.get(BOARD, {"station": "JINHUA-E"})

    assert [s.code for s in second.context["stations"]] == ["YIWU-S", "YIWU-W"]
    assert second.context["station"].code == "YIWU-S"
    assert remembered.context["station"].code == "YIWU-S"
    assert elsewhere.status_code == 404
    assert as_admin.status_code == 200
    assert as_admin.context["station"].code == "JINHUA-E"


def test_the_board_opens_at_the_station_the_person_last_chose_on_any_device(network, staff):
    from django.test import Client

    factories.station("YIWU-S", operator=network.operator, name="Yiwu Suxi")
    laptop, tablet = Client(), Client()
    laptop.force_login(staff.user)
    tablet.force_login(staff.user)
    first = tablet.get(BOARD)

    laptop.get(BOARD, {"station": "YIWU-S"})
    next_morning = Client()
    next_morning.force_login(staff.user)
    opened = next_morning.get(BOARD)
    colleague = person(network.operator)
    colleague_client = Client()
    colleague_client.force_login(colleague.user)

    assert first.context["station"].code == "YIWU-S"  # nothing chosen yet: the first of the organisation's
    assert opened.context["station"].code == "YIWU-S"
    staff.user.refresh_from_db()
    assert staff.user.work_station == "YIWU-S"
    laptop.get(BOARD, {"station": "YIWU-W"})
    assert Client().get(BOARD).status_code == 302  # signed out: nothing of it shows
    again = Client()
    again.force_login(staff.user)
    assert again.get(BOARD).context["station"].code == "YIWU-W"
    assert colleague_client.get(BOARD).context["station"].code == "YIWU-S"  # each person their own


def test_mark_ready_and_hand_out_on_the_board(client, shipper, tomorrow, staff):
    booking = book(shipper.actor, tomorrow, lines={"42G1": 2})
    request = bookings_services.empty_request_create(actor=shipper.actor, booking=booking, size_type="42G1", quantity=2)
    client.force_login(staff.user)

    ready = client.post(f"/operations/station/empty-requests/{request.pk}/ready/", follow=True)
    handed = client.post(f"/operations/station/empty-requests/{request.pk}/hand-out/", {"number": "csqu 3054383"},
                         follow=True)

    request.refresh_from_db()
    assert ready.status_code == 200
    assert any("ready for pick-up" in m for m in messages_of(ready))
    assert request.status == EmptyRequestStatus.READY
    assert request.handed_out == 1
    assert status_of(NUMBERS[0]) == ContainerStatus.EMPTY_OUT
    assert Container.objects.get(number=NUMBERS[0]).booking == booking
    assert any(f"Empty {NUMBERS[0]} handed out for booking {booking.reference} (1 of 2)" in m
               for m in messages_of(handed))


def test_several_empties_are_handed_out_in_one_go_with_a_result_for_each(client, shipper, tomorrow, staff):
    booking = book(shipper.actor, tomorrow, lines={"42G1": 3})
    request = bookings_services.empty_request_create(actor=shipper.actor, booking=booking, size_type="42G1", quantity=3)
    journey.empty_request_ready(actor=staff.actor, request=request)
    client.force_login(staff.user)

    handed = client.post(f"/operations/station/empty-requests/{request.pk}/hand-out/",
                         {"numbers": f"{NUMBERS[0].lower()}\nCSQU3054384, {NUMBERS[1]} {NUMBERS[1]}"}, follow=True)
    nothing = client.post(f"/operations/station/empty-requests/{request.pk}/hand-out/", {"number": "", "numbers": ""})

    request.refresh_from_db()
    results = messages_of(handed)
    assert request.handed_out == 2
    assert [status_of(n) for n in NUMBERS[:2]] == [ContainerStatus.EMPTY_OUT, ContainerStatus.EMPTY_OUT]
    assert sum(f"Empty {n} handed out" in m for n in NUMBERS[:2] for m in results) == 2
    assert any("CSQU3054384 not handed out" in m and "check digit" in m for m in results)
    assert nothing.status_code == 400 and request.handed_out == 2


def test_a_hand_out_with_a_wrong_number_says_why_and_hands_out_nothing(client, shipper, tomorrow, staff):
    booking = book(shipper.actor, tomorrow, lines={"42G1": 1})
    request = bookings_services.empty_request_create(actor=shipper.actor, booking=booking, size_type="42G1", quantity=1)
    client.force_login(staff.user)

    response = client.post(f"/operations/station/empty-requests/{request.pk}/hand-out/", {"number": "CSQU3054384"})

    request.refresh_from_db()
    assert response.status_code == 400
    assert "check digit should be 3" in response.content.decode()
    assert request.handed_out == 0
    assert not Container.objects.exists()


def test_another_stations_empty_request_is_not_found(client, shipper, tomorrow):
    booking = book(shipper.actor, tomorrow, lines={"42G1": 1})
    request = bookings_services.empty_request_create(actor=shipper.actor, booking=booking, size_type="42G1", quantity=1)
    client.force_login(person(factories.organisation(PartyKind.STATION_OPERATOR, code="elsewhere")).user)

    response = client.post(f"/operations/station/empty-requests/{request.pk}/ready/")

    request.refresh_from_db()
    assert response.status_code == 404
    assert request.status == EmptyRequestStatus.REQUESTED


# --- Scanning --------------------------------------------------------------------------------------------


def test_scan_gate_in_then_scan_load_on_the_train(client, shipper, tomorrow, staff):
    at_station(shipper, tomorrow, staff, NUMBERS[:1], gate_in=False)
    client.force_login(staff.user)

    gated = client.post(BOARD, gate_in_post(NUMBERS[0].lower()), follow=True)
    after_gate_in = Container.objects.get(number=NUMBERS[0])
    review = client.post(BOARD, {"action": "train_load", "number": NUMBERS[0]})
    before_review = Container.objects.get(number=NUMBERS[0]).status
    loaded = client.post(BOARD, {"action": "train_load", "number": NUMBERS[0], "reviewed": "1"}, follow=True)

    # Loading on the train is shown against the train's closing and departure times first, then recorded.
    assert review.status_code == 200 and "data-review-report" in review.content.decode()
    assert timezone.localtime(tomorrow.departure.closing_time).isoformat() in review.content.decode()
    assert before_review == ContainerStatus.GATED_IN
    assert gated.status_code == 200
    assert any(f"Container {NUMBERS[0]} gated in at Yiwu West with seal SEAL12345" in m for m in messages_of(gated))
    assert gated.context["scan_form"]["action"].value() == "gate_in"  # the next scan keeps the action
    assert after_gate_in.status == ContainerStatus.GATED_IN
    assert (after_gate_in.seal_number, after_gate_in.vgm_kg, after_gate_in.vgm_signatory) == (
        "SEAL12345", Decimal("24500"), "Chen Jie")
    assert any(f"Container {NUMBERS[0]} loaded on train {tomorrow.departure.reference}." in m
               for m in messages_of(loaded))
    assert status_of(NUMBERS[0]) == ContainerStatus.ON_TRAIN
    assert loaded.context["scan_form"]["action"].value() == "train_load"


def test_an_illegal_scan_shows_the_reason_and_changes_nothing(client, shipper, tomorrow, staff):
    at_station(shipper, tomorrow, staff, NUMBERS[:1], gate_in=False)
    events = Event.objects.count()
    client.force_login(staff.user)

    response = client.post(BOARD, {"action": "train_load", "number": NUMBERS[0]})

    page = response.content.decode()
    assert response.status_code == 409
    assert f"Container {NUMBERS[0]} is empty handed out: it cannot be loaded on the train now." in page
    assert 'data-scan-result="error"' in page
    assert status_of(NUMBERS[0]) == ContainerStatus.EMPTY_OUT
    assert Event.objects.count() == events
    # A clean form for the next scan, with the cursor in the number field.
    assert response.context["scan_form"]["number"].value() in (None, "")
    assert response.context["scan_form"].fields["number"].widget.attrs.get("autofocus")


def test_a_gate_in_without_a_seal_keeps_the_number_and_asks_for_the_seal(client, shipper, tomorrow, staff):
    at_station(shipper, tomorrow, staff, NUMBERS[:1], gate_in=False)
    client.force_login(staff.user)

    response = client.post(BOARD, gate_in_post(NUMBERS[0], seal_number="", vgm_kg="", vgm_signatory=""))

    form = response.context["scan_form"]
    assert response.status_code == 400
    assert form["number"].value() == NUMBERS[0]
    assert "A laden container needs its seal number." in form.errors["seal_number"]
    assert form.fields["seal_number"].widget.attrs.get("autofocus")
    assert status_of(NUMBERS[0]) == ContainerStatus.EMPTY_OUT


def test_the_scan_page_alone_records_and_comes_back_for_the_next_scan(client, shipper, tomorrow, staff):
    at_station(shipper, tomorrow, staff, NUMBERS[:1], gate_in=False)
    client.force_login(staff.user)

    empty_form = client.get(SCAN)
    response = client.post(SCAN, gate_in_post(NUMBERS[0], vgm_kg="", vgm_signatory=""))
    after = client.get(response["Location"])

    assert empty_form.status_code == 200
    assert empty_form.context["scan_form"].fields["number"].widget.attrs.get("autofocus")
    assert response.status_code == 302
    assert response["Location"].startswith(SCAN)
    assert status_of(NUMBERS[0]) == ContainerStatus.GATED_IN
    assert any("No VGM yet" in m for m in messages_of(after))


def test_load_all_ready_containers(client, shipper, tomorrow, staff):
    at_station(shipper, tomorrow, staff, NUMBERS[:2])
    at_station(shipper, tomorrow, staff, NUMBERS[2:], gate_in=False)
    client.force_login(staff.user)

    response = client.post(f"/operations/station/departures/{tomorrow.departure.reference}/load-all/",
                           {"reviewed": "1"}, follow=True)

    assert any(f"2 containers loaded on train {tomorrow.departure.reference}." in m for m in messages_of(response))
    assert [status_of(n) for n in NUMBERS] == [ContainerStatus.ON_TRAIN, ContainerStatus.ON_TRAIN,
                                               ContainerStatus.EMPTY_OUT]
    load_list = next(d for d in response.context["departures"] if d.pk == tomorrow.departure.pk).load_list
    assert {c.number: c.status for c in load_list}[NUMBERS[0]] == ContainerStatus.ON_TRAIN


def test_the_board_takes_the_same_queries_for_1_or_5_bookings(client, shipper, tomorrow, staff,
                                                              django_assert_max_num_queries):
    def add_booking(n: int):
        numbers = [container_number(2 * n), container_number(2 * n + 1)]
        at_station(shipper, tomorrow, staff, numbers[:1])
        booking = book(shipper.actor, tomorrow, lines={"22G1": 1})
        bookings_services.empty_request_create(actor=shipper.actor, booking=booking, size_type="22G1", quantity=1)

    add_booking(0)
    client.force_login(staff.user)
    client.get(BOARD)  # the session remembers the station from here on
    with CaptureQueriesContext(connection) as one:
        first = client.get(BOARD)
    for n in range(1, 5):
        add_booking(n)

    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client.get(BOARD)

    assert len(first.context["yard"]) == 1
    assert len(response.context["yard"]) == 5
    assert len(response.context["empties"]) == 5
    assert len(one.captured_queries) <= 10


# --- Railway ---------------------------------------------------------------------------------------------


def test_the_railway_reports_departed_and_arrived_on_the_manifest(client, shipper, tomorrow, staff, railway):
    tomorrow.departure.service.dangerous_goods_classes = ["3"]
    tomorrow.departure.service.save(update_fields=["dangerous_goods_classes"])
    booking = at_station(shipper, tomorrow, staff, NUMBERS[:2], un_number="1263", imdg_class="3")
    journey.train_load_all_ready(confirmed=True, actor=staff.actor, departure=tomorrow.departure)
    reference = tomorrow.departure.reference
    client.force_login(railway.user)

    listed = client.get("/operations/railway/")
    other_station = client.get("/operations/railway/", {"station": "JINHUA-E"})
    manifest = client.get(f"/operations/railway/{reference}/")
    # "Now" is a day before the plan: the page asks, the railway confirms (tests/tracking/test_reports.py).
    departed = client.post(f"/operations/railway/{reference}/departed/", {"at": "", "confirm": "1"}, follow=True)
    too_early = client.post(f"/operations/railway/{reference}/arrived/",
                            {"at": timezone.localtime(timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")})
    arrived = client.post(f"/operations/railway/{reference}/arrived/", {"at": "", "confirm": "1"}, follow=True)

    booking.refresh_from_db()
    departure = Departure.objects.get(pk=tomorrow.departure.pk)
    page = manifest.content.decode()
    assert f'data-departure="{reference}"' in listed.content.decode()
    assert f'data-departure="{reference}"' not in other_station.content.decode()
    assert manifest.context["total_teu"] == 4
    assert manifest.context["total_vgm_kg"] == Decimal("49000")
    assert "VGM (kg)" in page and "data-total-gross" not in page  # an export train's manifest keeps its VGM
    assert "UN 1263, IMDG class 3" in page
    assert booking.reference in page
    assert any("reported departed" in m for m in messages_of(departed))
    assert too_early.status_code == 400
    assert "The arrival must come after the departure." in too_early.content.decode()
    assert any("reported arrived" in m for m in messages_of(arrived))
    assert departure.status == DepartureStatus.ARRIVED
    assert [status_of(n) for n in NUMBERS[:2]] == [ContainerStatus.ARRIVED] * 2
    assert booking.status == BookingStatus.AT_PORT


def test_a_reported_delay_puts_the_booking_at_risk_on_the_tracking_page(client, shipper, connecting, railway):
    booking = book(shipper.actor, connecting)
    later = connecting.departure.planned_departure + timedelta(hours=30)
    client.force_login(railway.user)

    no_time = client.post(f"/operations/railway/{connecting.departure.reference}/delay/", {"reason": "Works"})
    delayed = client.post(f"/operations/railway/{connecting.departure.reference}/delay/", {
        "estimated_departure": timezone.localtime(later).strftime("%Y-%m-%dT%H:%M"),
        "reason": "Line works near Jinhua"}, follow=True)
    client.force_login(shipper.user)
    tracked = client.get("/operations/track/", {"q": booking.reference})

    booking.refresh_from_db()
    assert no_time.status_code == 400
    assert "Give the new departure or arrival time." in no_time.content.decode()
    assert any("New estimate" in m for m in messages_of(delayed))
    assert booking.is_at_risk
    assert tracked.status_code == 200
    page = tracked.content.decode()
    assert "data-at-risk" in page
    assert "At risk" in page
    assert Event.objects.filter(classifier="EST", reason="Line works near Jinhua").exists()


def test_another_railway_gets_404_on_the_manifest(client, tomorrow):
    other = person(factories.organisation(PartyKind.RAILWAY, code="other-rail"))
    client.force_login(other.user)

    manifest = client.get(f"/operations/railway/{tomorrow.departure.reference}/")
    departed = client.post(f"/operations/railway/{tomorrow.departure.reference}/departed/", {"at": ""})

    assert manifest.status_code == 404
    assert departed.status_code == 404
    assert Departure.objects.get(pk=tomorrow.departure.pk).status == DepartureStatus.SCHEDULED


# --- Port ------------------------------------------------------------------------------------------------


def test_the_port_discharges_gates_in_loads_and_sails_on_its_pages(client, shipper, tomorrow, staff, railway, port):
    booking = at_station(shipper, tomorrow, staff, NUMBERS[:2])
    journey.train_load_all_ready(confirmed=True, actor=staff.actor, departure=tomorrow.departure)
    journey.train_depart(confirmed=True,
        actor=railway.actor, departure=tomorrow.departure, at=timezone.now() - timedelta(hours=9))
    journey.train_arrive(confirmed=True,
        actor=railway.actor, departure=tomorrow.departure, at=timezone.now() - timedelta(hours=1))
    factories.declaration_released(booking)
    call = tomorrow.vessel_call
    client.force_login(port.user)

    arrivals = client.get("/operations/port/")
    for number in NUMBERS[:2]:
        client.post(f"/operations/port/containers/{number}/discharge/", {"confirm": "1"})
    gate_in = client.post(f"/operations/port/containers/{NUMBERS[0]}/gate-in/", {"confirm": "1"}, follow=True)
    client.post(f"/operations/port/containers/{NUMBERS[1]}/gate-in/", {"confirm": "1"})
    loading_list = client.get(f"/operations/port/vessel/{call.reference}/")
    for number in NUMBERS[:2]:
        client.post(f"/operations/port/vessel/{call.reference}/containers/{number}/load/", {"confirm": "1"})
    sailed = client.post(f"/operations/port/vessel/{call.reference}/sailed/", {"at": "", "confirm": "1"}, follow=True)

    booking.refresh_from_db()
    assert [d.reference for d in arrivals.context["arrivals"]] == [tomorrow.departure.reference]
    assert f'data-discharge="{NUMBERS[0]}"' in arrivals.content.decode()
    assert any(f"Container {NUMBERS[0]} gated in at the terminal." in m for m in messages_of(gate_in))
    page = loading_list.content.decode()
    assert page.count('data-vgm="yes"') == 2
    assert page.count('data-cutoff="yes"') == 2
    assert f'data-vessel-load="{NUMBERS[0]}"' in page
    assert [c.customs for c in loading_list.context["containers"]] == ["Released", "Released"]
    assert any("reported sailed" in m for m in messages_of(sailed))
    assert VesselCall.objects.get(pk=call.pk).actual_departure is not None
    assert booking.status == BookingStatus.SAILED
    assert set(Container.objects.filter(booking=booking).values_list("status", flat=True)) == {ContainerStatus.SAILED}


def test_a_refused_vessel_load_says_why(client, shipper, tomorrow, staff, railway, port):
    at_station(shipper, tomorrow, staff, NUMBERS[:1])
    Container.objects.filter(number=NUMBERS[0]).update(vgm_kg=None, vgm_method=None, vgm_signatory="")
    journey.train_load_all_ready(confirmed=True, actor=staff.actor, departure=tomorrow.departure)
    journey.train_depart(confirmed=True,
        actor=railway.actor, departure=tomorrow.departure, at=timezone.now() - timedelta(hours=9))
    journey.train_arrive(confirmed=True,
        actor=railway.actor, departure=tomorrow.departure, at=timezone.now() - timedelta(hours=1))
    journey.train_discharge(confirmed=True, actor=port.actor, number=NUMBERS[0])
    journey.terminal_gate_in(confirmed=True, actor=port.actor, number=NUMBERS[0])
    client.force_login(port.user)

    listed = client.get(f"/operations/port/vessel/{tomorrow.vessel_call.reference}/")
    response = client.post(f"/operations/port/vessel/{tomorrow.vessel_call.reference}/containers/{NUMBERS[0]}/load/",
                           follow=True)

    assert 'data-vgm="no"' in listed.content.decode()
    assert any("has no verified gross mass" in m for m in messages_of(response))
    assert status_of(NUMBERS[0]) == ContainerStatus.AT_TERMINAL


def test_another_port_gets_404_on_the_loading_list(client, tomorrow):
    other = person(factories.organisation(PartyKind.PORT, code="other-port"))
    client.force_login(other.user)

    listed = client.get(f"/operations/port/vessel/{tomorrow.vessel_call.reference}/")
    sailed = client.post(f"/operations/port/vessel/{tomorrow.vessel_call.reference}/sailed/", {"at": ""})

    assert listed.status_code == 404
    assert sailed.status_code == 404
    assert VesselCall.objects.get(pk=tomorrow.vessel_call.pk).actual_departure is None


def test_the_port_pages_are_for_the_port(client, shipper, network):
    client.force_login(shipper.user)

    assert client.get("/operations/port/").status_code == 403
    assert client.get("/operations/railway/").status_code == 403


# --- Tracking --------------------------------------------------------------------------------------------


def not_found_block(response) -> str:
    match = re.search(r'<div class="empty-state ops-not-found".*?</div>', response.content.decode(), re.S)
    return match.group(0) if match else ""


def test_signed_in_tracking_by_container_and_unknown_keys(client, shipper, other_shipper, tomorrow, staff):
    at_station(shipper, tomorrow, staff, NUMBERS[:1])
    client.force_login(shipper.user)

    by_container = client.get("/operations/track/", {"q": NUMBERS[0].lower()})
    client.force_login(other_shipper.user)
    not_theirs = client.get("/operations/track/", {"q": NUMBERS[0]})

    page = by_container.content.decode()
    assert by_container.status_code == 200
    assert 'data-step="station_gate_in" data-done="true"' in page
    assert 'data-step="vessel_load" data-done="false"' in page
    assert 'aria-current="step"' in page
    assert not_theirs.status_code == 404
    assert "Nothing found" in not_found_block(not_theirs)


def test_public_tracking_shows_the_journey_and_nothing_commercial(client, shipper, tomorrow, staff):
    booking = at_station(shipper, tomorrow, staff, NUMBERS[:1], commodity="Artificial flowers")

    response = client.get("/track/", {"container": NUMBERS[0], "booking": booking.reference.lower()})

    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-step="station_gate_in" data-done="true"' in page
    assert "Yiwu West" in page
    assert "Artificial flowers" not in page
    assert shipper.org.name not in page
    assert "5,460.00" not in page and "5460" not in page and str(booking.quote_total) not in page
    assert "SEAL00000" not in page
    assert "24500" not in page and "24,500" not in page
    assert tomorrow.network.railway.name not in page


def test_public_tracking_does_not_tell_whether_a_container_exists(client, shipper, tomorrow, staff):
    booking = at_station(shipper, tomorrow, staff, NUMBERS[:1])
    other = book(shipper.actor, tomorrow, lines={"42G1": 1})

    wrong_booking = client.get("/track/", {"container": NUMBERS[0], "booking": other.reference})
    unknown = client.get("/track/", {"container": NUMBERS[1], "booking": booking.reference})
    form_only = client.get("/track/")

    assert wrong_booking.status_code == 404
    assert unknown.status_code == 404
    assert not_found_block(wrong_booking) != ""
    assert not_found_block(wrong_booking) == not_found_block(unknown)
    assert "data-step" not in wrong_booking.content.decode()
    assert form_only.status_code == 200
    assert 'name="container"' in form_only.content.decode()


# --- Date navigation -------------------------------------------------------------------------------------


def test_the_railway_pages_through_the_days_and_picks_a_period(client, network, railway):
    client.force_login(railway.user)
    today = timezone.localdate()
    later = today + timedelta(days=8)

    default = client.get("/operations/railway/")
    picked = client.get("/operations/railway/", {"from": later.isoformat(), "to": later.isoformat(),
                                                  "station": "YIWU-W"})
    period = picked.context["period"]
    stepped = client.get("/operations/railway/" + period.next_url)
    wrong = client.get("/operations/railway/", {"from": later.isoformat(), "to": today.isoformat()})
    too_long = client.get("/operations/railway/", {"from": today.isoformat(),
                                                    "to": (today + timedelta(days=60)).isoformat()})

    default_days = {d.service_date for d in default.context["departures"] if d.status == "scheduled"}
    assert default_days and max(default_days) <= today + timedelta(days=3)
    assert {d.service_date for d in picked.context["departures"]} == {later}
    assert all(d.service.station.code == "YIWU-W" for d in picked.context["departures"])
    assert "station=YIWU-W" in period.next_url and f"from={(later + timedelta(days=1)).isoformat()}" in period.next_url
    assert {d.service_date for d in stepped.context["departures"]} == {later + timedelta(days=1)}
    assert 'data-period="previous"' in picked.content.decode()
    assert wrong.status_code == 400 and "ends before it starts" in wrong.content.decode()
    assert too_long.status_code == 400 and wrong.context["period"].is_default


def test_the_station_board_and_the_port_show_the_days_chosen(client, network, staff, port):
    day = timezone.localdate() + timedelta(days=5)
    client.force_login(staff.user)
    board = client.get(BOARD, {"from": day.isoformat(), "to": day.isoformat()})
    client.force_login(port.user)
    call_day = timezone.localtime(network.vessel_call.etd).date()
    calls = client.get("/operations/port/", {"from": call_day.isoformat(), "to": call_day.isoformat()})
    none = client.get("/operations/port/", {"from": (call_day + timedelta(days=20)).isoformat(),
                                             "to": (call_day + timedelta(days=20)).isoformat()})

    assert board.status_code == 200
    assert {d.service_date for d in board.context["departures"]} == {day}
    assert network.vessel_call in list(calls.context["vessel_calls"])
    assert list(none.context["vessel_calls"]) == []


def test_the_railway_confirms_the_whole_manifest_and_a_later_loading_asks_again(client, shipper, tomorrow, staff,
                                                                               railway):
    departure = tomorrow.departure
    url = f"/operations/railway/{departure.reference}/confirm-manifest/"
    client.force_login(railway.user)
    nothing = client.post(url)
    at_station(shipper, tomorrow, staff, NUMBERS[:3])
    for number in NUMBERS[:2]:
        journey.train_load(actor=staff.actor, number=number, confirmed=True)

    confirmed = client.post(url, follow=True)
    departure.refresh_from_db()
    first = (departure.manifest_confirmed_at is not None, departure.manifest_confirmed_containers)
    journey.train_load(actor=staff.actor, number=NUMBERS[2], confirmed=True)
    departure.refresh_from_db()
    other = person(factories.organisation(PartyKind.RAILWAY, code="other-rail"))
    client.force_login(other.user)
    stranger = client.post(url)

    assert nothing.status_code == 409 and "nothing to confirm" in nothing.content.decode()
    assert first == (True, 2)
    assert any(f"Manifest of train {departure.reference} confirmed: 2 containers." in m
               for m in messages_of(confirmed))
    assert 'data-manifest-confirmed="2"' in confirmed.content.decode()
    assert departure.manifest_confirmed_at is None  # loaded since: to be confirmed again
    assert stranger.status_code == 404


# --- Sorting and filters ---------------------------------------------------------------------------------


def test_the_railway_sorts_each_day_by_a_column_and_keeps_the_station_and_days(client, network, railway):
    client.force_login(railway.user)
    today = timezone.localdate()
    days = {"from": today.isoformat(), "to": (today + timedelta(days=2)).isoformat()}

    by_station = client.get("/operations/railway/", {**days, "sort": "-station"})
    by_time = client.get("/operations/railway/", {**days, "sort": "departs"})

    listed = list(by_station.context["departures"])
    assert {d.service.station.code for d in listed} == {"YIWU-W", "JINHUA-E"}
    for day in {d.service_date for d in listed}:
        stations = [d.service.station.code for d in listed if d.service_date == day]
        assert stations == sorted(stations, reverse=True)  # within each day: the days stay in order
    assert [d.service_date for d in listed] == sorted(d.service_date for d in listed)
    page = by_station.content.decode()
    assert 'aria-sort="descending"' in page
    header = re.search(r'<th scope="col"[^>]*aria-sort="descending"[^>]*><a class="sort-link" href="([^"]+)"', page)
    assert "sort=station" in header.group(1) and f"from={today.isoformat()}" in header.group(1)
    times = [d.planned_departure for d in by_time.context["departures"]]
    assert times == sorted(times)


def test_the_port_sorts_its_vessel_calls_and_filters_them_by_terminal(client, network, port):
    other = factories.terminal("CHUANSHAN", operator=network.port, name="Chuanshan", name_zh="穿山",
                               unlocode="CNCSN")
    early = factories.vessel_call(other, network.vessel_call.etd - timedelta(hours=6), vessel_name="Alpha Star")
    client.force_login(port.user)

    by_vessel = client.get("/operations/port/", {"sort": "-vessel"})
    by_etd = client.get("/operations/port/", {"sort": "etd"})
    one_terminal = client.get("/operations/port/", {"terminal": "CHUANSHAN"})

    names = [call.vessel_name for call in by_vessel.context["vessel_calls"]]
    assert names == sorted(names, reverse=True) and "Alpha Star" in names
    etds = [call.etd for call in by_etd.context["vessel_calls"]]
    assert etds == sorted(etds) and etds[0] == early.etd
    assert list(one_terminal.context["vessel_calls"]) == [early]
    assert 'id="terminal-filter"' in one_terminal.content.decode()
    assert '<option value="CHUANSHAN" selected>' in one_terminal.content.decode()
