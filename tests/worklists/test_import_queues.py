"""The import work on each party's home page (issue 19): the consignee's containers to book inland, to pick up and
whose free time ends; the station's trains to discharge and containers waiting in its yard; the port's vessels to
discharge and trains to load. Each item counts the containers and opens the page where the work is done; another
organisation's containers are never counted, and nothing shows when there is nothing to do."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone, translation
from stdnum import iso6346

from bookings.models import Container
from inbound import services as arrivals
from inbound.models import ArrivingContainer
from intermodal.models import PartyKind
from journey import imports
from journey import services as journey
from stations.models import Departure, DepartureStatus
from tests import factories
from tests.bookings.test_operations_views import person
from tests.imports.conftest import NUMBERS, announce, book_import
from worklists.queues import LATER, NOW, SOON, work_queue

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
IMPORTS = "/operations/imports/"
YARD = "/operations/station/imports/"


@pytest.fixture(autouse=True)
def in_english():
    """The titles are compared in English, whatever language an earlier test of the same worker left active."""
    with translation.override("en"):
        yield


def number(n: int) -> str:
    prefix = f"MSCU{n:06d}"
    return prefix + iso6346.calc_check_digit(prefix)


def at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=SHANGHAI)


def of_kind(queue, kind: str) -> list:
    return [item for item in queue.items if item.kind == kind]


def opens(user, url: str) -> int:
    client = Client()
    client.force_login(user)
    return client.get(url).status_code


def vessel(corridor, hours_later: int):
    """Another vessel calling at the corridor's terminal, `hours_later` than the corridor's."""
    return factories.vessel_call(corridor.network.beilun, etd=corridor.call.etd + timedelta(hours=hours_later),
                                 imo="9839179", voyage=f"{200 + hours_later}E", vessel_name="MSC Later")


def announce_on(corridor, call, numbers, consignee):
    items = [arrivals.Announced(number=n, size_type="22G1", bl_number="MEDU7654321", consignee=consignee,
                                port_of_loading=corridor.loading, gross_weight_kg=Decimal("18000"))
             for n in numbers]
    return arrivals.arrivals_announce(actor=corridor.actors.port, vessel_call=call, items=items)


def open_departure(corridor, call) -> Departure:
    """The first import departure of the corridor that can still take the call's containers."""
    return (Departure.objects.filter(service=corridor.inbound, status=DepartureStatus.SCHEDULED,
                                     closing_time__gt=max(call.import_stacked_at, timezone.now()) + timedelta(hours=1))
            .order_by("planned_departure").first())


def on_the_track(corridor, numbers, *, call=None, consignee=None, arrive=True):
    """Announced on `call` for `consignee`, booked inland, the vessel arrived (nine hours ago), discharged, loaded
    and the train departed; arrived at the station an hour ago unless `arrive` is False."""
    a, now = corridor.actors, timezone.now()
    call, consignee = call or corridor.call, consignee or a.consignee
    announce_on(corridor, call, numbers, consignee.organisation)
    departure = open_departure(corridor, call)
    booking = arrivals.import_booking_create(actor=consignee, departure=departure, vessel_call=call, numbers=numbers,
                                             commodity="Machine parts")
    call.refresh_from_db()
    if call.actual_arrival is None:
        imports.vessel_arrive(actor=a.port, vessel_call=call, at=now - timedelta(hours=9), confirmed=True)
    for n in numbers:
        imports.vessel_discharge(actor=a.port, number=n, at=now - timedelta(hours=8), confirmed=True)
        imports.import_train_load(actor=a.port, number=n, at=now - timedelta(hours=7), confirmed=True)
    journey.train_depart(actor=a.railway, departure=departure, at=now - timedelta(hours=6), confirmed=True)
    if arrive:
        journey.train_arrive(actor=a.railway, departure=departure, at=now - timedelta(hours=1), confirmed=True)
    return booking


def at_the_station(corridor, numbers, *, held=(), consignee=None, call=None):
    """On the track, then discharged at the station and released by customs: available unless in `held` (a
    freight hold)."""
    booking = on_the_track(corridor, numbers, consignee=consignee, call=call)
    ArrivingContainer.objects.filter(number__in=held).update(freight_hold=True)
    for n in numbers:
        imports.station_discharge(actor=corridor.actors.station, number=n, confirmed=True)
    factories.declaration_released(booking)
    return booking


# --- The consignee ---------------------------------------------------------------------------------------


def test_the_consignee_is_asked_to_book_what_is_announced_for_it_on_vessels_arrived_or_due(corridor):
    a, network = corridor.actors, corridor.network
    announce(corridor)  # on a vessel due ten hours ago
    announce(corridor, ["GYOU4047990"], consignee=corridor.other)
    book_import(corridor, NUMBERS[:1])
    later = network.vessel_call  # due in three days or more
    announce_on(corridor, later, [number(1)], corridor.consignee)

    due = work_queue(a.consignee)
    imports.vessel_arrive(actor=a.port, vessel_call=corridor.call, confirmed=True)
    arrived = work_queue(a.consignee)
    two_days_before = work_queue(a.consignee, now=later.eta - timedelta(days=2) + timedelta(minutes=1))

    [item] = of_kind(due, "import_to_book")
    assert item.title == f"Book 2 containers of {corridor.call.vessel_name} {corridor.call.voyage} inland"
    assert item.url == f"{IMPORTS}#call-{corridor.call.reference}" and item.urgency == LATER
    assert opens(a.consignee.user, item.url) == 200
    assert [i.urgency for i in of_kind(arrived, "import_to_book")] == [SOON]
    assert {i.url for i in of_kind(two_days_before, "import_to_book")} == {
        f"{IMPORTS}#call-{corridor.call.reference}", f"{IMPORTS}#call-{later.reference}"}
    [others] = of_kind(work_queue(a.other), "import_to_book")
    assert others.title.startswith("Book 1 container of")


def test_the_consignee_is_asked_to_declare_an_import_until_customs_have_it_whenever_its_vessel_sails(corridor):
    a = corridor.actors
    announce(corridor)
    booking = book_import(corridor)
    # The vessel the containers came on sails on: the import is still to be declared, for its inland station.
    type(corridor.call).objects.filter(pk=corridor.call.pk).update(actual_departure=timezone.now())

    [item] = of_kind(work_queue(a.consignee), "to_declare")
    assert item.title == f"Declare the goods of import booking {booking.reference}"
    assert "Yiwu West" in item.detail and item.urgency == LATER
    assert item.url == f"/declarations/new/{booking.reference}/" and opens(a.consignee.user, item.url) == 200
    assert not of_kind(work_queue(a.other), "to_declare")

    factories.declaration_released(booking)
    assert not of_kind(work_queue(a.consignee), "to_declare")


def test_the_consignee_is_told_what_to_pick_up_and_whose_free_time_ends(corridor):
    a = corridor.actors
    at_the_station(corridor, NUMBERS, held=NUMBERS[2:])
    container = Container.objects.select_related("booking__departure__service__station").get(
        number=NUMBERS[0], is_active=True)
    last_free = arrivals.demurrage_of(container).last_free_day

    now = work_queue(a.consignee)
    [available] = of_kind(now, "import_available")
    assert available.title == "2 containers available for pick-up at Yiwu West"
    assert available.url == f"{IMPORTS}#import-containers" and opens(a.consignee.user, available.url) == 200
    assert not of_kind(now, "demurrage_ending") and not of_kind(now, "demurrage_passed")

    assert not of_kind(work_queue(a.consignee, now=at(last_free - timedelta(days=2))), "demurrage_ending")
    [tomorrow] = of_kind(work_queue(a.consignee, now=at(last_free - timedelta(days=1))), "demurrage_ending")
    [today] = of_kind(work_queue(a.consignee, now=at(last_free)), "demurrage_ending")
    over = work_queue(a.consignee, now=at(last_free + timedelta(days=1)))
    assert tomorrow.title == "Free time at Yiwu West ends by tomorrow for 3 containers" and tomorrow.urgency == SOON
    assert today.urgency == NOW
    [passed] = of_kind(over, "demurrage_passed")
    assert passed.title == "Free time at Yiwu West is over for 3 containers" and passed.urgency == NOW
    assert not of_kind(over, "demurrage_ending")
    assert work_queue(a.other, now=at(last_free + timedelta(days=1))).items == []


def test_the_consignee_is_told_when_free_time_with_it_ends_until_the_empty_is_back(corridor):
    a = corridor.actors
    at_the_station(corridor, NUMBERS[:2])
    imports.import_gate_out(actor=a.station, number=NUMBERS[0], confirmed=True)
    container = Container.objects.select_related("booking__departure__service__station", "booking__vessel_call").get(
        number=NUMBERS[0], is_active=True)
    last_free = arrivals.detention_of(container).last_free_day

    assert not of_kind(work_queue(a.consignee, now=at(last_free - timedelta(days=2))), "detention_ending")
    [ending] = of_kind(work_queue(a.consignee, now=at(last_free - timedelta(days=1))), "detention_ending")
    [passed] = of_kind(work_queue(a.consignee, now=at(last_free + timedelta(days=3))), "detention_passed")
    imports.empty_return(actor=a.station, number=NUMBERS[0], confirmed=True)
    back = work_queue(a.consignee, now=at(last_free + timedelta(days=3)))

    assert ending.title == "Free time with you ends by tomorrow for 1 container"
    assert passed.title == "Free time with you is over for 1 container" and passed.urgency == NOW
    assert opens(a.consignee.user, passed.url) == 200
    assert not of_kind(back, "detention_passed") and not of_kind(back, "detention_ending")


# --- Station staff ---------------------------------------------------------------------------------------


def test_station_staff_are_asked_to_discharge_todays_import_trains(corridor):
    a = corridor.actors
    on_the_track(corridor, NUMBERS[:2], arrive=False)
    departure = Departure.objects.get(bookings__containers__number=NUMBERS[0])
    expected = departure.expected_arrival
    that_day = timezone.localtime(expected).date()

    day_before = work_queue(a.station, now=at(that_day - timedelta(days=1), 23))
    [coming] = of_kind(work_queue(a.station, now=at(that_day, 0)), "import_train_to_discharge")
    journey.train_arrive(actor=a.railway, departure=departure, confirmed=True)
    [arrived] = of_kind(work_queue(a.station), "import_train_to_discharge")

    assert not of_kind(day_before, "import_train_to_discharge")
    assert coming.title == f"Discharge 2 containers from train {departure.reference}" and coming.urgency == SOON
    assert arrived.urgency == NOW and arrived.url == f"{YARD}?station=YIWU-W#on-track"
    assert opens(a.station.user, arrived.url) == 200
    elsewhere = person(factories.organisation(PartyKind.STATION_OPERATOR, code="jinhua-ops"))
    assert work_queue(elsewhere.actor).items == []


def test_station_staff_see_import_containers_on_hold_and_those_not_collected(corridor):
    a = corridor.actors
    at_the_station(corridor, NUMBERS, held=NUMBERS[2:])

    queue = work_queue(a.station)

    assert not of_kind(queue, "import_train_to_discharge")  # all discharged
    [held] = of_kind(queue, "import_on_hold")
    [waiting] = of_kind(queue, "import_not_collected")
    assert held.title == "1 container on hold at Yiwu West"
    assert waiting.title == "2 containers available at Yiwu West, not collected"
    assert waiting.url == f"{YARD}?station=YIWU-W#waiting" and opens(a.station.user, waiting.url) == 200
    imports.import_gate_out(actor=a.station, number=NUMBERS[0], confirmed=True)
    [fewer] = of_kind(work_queue(a.station), "import_not_collected")
    assert fewer.title == "1 container available at Yiwu West, not collected"


# --- The port --------------------------------------------------------------------------------------------


def test_the_port_is_asked_to_discharge_arrived_vessels_and_load_import_trains(corridor):
    a = corridor.actors
    announce(corridor)
    booking = book_import(corridor, NUMBERS[:2])

    before = work_queue(a.port)
    imports.vessel_arrive(actor=a.port, vessel_call=corridor.call, confirmed=True)
    arrived = work_queue(a.port)
    for n in NUMBERS:
        imports.vessel_discharge(actor=a.port, number=n)
    discharged = work_queue(a.port)
    imports.import_train_load(actor=a.port, number=NUMBERS[0])
    one_loaded = work_queue(a.port)

    assert not of_kind(before, "vessel_to_discharge")
    [vessel_item] = of_kind(arrived, "vessel_to_discharge")
    assert vessel_item.title == f"Discharge 3 containers from {corridor.call.vessel_name} {corridor.call.voyage}"
    assert vessel_item.url == f"/operations/port/imports/vessel/{corridor.call.reference}/"
    assert opens(a.port.user, vessel_item.url) == 200
    assert not of_kind(discharged, "vessel_to_discharge")
    assert not of_kind(discharged, "vessel_to_load")  # imports leave by train, not on the vessel they came on
    [load] = of_kind(discharged, "import_train_to_load")  # the unbooked one waits for its consignee
    assert load.title == f"Load 2 containers on train {booking.departure.reference}"
    assert load.url == f"/operations/port/imports/#outbound-{booking.departure.reference}"
    assert opens(a.port.user, load.url) == 200
    assert [item.title for item in of_kind(one_loaded, "import_train_to_load")] == [
        f"Load 1 container on train {booking.departure.reference}"]
    other_port = person(factories.organisation(PartyKind.PORT, code="other-port"))
    assert work_queue(other_port.actor).items == []


# --- Nothing to do ---------------------------------------------------------------------------------------


def test_nothing_shows_when_no_import_waits_for_anyone(corridor):
    a = corridor.actors

    queues = {party: work_queue(getattr(a, party)) for party in ("consignee", "station", "port")}

    assert {party: queue.items for party, queue in queues.items()} == {"consignee": [], "station": [], "port": []}
    client = Client()
    client.force_login(a.consignee.user)
    assert "data-work-empty" in client.get("/").content.decode()


# --- Queries ---------------------------------------------------------------------------------------------


def test_the_station_and_port_homes_take_the_same_queries_for_one_or_many_import_containers(
        corridor, django_assert_max_num_queries):
    a = corridor.actors
    on_the_track(corridor, [number(1)])
    announce_on(corridor, corridor.call, [number(2)], corridor.consignee)  # aboard, not booked
    pages = {party: Client() for party in ("station", "port")}
    for party, client in pages.items():
        client.force_login(getattr(a, party).user)
    first = {}
    for party, client in pages.items():
        with django_assert_max_num_queries(60) as counted:
            client.get("/")
        first[party] = len(counted.captured_queries)

    sixth = vessel(corridor, 6)
    at_the_station(corridor, [number(3), number(4), number(5)], held=[number(5)], call=sixth)
    announce_on(corridor, sixth, [number(10)], corridor.consignee)  # arrived, still aboard
    on_the_track(corridor, [number(6), number(7)], call=vessel(corridor, 12))
    later = vessel(corridor, 2)
    announce_on(corridor, later, [number(8), number(9)], corridor.consignee)
    imports.vessel_arrive(actor=a.port, vessel_call=later, confirmed=True)
    booking = book_import(corridor, [number(2)], departure=open_departure(corridor, corridor.call))
    imports.vessel_discharge(actor=a.port, number=number(2))

    for party, client in pages.items():
        with django_assert_max_num_queries(first[party]):
            response = client.get("/")
        assert response.context["work"].total >= 2
    # The train booked is the fourth this test fills: three days out or more, by the hour the test runs, and the
    # port lists the trains of the next three days. Asked as of the day before it closes.
    day_before = booking.departure.closing_time - timedelta(days=1)
    assert booking.departure.reference in " ".join(
        item.title for item in work_queue(a.port, now=day_before).items if item.kind == "import_train_to_load")
