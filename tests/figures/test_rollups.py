"""The rollups behind the figures: what a refresh writes, that the figures read them (and not the rows) for
the days they cover, that the days after are read live, and how late changes reach them."""

from datetime import date, timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bookings.models import BookingDay, ContainerDay, EmptyWait, FigureRollup
from customs.models import CargoDay, ClearanceTime
from figures.compute import figures_compute, figures_refresh
from figures.query import figure_query
from figures.tasks import figures_refresh as figures_refresh_task
from intermodal.models import PartyKind
from tests.factories import shanghai
from tests.figures.conftest import PERIOD, actor_of, empty_request

pytestmark = pytest.mark.django_db


def port_figures(port_actor):
    return figures_compute(figure_query(actor=port_actor, **PERIOD))


def test_refresh_writes_a_row_per_day_and_service(figures_data):
    refreshed = figures_refresh(today=date(2025, 7, 1))

    assert refreshed.day_from is None  # the first refresh rolls up everything
    assert FigureRollup.objects.get().through_day == date(2025, 6, 30)
    # V1 sailed on 15 March with the 20 containers first booked on it (19 on it, 1 rolled); V2 with none first
    # booked on it; the later vessel with the 3 of the confirmed booking, not loaded.
    assert sorted(ContainerDay.objects.values_list("day", "containers", "on_schedule")) == [
        (date(2025, 3, 15), 1, 0), (date(2025, 3, 15), 19, 19), (date(2025, 6, 1), 3, 0)]
    assert sorted(BookingDay.objects.values_list("day", "bookings", "teu", "containers")) == [
        (date(2025, 3, 10), 2, 19, 19), (date(2025, 3, 12), 1, 1, 1), (date(2025, 4, 5), 1, 6, 3)]
    assert EmptyWait.objects.count() == 11  # picked-up requests only
    assert sorted(ClearanceTime.objects.values_list("clearance_seconds", "inspected")) == [
        (4 * 3600, False), (6 * 3600, False), (10 * 3600, True)]
    assert sorted(CargoDay.objects.values_list("chapter", "lines")) == [("61", 1), ("94", 1), ("95", 1)]
    assert refreshed.rows == {"bookings_containerday": 3, "bookings_bookingday": 3, "bookings_emptywait": 11,
                              "customs_clearancetime": 3, "customs_cargoday": 3}


def test_figures_read_the_rollups_not_the_rows(figures_data, port_actor):
    from_rows = port_figures(port_actor)
    figures_refresh(today=date(2025, 7, 1))

    with CaptureQueriesContext(connection) as queries:
        from_rollups = port_figures(port_actor)

    assert from_rollups == from_rows
    read = " ".join(query["sql"] for query in queries.captured_queries)
    for table in ("bookings_container", "bookings_booking", "bookings_emptyrequest", "customs_declaration",
                  "customs_goodsline"):
        assert f'FROM "{table}"' not in read, table
    assert 'FROM "bookings_containerday"' in read


def test_days_after_the_rollup_are_read_live(figures_data, port_actor):
    figures_refresh(today=date(2025, 3, 11))  # rolled up through 10 March
    before = port_figures(port_actor)["empty_wait"]["requests"]

    empty_request(figures_data.bookings[0], shanghai(date(2025, 3, 20), 9), 2)  # after the rollup: live
    empty_request(figures_data.bookings[0], shanghai(date(2025, 3, 5), 9), 2)  # a rolled-up day: not yet

    assert port_figures(port_actor)["empty_wait"]["requests"] == before + 1
    figures_refresh(today=date(2025, 3, 11), full=True)
    assert port_figures(port_actor)["empty_wait"]["requests"] == before + 2


def test_the_hourly_refresh_rewrites_the_last_days_only(figures_data, port_actor):
    figures_refresh(today=date(2025, 3, 21))
    lookback = settings.FIGURES_ROLLUP_LOOKBACK_DAYS
    recent = date(2025, 3, 21) - timedelta(days=lookback)  # the first day the next refresh rewrites
    empty_request(figures_data.bookings[0], shanghai(recent, 9), 2)
    empty_request(figures_data.bookings[0], shanghai(recent - timedelta(days=1), 9), 2)
    requests = port_figures(port_actor)["empty_wait"]["requests"]

    refreshed = figures_refresh(today=date(2025, 3, 21))

    assert refreshed.day_from == recent
    assert port_figures(port_actor)["empty_wait"]["requests"] == requests + 1
    figures_refresh_task(full=True)  # the nightly rebuild (today's real date: rolls up the whole hand-made year)
    assert port_figures(port_actor)["empty_wait"]["requests"] == requests + 2


def test_an_enterprise_reads_its_own_rows(figures_data):
    figures_refresh(today=date(2025, 7, 1))
    query = figure_query(actor=figures_data.shipper.actor, **PERIOD)

    assert query.rolled_through is None  # the rollups hold no shipper
    assert figures_compute(query)["on_schedule"]["containers"] == 19


def test_the_refresh_is_scheduled():
    entries = [entry for entry in settings.CELERY_BEAT_SCHEDULE.values()
               if entry["task"] == "figures.tasks.figures_refresh"]
    assert len(entries) == 2
    assert sorted(entry.get("kwargs", {}).get("full", False) for entry in entries) == [False, True]


def test_a_scope_that_holds_nothing_has_empty_figures(figures_data):
    """A local government naming neither city nor province sees no station: no rows, not an error."""
    figures_refresh(today=date(2025, 3, 16))  # rolled days and live ones both
    nowhere = actor_of(PartyKind.LOCAL_GOVERNMENT, province="", city="")

    figures = figures_compute(figure_query(actor=nowhere, **PERIOD))

    assert (figures["empty_wait"]["requests"], figures["empty_wait"]["median_hours"]) == (0, None)
    assert (figures["clearance"]["released"], figures["throughput"]["teu"]) == (0, 0)
