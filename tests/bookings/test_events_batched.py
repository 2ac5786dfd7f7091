"""Container steps and trains' departures and arrivals reported in lists are applied in runs (issue 21, item 1):
each step checked as if posted alone, in order, the run's writes made together (one INSERT of the events, one of
the outbox rows, one UPDATE of the containers), locks taken by id before any step; a container or train named
again starts a new run; should the writes fail, the run is applied one step after the other; two lists over the
same containers or trains in opposite orders never deadlock."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import DatabaseError, close_old_connections, connection
from django.test.utils import CaptureQueriesContext
from stdnum import iso6346

from bookings import services as bookings_services
from bookings.models import Booking, BookingChange, BookingStatus, ChangeKind, Container, ContainerStatus
from databases import bulk
from intermodal.access import Actor
from intermodal.models import Event, OutboxMessage, Scope
from journey import services as journey
from tests import factories
from tests.bookings.conftest import book
from tests.bookings.test_events_api import gate_in, key_client

COUNT = 6


def number(n: int) -> str:
    prefix = f"BTCU{n:06d}"
    return prefix + iso6346.calc_check_digit(prefix)


NUMBERS = [number(n) for n in range(COUNT)]


@pytest.fixture
def handed_out_six(shipper, connecting):
    booking = book(shipper.actor, connecting, lines={"42G1": COUNT})
    request = bookings_services.empty_request_create(actor=shipper.actor, booking=booking, size_type="42G1",
                                                     quantity=COUNT)
    staff = Actor(organisation=connecting.network.operator)
    for each in NUMBERS:
        journey.empty_hand_out(actor=staff, request=request, number=each)
    return booking


def step(code: str, each: str, **extra) -> dict:
    return {"event_type": "EQUIPMENT", "event_code": code, "equipment_reference": each, "confirm": True, **extra}


def _writes(queries, table: str, verb: str = "INSERT INTO") -> int:
    """Statements writing the table (each is sent after the audit trail's actor: `SELECT set_config(...); ...`)."""
    return sum(1 for query in queries.captured_queries if f'{verb} "{table}" ' in query["sql"])


def _statuses() -> set[str]:
    return set(Container.objects.filter(number__in=NUMBERS).values_list("status", flat=True))


@pytest.mark.django_db
def test_a_whole_journey_in_lists_writes_each_run_at_once(connecting, handed_out_six):
    network = connecting.network
    station = key_client(network.operator, [Scope.EVENTS_WRITE])
    port = key_client(network.port, [Scope.EVENTS_WRITE])
    items = [gate_in(each, confirm=True) for each in NUMBERS]
    items.insert(3, gate_in("GYOU4047990", confirm=True))  # not in any booking: refused alone

    with CaptureQueriesContext(connection) as queries:
        gated = station.post("/api/v1/events/", items, format="json").json()

    # then: each item has its own result, in order; the refused one kept nothing
    assert [r["status"] for r in gated["results"]] == [201, 201, 201, 409, 201, 201, 201]
    assert gated["results"][3]["code"] == "unknown_container"
    assert [r["index"] for r in gated["results"]] == list(range(7))
    assert _statuses() == {ContainerStatus.GATED_IN}
    # and the six events and their outbox rows were written with one statement each, the containers with one
    assert _writes(queries, "intermodal_event") == 1
    assert _writes(queries, "intermodal_outboxmessage") == 1
    assert sum(1 for q in queries.captured_queries
               if 'UPDATE "bookings_container" AS t SET "status"' in q["sql"]) == 1
    assert Event.objects.filter(event_code="GTIN", equipment_reference__in=NUMBERS).count() == COUNT
    assert not Event.objects.filter(equipment_reference="GYOU4047990").exists()
    # and each seal and VGM went with its container's UPDATE, their history rows with one INSERT: no container
    # read again and no savepoint per gate-in
    assert set(Container.objects.filter(number__in=NUMBERS).values_list(
        "seal_number", "vgm_kg", "vgm_method", "vgm_signatory")) == {("SL001", Decimal("24000"), 1, "Zhang Wei")}
    changes = BookingChange.objects.filter(booking=handed_out_six, kind=ChangeKind.CONTAINER,
                                           after__seal_number="SL001")
    assert sorted(change.after["container"] for change in changes) == sorted(NUMBERS)
    assert _writes(queries, "bookings_bookingchange") == 1
    assert sum(1 for q in queries.captured_queries if q["sql"].startswith("SAVEPOINT")) < COUNT

    # when: the train is loaded, runs, arrives; the port discharges and gates in, then loads the vessel
    with CaptureQueriesContext(connection) as queries:
        loaded = station.post("/api/v1/events/", [step("LOAD", each) for each in NUMBERS], format="json").json()
    assert loaded["applied"] == COUNT
    assert sum(1 for q in queries.captured_queries if q["sql"].startswith("SAVEPOINT")) < COUNT  # none per step
    assert Booking.objects.get(pk=handed_out_six.pk).status == BookingStatus.IN_TRANSIT
    railway = Actor(organisation=network.railway)
    leaves = connecting.departure.planned_departure
    journey.train_depart(actor=railway, departure=connecting.departure, at=leaves, confirmed=True)
    journey.train_arrive(actor=railway, departure=connecting.departure, at=leaves + timedelta(hours=8),
                         confirmed=True)
    cut_off = connecting.vessel_call.cy_cutoff - timedelta(hours=2)
    at_port = port.post("/api/v1/events/", [step("DISC", each) for each in NUMBERS]
                        + [step("GTIN", each, event_datetime=cut_off.isoformat()) for each in NUMBERS],
                        format="json").json()
    assert at_port["applied"] == 2 * COUNT
    assert Booking.objects.get(pk=handed_out_six.pk).status == BookingStatus.AT_PORT
    factories.declaration_released(handed_out_six)
    on_board = port.post("/api/v1/events/", [step("LOAD", each) for each in NUMBERS], format="json").json()

    # then: the same journey as step by step
    assert on_board["applied"] == COUNT
    assert _statuses() == {ContainerStatus.ON_VESSEL}
    assert Booking.objects.get(pk=handed_out_six.pk).status == BookingStatus.LOADED
    for each in NUMBERS:
        codes = list(Event.objects.filter(equipment_reference=each).order_by("id").values_list("event_code",
                                                                                                 flat=True))
        assert codes == ["GTOT", "GTIN", "LOAD", "DISC", "GTIN", "LOAD"]
    assert OutboxMessage.objects.count() == Event.objects.count()


@pytest.mark.django_db
def test_a_container_named_again_takes_its_next_step_after_the_first(connecting, handed_out_six):
    station = key_client(connecting.network.operator, [Scope.EVENTS_WRITE])
    first, second = NUMBERS[:2]

    answer = station.post("/api/v1/events/", [gate_in(first, confirm=True), gate_in(second, confirm=True),
                                              step("LOAD", first), gate_in(first, confirm=True)],
                          format="json").json()

    # then: the load reads the gate-in before it; the second gate-in of a loaded container is refused
    assert [r["status"] for r in answer["results"]] == [201, 201, 201, 409]
    assert answer["results"][2]["container_status"] == ContainerStatus.ON_TRAIN
    assert answer["results"][3]["code"] == "illegal_step"
    assert Container.objects.get(number=first).status == ContainerStatus.ON_TRAIN


@pytest.mark.django_db
def test_the_bookings_of_a_run_move_together_each_as_its_own_containers_say(shipper, connecting):
    staff = Actor(organisation=connecting.network.operator)
    station = key_client(connecting.network.operator, [Scope.EVENTS_WRITE])
    # three bookings of two boxes each; of the third, one box only is gated in and loaded
    numbers = iter(NUMBERS)
    bookings = []
    for _n in range(3):
        booking = book(shipper.actor, connecting, lines={"42G1": 2})
        request = bookings_services.empty_request_create(actor=shipper.actor, booking=booking, size_type="42G1",
                                                         quantity=2)
        boxes = [next(numbers), next(numbers)]
        for each in boxes:
            journey.empty_hand_out(actor=staff, request=request, number=each)
        bookings.append((booking, boxes))
    moving = [each for _b, boxes in bookings[:2] for each in boxes] + bookings[2][1][:1]
    station.post("/api/v1/events/", [gate_in(each, confirm=True) for each in moving], format="json")

    with CaptureQueriesContext(connection) as queries:
        loaded = station.post("/api/v1/events/", [step("LOAD", each) for each in moving], format="json").json()

    # then: every booking with a box on the train is in transit, written with one UPDATE for the three
    assert loaded["applied"] == len(moving)
    assert {Booking.objects.get(pk=booking.pk).status for booking, _boxes in bookings} == {BookingStatus.IN_TRANSIT}
    assert _writes(queries, "bookings_booking", "UPDATE") == 1
    assert sum(1 for q in queries.captured_queries
               if 'FROM "bookings_booking"' in q["sql"] and "FOR UPDATE" in q["sql"]) == 1


@pytest.mark.django_db
def test_a_run_of_loads_naming_their_train_reads_it_once(connecting, handed_out_six):
    station = key_client(connecting.network.operator, [Scope.EVENTS_WRITE])
    station.post("/api/v1/events/", [gate_in(each, confirm=True) for each in NUMBERS], format="json")
    train = connecting.departure.reference

    with CaptureQueriesContext(connection) as queries:
        loaded = station.post("/api/v1/events/", [step("LOAD", each, transport_reference=train) for each in NUMBERS],
                              format="json").json()

    assert loaded["applied"] == COUNT
    assert _statuses() == {ContainerStatus.ON_TRAIN}
    assert sum(1 for q in queries.captured_queries if '"stations_departure"."reference" =' in q["sql"]) == 1


@pytest.mark.django_db
def test_a_run_whose_writes_fail_is_applied_one_step_after_the_other(connecting, handed_out_six, monkeypatch):
    station = key_client(connecting.network.operator, [Scope.EVENTS_WRITE])
    real = bulk.rows_update
    failed = []

    def fails_once(model, rows, fields):
        rows = list(rows)
        if not failed:
            failed.append(len(rows))
            raise DatabaseError("a write of the run fails")
        return real(model, rows, fields)

    monkeypatch.setattr(bulk, "rows_update", fails_once)

    answer = station.post("/api/v1/events/", [gate_in(each, confirm=True) for each in NUMBERS], format="json").json()

    # then: every item applied once, by the steps one after the other
    assert failed == [COUNT]
    assert answer["applied"] == COUNT
    assert _statuses() == {ContainerStatus.GATED_IN}
    assert Event.objects.filter(event_code="GTIN", equipment_reference__in=NUMBERS).count() == COUNT


def _posted_at_once(clients: list, lists: list) -> list:
    """Each client posts its list, all at the same moment, each from a thread of its own: their answers."""
    answers: list = [None] * len(lists)
    start = threading.Barrier(len(lists))

    def post(n: int) -> None:
        try:
            start.wait()
            answers[n] = clients[n].post("/api/v1/events/", lists[n], format="json")
        finally:
            close_old_connections()

    threads = [threading.Thread(target=post, args=(n,)) for n in range(len(lists))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


@pytest.mark.django_db(transaction=True)
def test_two_lists_over_the_same_containers_in_opposite_orders_apply_each_step_once(connecting, handed_out_six):
    staff = connecting.network.operator
    lists = [[gate_in(each, confirm=True) for each in NUMBERS],
             [gate_in(each, confirm=True) for each in reversed(NUMBERS)]]
    clients = [key_client(staff, [Scope.EVENTS_WRITE]) for _ in lists]
    answers = _posted_at_once(clients, lists)

    # then: both answered (no deadlock, no server error), and each container was gated in once
    assert [answer.status_code for answer in answers] == [200, 200]
    applied = [answer.json()["applied"] for answer in answers]
    assert sum(applied) == COUNT
    refused = [r for answer in answers for r in answer.json()["results"] if r["status"] != 201]
    assert {r["code"] for r in refused} <= {"illegal_step"}
    assert Event.objects.filter(event_code="GTIN", equipment_reference__in=NUMBERS).count() == COUNT


@pytest.fixture
def six_empties_ready(shipper, connecting):
    booking = book(shipper.actor, connecting, lines={"42G1": COUNT})
    request = bookings_services.empty_request_create(actor=shipper.actor, booking=booking, size_type="42G1",
                                                     quantity=COUNT)
    journey.empty_request_ready(actor=Actor(organisation=connecting.network.operator), request=request)
    return request


@pytest.mark.django_db
def test_empties_handed_out_in_a_list_are_written_at_once_and_refused_one_by_one(connecting, six_empties_ready):
    from bookings.models import BookingChange, EmptyRequest, EmptyRequestStatus

    request = six_empties_ready
    station = key_client(connecting.network.operator, [Scope.EVENTS_WRITE])
    items = [step("GTOT", each, empty_request=request.pk) for each in NUMBERS[:5]]
    items.insert(2, step("GTOT", NUMBERS[0], empty_request=request.pk))  # the same number again: in use
    items.append(step("GTOT", NUMBERS[5], empty_request=request.pk + 1000))  # a request that is not there

    with CaptureQueriesContext(connection) as queries:
        answer = station.post("/api/v1/events/", items, format="json").json()

    # then: a result per item, in order; the refused ones kept nothing
    assert [r["status"] for r in answer["results"]] == [201, 201, 409, 201, 201, 201, 400]
    assert answer["results"][2]["code"] == "container_in_use"
    assert set(Container.objects.values_list("number", flat=True)) == set(NUMBERS[:5])
    assert _statuses() == {ContainerStatus.EMPTY_OUT}
    request = EmptyRequest.objects.get(pk=request.pk)
    assert (request.handed_out, request.status) == (5, EmptyRequestStatus.READY)
    assert Booking.objects.get(pk=request.booking_id).free_time_start is not None
    assert BookingChange.objects.filter(booking_id=request.booking_id, kind="container").count() == 5
    assert Event.objects.filter(event_code="GTOT").count() == 5 == OutboxMessage.objects.filter(
        topic="equipment.gtot").count()
    # and the containers were written in one statement per run (the repeated number cut the list into two runs),
    # with no savepoint per hand-out
    assert _writes(queries, "bookings_container") == 2
    assert _writes(queries, "intermodal_event") == 2
    assert sum(1 for q in queries.captured_queries if q["sql"].startswith("SAVEPOINT")) < len(items)

    # when: the sixth is handed out alone, and a seventh is asked for
    last = station.post("/api/v1/events/", [step("GTOT", NUMBERS[5], empty_request=request.pk),
                                            step("GTOT", number(99), empty_request=request.pk)],
                        format="json").json()

    # then: the request is picked up, and there is no seventh
    assert [r["status"] for r in last["results"]] == [201, 409]
    assert EmptyRequest.objects.get(pk=request.pk).status == EmptyRequestStatus.PICKED_UP


# --- Trains' departures and arrivals in runs -------------------------------------------------------------


def transport(code: str, departure, at) -> dict:
    return {"event_type": "TRANSPORT", "event_code": code, "classifier": "ACT",
            "transport_reference": departure.reference, "event_datetime": at.isoformat(), "confirm": True}


@pytest.fixture
def four_on_the_train(connecting, handed_out_six):
    """Six gated in for the connecting train, four of them loaded on it; two more trains of the service, empty."""
    from stations.models import Departure

    station = key_client(connecting.network.operator, [Scope.EVENTS_WRITE])
    assert station.post("/api/v1/events/", [gate_in(each, confirm=True) for each in NUMBERS],
                        format="json").json()["applied"] == COUNT
    assert station.post("/api/v1/events/", [step("LOAD", each) for each in NUMBERS[:4]],
                        format="json").json()["applied"] == 4
    others = list(Departure.objects.filter(service=connecting.departure.service)
                  .exclude(pk=connecting.departure.pk).order_by("planned_departure")[:3])
    return [connecting.departure, *others]


@pytest.mark.django_db
def test_trains_leaving_and_arriving_in_a_list_are_written_per_run(connecting, handed_out_six, four_on_the_train):
    from stations.models import Departure, DepartureStatus

    ours, first, second, third = four_on_the_train
    railway = key_client(connecting.network.railway, [Scope.EVENTS_WRITE])
    items = [transport("DEPA", ours, ours.planned_departure),
             transport("DEPA", first, first.planned_departure),
             transport("ARRI", third, third.planned_arrival),  # not gone yet: refused alone, keeps nothing
             transport("DEPA", second, second.planned_departure),
             transport("ARRI", first, first.planned_arrival),  # first named again: a new run, after its departure
             transport("ARRI", ours, ours.planned_arrival)]

    with CaptureQueriesContext(connection) as queries:
        answer = railway.post("/api/v1/events/", items, format="json").json()

    # then: each item its own result, as if posted alone and in order
    assert [r["status"] for r in answer["results"]] == [201, 201, 409, 201, 201, 201]
    assert answer["results"][2]["code"] == "illegal_step"
    assert [r.get("departure_status") for r in answer["results"]] == [
        "departed", "departed", None, "departed", "arrived", "arrived"]
    statuses = dict(Departure.objects.filter(pk__in=[d.pk for d in four_on_the_train]).values_list("pk", "status"))
    assert statuses == {ours.pk: DepartureStatus.ARRIVED, first.pk: DepartureStatus.ARRIVED,
                        second.pk: DepartureStatus.DEPARTED, third.pk: DepartureStatus.SCHEDULED}
    # the four on board went and arrived with the train; the two gated in were left behind, each told once
    assert dict(Container.objects.filter(number__in=NUMBERS).values_list("number", "status")) == {
        **dict.fromkeys(NUMBERS[:4], ContainerStatus.ARRIVED), **dict.fromkeys(NUMBERS[4:], ContainerStatus.GATED_IN)}
    assert sorted(Event.objects.filter(event_code="MISS").values_list("equipment_reference", flat=True)) == NUMBERS[4:]
    assert not Event.objects.filter(transport_reference=third.reference, event_type="TRANSPORT").exists()
    # and two runs, each written with one INSERT of its events, one of their outbox rows, one UPDATE of the boxes
    assert _writes(queries, "intermodal_event") == 2
    assert _writes(queries, "intermodal_outboxmessage") == 2
    assert sum(1 for q in queries.captured_queries if 'UPDATE bookings_container AS c' in q["sql"]) == 2
    assert Event.objects.filter(event_type="TRANSPORT", event_code__in=["DEPA", "ARRI"]).count() == 5
    assert OutboxMessage.objects.count() == Event.objects.count()
    # the booking's status refreshed from its boxes as a report posted alone leaves it
    booking = Booking.objects.get(pk=handed_out_six.pk)
    assert booking.status == BookingStatus.AT_PORT  # four of its boxes arrived at the port
    journey.booking_status_refresh(booking)
    assert Booking.objects.get(pk=handed_out_six.pk).status == BookingStatus.AT_PORT


@pytest.mark.django_db
def test_a_run_of_trains_whose_writes_fail_is_applied_one_after_the_other(connecting, handed_out_six,
                                                                          four_on_the_train, monkeypatch):
    from journey import services as journey_services

    real, failed = journey_services._moves_write, []

    def fails_once(moves):
        if not failed:
            failed.append(len(moves))
            raise DatabaseError("a write of the run fails")
        return real(moves)

    monkeypatch.setattr(journey_services, "_moves_write", fails_once)
    ours, first, _second, _third = four_on_the_train
    railway = key_client(connecting.network.railway, [Scope.EVENTS_WRITE])

    answer = railway.post("/api/v1/events/", [transport("DEPA", ours, ours.planned_departure),
                                              transport("DEPA", first, first.planned_departure)],
                          format="json").json()

    # then: both applied once, by the steps one after the other
    assert failed == [2]
    assert answer["applied"] == 2
    assert Event.objects.filter(event_type="TRANSPORT", event_code="DEPA").count() == 2
    assert set(Container.objects.filter(number__in=NUMBERS[:4]).values_list("status", flat=True)) == {
        ContainerStatus.DEPARTED}


@pytest.mark.django_db(transaction=True)
def test_two_lists_over_the_same_trains_in_opposite_orders_apply_each_departure_once(connecting, handed_out_six,
                                                                                      four_on_the_train):
    ours, first, second, _third = four_on_the_train
    trains = [ours, first, second]
    lists = [[transport("DEPA", d, d.planned_departure) for d in trains],
             [transport("DEPA", d, d.planned_departure) for d in reversed(trains)]]
    clients = [key_client(connecting.network.railway, [Scope.EVENTS_WRITE]) for _ in lists]
    answers = _posted_at_once(clients, lists)

    # then: both answered (no deadlock, no server error), and each train left once
    assert [answer.status_code for answer in answers] == [200, 200]
    assert sum(answer.json()["applied"] for answer in answers) == len(trains)
    refused = [r for answer in answers for r in answer.json()["results"] if r["status"] != 201]
    assert {r["code"] for r in refused} <= {"illegal_step"}
    assert Event.objects.filter(event_type="TRANSPORT", event_code="DEPA").count() == len(trains)
    assert set(Container.objects.filter(number__in=NUMBERS[:4]).values_list("status", flat=True)) == {
        ContainerStatus.DEPARTED}
