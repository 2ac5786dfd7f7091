"""databases.bulk.rows_update writes many rows' changed fields with one UPDATE, each value typed by its column:
text, numbers, booleans, times (and None), foreign keys; rows not given keep theirs."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from databases import bulk
from intermodal.models import PartyKind
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
