"""Import steps reported in lists are applied in runs as the export steps are (issue 21, item 1): the
announcements, customs' decisions, the trains and the return stations a run needs are read once for the run, the
announcements to be discharged locked before the containers, and the writes made together - so a list's
statements (but each item's savepoint) do not grow with its length, and each item is still checked as if posted
alone."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from stdnum import iso6346

from bookings import services as bookings_services
from bookings.models import Booking, BookingStatus, Container, ContainerStatus
from inbound import services as arrivals
from inbound.models import ArrivingContainer, ReturnedEmpty
from intermodal.models import Event, OutboxMessage
from tests import factories
from tests.bookings.conftest import book
from tests.imports.conftest import book_import, client_of


def number(n: int) -> str:
    prefix = f"RUNU{n:06d}"
    return prefix + iso6346.calc_check_digit(prefix)


NUMBERS = [number(n) for n in range(6)]
FEW, MANY = NUMBERS[:2], NUMBERS[2:]


def step(code: str, each: str, at, **extra) -> dict:
    return {"event_type": "EQUIPMENT", "event_code": code, "equipment_reference": each, "confirm": True,
            "event_datetime": at.isoformat(), **extra}


def transport(code: str, reference: str, at) -> dict:
    return {"event_type": "TRANSPORT", "event_code": code, "transport_reference": reference, "confirm": True,
            "event_datetime": at.isoformat()}


@pytest.fixture
def booked_six(corridor):
    """Six 20-foot boxes announced on the vessel (one with a terminal hold, one not booked inland) and five booked
    on the import departure."""
    items = [arrivals.Announced(number=each, size_type="22G1", bl_number="MEDU1234567", consignee=corridor.consignee,
                                port_of_loading=corridor.loading, gross_weight_kg=Decimal("21000"),
                                terminal_hold=each == NUMBERS[3])
             for each in [*NUMBERS, number(99)]]
    arrivals.arrivals_announce(actor=corridor.actors.port, vessel_call=corridor.call, items=items)
    return book_import(corridor, numbers=NUMBERS)


def _report(client, items) -> tuple[list[dict], int]:
    with CaptureQueriesContext(connection) as queries:
        answer = client.post("/api/v1/events/", items, format="json")
    assert answer.status_code in (200, 201), answer.json()
    # Each item runs in a savepoint of its own (refused alone): those are per item by design; nothing else is.
    statements = [q for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    return answer.json()["results"], len(statements)


@pytest.mark.django_db
def test_an_import_in_lists_costs_no_more_statements_for_four_containers_than_for_two(corridor, booked_six, shipper,
                                                                                      connecting):
    network, call, departure = corridor.network, corridor.call, corridor.departure
    port, railway, station = client_of(network.port), client_of(network.railway), client_of(network.operator)
    now = timezone.now()
    port.post("/api/v1/events/", transport("ARRI", call.reference, now - timedelta(hours=1)), format="json")

    def both(client, make, *, refused=(), other_kinds=0):
        """The step for two containers, then for the other four: no more statements for the longer list, but one
        for each kind of write only the longer one has (`other_kinds`)."""
        few, few_queries = _report(client, [make(each) for each in FEW])
        many, many_queries = _report(client, [make(each) for each in MANY])
        results = dict(zip(NUMBERS, few + many, strict=True))
        assert {each for each, result in results.items() if result["status"] != 201} == set(refused), results
        # (the first list may move the booking on: one statement more, once)
        assert many_queries <= few_queries + other_kinds, (make(NUMBERS[0])["event_code"], few_queries, many_queries)
        return results

    # the port discharges the boxes from the vessel, unbooked one included, then loads them on the train
    both(port, lambda each: step("DISC", each, now))
    unbooked, _queries = _report(port, [step("DISC", number(99), now), step("DISC", "CSQU3054383", now)])
    assert [r["status"] for r in unbooked] == [201, 409]
    assert ArrivingContainer.objects.filter(discharged_at__isnull=True).count() == 0
    both(port, lambda each: step("LOAD", each, now + timedelta(minutes=30), transport_reference=departure.reference))
    leaves, arrives = departure.planned_departure, departure.planned_departure + timedelta(hours=9)
    railway.post("/api/v1/events/", [transport("DEPA", departure.reference, leaves),
                                     transport("ARRI", departure.reference, arrives)], format="json")

    # customs released the declaration: at the station every box is available but the one on a terminal hold
    factories.declaration_released(booked_six)
    # (the box on a terminal hold, among the four, is discharged without becoming available: its container's
    # write is of another kind, with a statement of its own)
    both(station, lambda each: step("DISC", each, arrives + timedelta(hours=1)), other_kinds=1)
    available = set(Event.objects.filter(event_code="AVPU").values_list("equipment_reference", flat=True))
    assert available == set(NUMBERS) - {NUMBERS[3]}
    out = arrives + timedelta(hours=2)
    results = both(station, lambda each: step("GTOT", each, out), refused=[NUMBERS[3]])
    assert results[NUMBERS[3]]["code"] == "on_hold"
    both(station, lambda each: step("GTIN", each, out + timedelta(days=2)), refused=[NUMBERS[3]])

    # then: the same outcome as step by step
    boxes = dict(Container.objects.filter(number__in=NUMBERS).values_list("number", "status"))
    assert boxes == {each: ContainerStatus.AT_STATION if each == NUMBERS[3] else ContainerStatus.RETURNED
                     for each in NUMBERS}
    assert set(ReturnedEmpty.objects.values_list("number", flat=True)) == set(NUMBERS) - {NUMBERS[3]}
    assert Booking.objects.get(pk=booked_six.pk).status == BookingStatus.AT_STATION
    for each in set(NUMBERS) - {NUMBERS[3]}:
        codes = list(Event.objects.filter(equipment_reference=each, event_type="EQUIPMENT").order_by("id")
                     .values_list("event_code", flat=True))
        assert codes == ["DISC", "LOAD", "DISC", "AVPU", "GTOT", "GTIN"], (each, codes)
    assert OutboxMessage.objects.count() == Event.objects.count()

    # when: the station hands the returned empties out again, to an export, in lists (match-back)
    export = book(shipper.actor, connecting, lines={"22G1": 5})
    request = bookings_services.empty_request_create(actor=shipper.actor, booking=export, size_type="22G1",
                                                     quantity=5)
    back = [each for each in NUMBERS if each != NUMBERS[3]]
    few, few_queries = _report(station, [step("GTOT", each, now, empty_request=request.pk) for each in back[:2]])
    many, many_queries = _report(station, [step("GTOT", each, now, empty_request=request.pk) for each in back[2:]])

    # then: each returned empty went out for the export, with no more statements for three than for two
    assert [r["status"] for r in few + many] == [201] * len(back)
    assert many_queries <= few_queries, (few_queries, many_queries)
    assert dict(ReturnedEmpty.objects.values_list("number", "used_by__booking")) == dict.fromkeys(back, export.pk)
