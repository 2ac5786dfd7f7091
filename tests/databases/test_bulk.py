"""databases.bulk.rows_update writes many rows' changed fields with one UPDATE, each value typed by its column:
text, numbers, booleans, times (and None), foreign keys; rows not given keep theirs. rows_insert writes new rows
with one INSERT, every kind of column (JSON and UUIDs among them), and reads their ids back in their order."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from databases import bulk
from intermodal.codes import EventType
from intermodal.events import event_build
from intermodal.models import Event, PartyKind
from stations.models import Departure, Station
from tests import factories


@pytest.mark.django_db
def test_rows_update_writes_each_rows_own_values_with_one_statement():
    operator, other = factories.organisation(PartyKind.STATION_OPERATOR), factories.organisation(
        PartyKind.STATION_OPERATOR)
    stations = [factories.station(code=f"BULK-{n}", operator=operator) for n in range(3)]
    first, second, untouched = stations
    first.name, first.has_empty_depot, first.demurrage_per_teu_day = "Jinhua South", False, Decimal("175.50")
    first.operator = other
    second.name, second.has_empty_depot, second.demurrage_per_teu_day = "Yiwu West", True, Decimal("0")
    untouched.name = "not written"

    with CaptureQueriesContext(connection) as queries:
        written = bulk.rows_update(Station, [second, first], ["name", "has_empty_depot", "demurrage_per_teu_day",
                                                             "operator"])

    assert written == 2
    assert sum(1 for query in queries.captured_queries if "UPDATE" in query["sql"]) == 1
    rows = {s.code: (s.name, s.has_empty_depot, s.demurrage_per_teu_day, s.operator_id)
            for s in Station.objects.filter(code__startswith="BULK-")}
    assert rows["BULK-0"] == ("Jinhua South", False, Decimal("175.50"), other.pk)
    assert rows["BULK-1"] == ("Yiwu West", True, Decimal("0.00"), operator.pk)
    assert rows["BULK-2"][0] != "not written"


@pytest.mark.django_db
def test_rows_update_writes_times_and_nulls():
    factories.small_network()
    departures = list(Departure.objects.order_by("pk")[:2])
    at = datetime(2026, 12, 5, 1, 30, tzinfo=UTC)
    departures[0].actual_departure, departures[1].actual_departure = at, None
    assert bulk.rows_update(type(departures[0]), departures, ["actual_departure"]) == 2
    for departure in departures:
        departure.refresh_from_db()
    assert (departures[0].actual_departure, departures[1].actual_departure) == (at, None)
    assert bulk.rows_update(Station, [], ["name"]) == 0


@pytest.mark.django_db
def test_rows_insert_writes_every_column_and_reads_the_ids_back_in_order():
    organisation = factories.organisation(PartyKind.STATION_OPERATOR)
    at = datetime(2026, 12, 5, 1, 30, tzinfo=UTC)
    events = [
        event_build(event_type=EventType.EQUIPMENT, event_code="GTIN", event_datetime=at, organisation=organisation,
                    equipment_reference="MSKU1234565", details={"seal": "SL-1", "vgm_kg": 24000, "note": "装箱 'ok'"}),
        event_build(event_type=EventType.TRANSPORT, event_code="DEPA", transport_reference="YW-2026-1205-1",
                    reason="", details={}),
        event_build(event_type=EventType.EQUIPMENT, event_code="LOAD", equipment_reference="TGHU7654321",
                    details={"nested": {"list": [1, None, "x"]}}),
    ]
    with CaptureQueriesContext(connection) as queries:
        bulk.rows_insert(Event, events, returning="id")

    assert len(queries.captured_queries) == 1 and "unnest(" in queries.captured_queries[0]["sql"]
    assert all(event.pk is not None and not event._state.adding for event in events)
    assert [e.pk for e in events] == sorted(e.pk for e in events)  # ids given in the order of the rows
    for event in events:
        stored = Event.objects.get(pk=event.pk)
        assert {f.attname: getattr(stored, f.attname) for f in Event._meta.concrete_fields if f.attname != "txid"} \
            == {f.attname: getattr(event, f.attname) for f in Event._meta.concrete_fields if f.attname != "txid"}
        assert stored.txid is not None  # the trigger ran for each row
    assert Event.objects.get(pk=events[0].pk).details["note"] == "装箱 'ok'"
    bulk.rows_insert(Event, [])  # nothing to write, nothing sent
