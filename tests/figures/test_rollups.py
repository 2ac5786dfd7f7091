"""The rollups behind the figures: what a refresh writes, that the figures read them (and not the rows) for
the days they cover, that the days after are read live, and how late changes reach them."""

from datetime import date, timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from bookings.models import BookingDay, ContainerDay, EmptyRequest, EmptyWait, FigureRollup, RollupSpan
from customs.models import CargoDay, ClearanceTime
from figures.compute import figures_compute, figures_refresh
from figures.query import figure_query
from figures.rollups import Histogram, rolled_rows
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
    days = {"span": RollupSpan.DAY}
    assert sorted(ContainerDay.objects.filter(**days).values_list("day", "containers", "on_schedule")) == [
        (date(2025, 3, 15), 1, 0), (date(2025, 3, 15), 19, 19), (date(2025, 6, 1), 3, 0)]
    assert sorted(BookingDay.objects.filter(**days).values_list("day", "bookings", "teu", "containers")) == [
        (date(2025, 3, 10), 2, 19, 19), (date(2025, 3, 12), 1, 1, 1), (date(2025, 4, 5), 1, 6, 3)]
    # Picked-up requests only, one bucket each here (1..10 and 100 hours lie 4.4 % apart or more).
    assert sum(EmptyWait.objects.filter(**days).values_list("requests", flat=True)) == 11
    assert EmptyWait.objects.filter(**days).count() == 11
    assert sorted(ClearanceTime.objects.filter(**days).values_list(
        "declarations", "total_seconds", "shortest_seconds", "longest_seconds", "inspected")) == [
        (1, 4 * 3600, 4 * 3600, 4 * 3600, 0), (1, 6 * 3600, 6 * 3600, 6 * 3600, 0),
        (1, 10 * 3600, 10 * 3600, 10 * 3600, 1)]
    assert sorted(CargoDay.objects.filter(**days).values_list("chapter", "lines")) == [("61", 1), ("94", 1), ("95", 1)]
    # Each month's row adds up its days of a service (the two March bookings' days are of two services).
    months = {"span": RollupSpan.MONTH}
    assert sorted(ContainerDay.objects.filter(**months).values_list("day", "containers", "on_schedule")) == [
        (date(2025, 3, 1), 1, 0), (date(2025, 3, 1), 19, 19), (date(2025, 6, 1), 3, 0)]
    assert sorted(BookingDay.objects.filter(**months).values_list("day", "bookings", "teu")) == [
        (date(2025, 3, 1), 1, 1), (date(2025, 3, 1), 2, 19), (date(2025, 4, 1), 1, 6)]
    assert refreshed.rows == {"bookings_containerday": 3, "bookings_bookingday": 3, "bookings_emptywait": 11,
                              "customs_clearancetime": 3, "customs_cargoday": 3,
                              # exports only here: the import side's rollups (tests/figures/test_imports.py) are empty
                              "inbound_importcontainerday": 0, "inbound_stationdwell": 0,
                              "inbound_detentiontime": 0, "inbound_matchbackday": 0}


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


def test_a_period_reads_the_months_it_covers_whole_and_the_days_at_its_ends():
    days, months = RollupSpan.DAY, RollupSpan.MONTH
    # From mid-March to mid-June, rolled through 30 June: March's and June's days, April's and May's months.
    assert rolled_rows(date(2025, 3, 10), date(2025, 6, 15), date(2025, 6, 30)) == (
        Q(span=months, day__in=[date(2025, 4, 1), date(2025, 5, 1)])
        | Q(span=days, day__range=(date(2025, 3, 10), date(2025, 3, 31)))
        | Q(span=days, day__range=(date(2025, 6, 1), date(2025, 6, 15))))
    # The default period, rolled through yesterday: every month whole, the current one up to yesterday.
    assert rolled_rows(date(2024, 7, 1), date(2025, 6, 19), date(2025, 6, 19)) == Q(
        span=months, day__in=[date(2024, 7, 1), *(date(2024 + (m > 12), (m - 1) % 12 + 1, 1) for m in range(8, 19))])
    # A period inside one month: its days.
    assert rolled_rows(date(2025, 3, 5), date(2025, 3, 9), date(2025, 6, 30)) == Q(
        span=days, day__range=(date(2025, 3, 5), date(2025, 3, 9)))


@pytest.mark.parametrize("period", [PERIOD, {"date_from": date(2025, 3, 2), "date_to": date(2025, 4, 10)},
                                    {"date_from": date(2025, 2, 1), "date_to": date(2025, 3, 20)}])
def test_months_and_days_give_the_figures_the_rows_give(figures_data, port_actor, period):
    from_rows = figures_compute(figure_query(actor=port_actor, **period))
    figures_refresh(today=date(2025, 3, 21))  # through 20 March: March's month row holds 1-20 March

    with CaptureQueriesContext(connection) as queries:
        from_rollups = figures_compute(figure_query(actor=port_actor, **period))

    assert from_rollups == from_rows
    assert "bookings_emptywait" in " ".join(query["sql"] for query in queries.captured_queries)


def exact_percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    rank = fraction * (len(ordered) - 1)
    below = int(rank)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (rank - below) * (ordered[above] - ordered[below])


def test_percentiles_of_many_waits_lie_within_a_bucket_of_the_exact_ones(figures_data, port_actor):
    """800 waits of 2-71 hours (seeded), many to a bucket: the median and 90th percentile from the histograms
    lie within the bucket's 4.4 % of the exact ones, each month's too, rolled or live alike; count and mean
    are exact."""
    import random

    randomness = random.Random(21)  # noqa: S311 - test data
    b1 = figures_data.bookings[0]
    start = shanghai(date(2025, 4, 1), 0)
    made = EmptyRequest.objects.bulk_create([
        EmptyRequest(booking=b1, size_type="22G1", quantity=1, status="picked_up", handed_out=1) for _ in range(800)])
    waits = [randomness.uniform(2, 71) for _ in made]
    for request, hours in zip(made, waits, strict=True):
        request.requested_at = start + timedelta(minutes=randomness.randrange(0, 29 * 24 * 60))
        request.picked_up_at = request.requested_at + timedelta(hours=hours)
    EmptyRequest.objects.bulk_update(made, ["requested_at", "picked_up_at"])
    april = {"date_from": date(2025, 4, 1), "date_to": date(2025, 4, 30)}
    live = figures_compute(figure_query(actor=port_actor, **april))["empty_wait"]
    figures_refresh(today=date(2025, 5, 1))
    rolled = figures_compute(figure_query(actor=port_actor, **april))["empty_wait"]

    assert EmptyWait.objects.filter(span=RollupSpan.DAY).count() < 800 + 11  # days x buckets, not one per wait
    for wait in (live, rolled):
        assert wait["requests"] == 800
        assert wait["mean_hours"] == round(sum(waits) / len(waits), 1)
        for key, fraction in (("median_hours", 0.5), ("p90_hours", 0.9)):
            exact = exact_percentile(waits, fraction)
            assert abs(wait[key] - exact) <= 0.044 * exact + 0.05, (key, wait[key], exact)
        assert wait["by_month"][0]["median_hours"] == wait["median_hours"]
    assert abs(rolled["median_hours"] - exact_percentile(waits, 0.5)) < 0.01 * exact_percentile(waits, 0.5)


def test_a_histogram_answers_as_percentile_cont_where_its_buckets_hold_one_or_two_values():
    histogram = Histogram()
    for bucket, value in ((3, 10.0), (5, 20.0), (9, 40.0)):
        histogram.add(bucket, 1, value, value, value)
    histogram.add(7, 2, 60.0, 25.0, 35.0)  # two values: its shortest and its longest

    assert [histogram.value_at(rank) for rank in range(5)] == [10.0, 20.0, 25.0, 35.0, 40.0]
    assert histogram.percentile(0.5) == exact_percentile([10, 20, 25, 35, 40], 0.5) == 25.0
    assert histogram.percentile(0.9) == exact_percentile([10, 20, 25, 35, 40], 0.9)
    assert Histogram().percentile(0.5) is None
