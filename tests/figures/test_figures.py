"""Each figure on the hand-made data set of conftest.py, whose answers are known, and who sees what: read from
the rows, from the rollups of every day, and from rollups of the first days with the rest read live."""

from datetime import date

import pytest

from figures.compute import figures_compute, figures_refresh
from figures.query import figure_query
from intermodal.access import Actor
from intermodal.errors import InvalidInput, NotAllowed
from intermodal.models import PartyKind
from tests.figures.conftest import PERIOD, actor_of

pytestmark = pytest.mark.django_db


# "today" for the refresh: after everything (all rolled up), or inside March (the period split in two).
ROLLED_UP_TO = {"rows": None, "rolled": date(2025, 7, 1), "split-march-11": date(2025, 3, 11),
                "split-march-16": date(2025, 3, 16)}


@pytest.fixture(params=list(ROLLED_UP_TO))
def figures_data(request, figures_data):
    """The hand-made data set, its figures read each way in turn: every answer below must hold for all."""
    today = ROLLED_UP_TO[request.param]
    if today is not None:
        refreshed = figures_refresh(today=today)
        assert refreshed.through_day == date.fromordinal(today.toordinal() - 1)
    return figures_data


def compute(actor, **filters):
    return figures_compute(figure_query(actor=actor, **PERIOD, **filters))


def test_on_schedule_rate_is_19_of_20(figures_data, port_actor):
    figures = compute(port_actor)

    on_schedule = figures["on_schedule"]
    assert (on_schedule["containers"], on_schedule["on_schedule"], on_schedule["rate"]) == (20, 19, 95.0)
    assert on_schedule["goal"] == 95.0
    march, april = on_schedule["by_month"]
    assert (march["month"], march["rate"]) == (date(2025, 3, 1), 95.0)
    assert (april["total"], april["rate"]) == (0, None)


def test_empty_wait_median_and_90th_percentile(figures_data, port_actor):
    wait = compute(port_actor)["empty_wait"]

    # 1..10 hours and 100 hours: median 6, 90th percentile at rank 9 of 0..10 = 10 hours.
    assert (wait["requests"], wait["median_hours"], wait["p90_hours"]) == (11, 6.0, 10.0)
    assert wait["by_month"][0]["median_hours"] == 6.0


def test_enterprise_sees_its_own_waits_and_rate(figures_data):
    figures = compute(figures_data.shipper.actor)

    # 1..10 hours: median 5.5; 90th percentile interpolated at rank 8.1 -> 9.1 hours.
    assert (figures["empty_wait"]["median_hours"], figures["empty_wait"]["p90_hours"]) == (5.5, 9.1)
    assert (figures["on_schedule"]["containers"], figures["on_schedule"]["rate"]) == (19, 100.0)
    assert figures["load_factor"] is None  # departures carry everyone's slots
    assert compute(figures_data.other_shipper.actor)["on_schedule"]["rate"] == 0.0


def test_clearance_time_and_share_released_without_inspection(figures_data, port_actor):
    clearance = compute(port_actor)["clearance"]

    assert (clearance["released"], clearance["median_hours"], clearance["without_inspection"]) == (3, 6.0, 2)
    assert clearance["share_without_inspection"] == 66.7
    assert clearance["p90_hours"] == 9.2  # 4, 6, 10: rank 1.8 -> 6 + 0.8 x 4


def test_teu_by_station_and_by_month(figures_data, port_actor):
    throughput = compute(port_actor)["throughput"]

    assert throughput["teu"] == 26  # the cancelled booking's 2 TEU left out
    assert [(row["code"], row["teu"], row["bookings"]) for row in throughput["by_station"]] == [
        ("YIWU-W", 25, 3), ("JINHUA-E", 1, 1)]
    assert [(row["month"], row["teu"]) for row in throughput["by_month"]] == [
        (date(2025, 3, 1), 20), (date(2025, 4, 1), 6)]


def test_load_factor_of_departures(figures_data, port_actor):
    load = compute(port_actor)["load_factor"]

    assert (load["departures"], load["booked_teu"], load["capacity_teu"]) == (3, 26, 280)  # cancelled run left out
    assert load["rate"] == 9.3
    assert [row["rate"] for row in load["by_month"]] == [11.1, 6.0]


def test_cost_against_road_and_saving(figures_data, port_actor):
    cost = compute(port_actor)["cost"]

    assert (cost["containers"], cost["sea_rail"], cost["road"], cost["saving"]) == (23, 45790.0, 67200.0, 21410.0)
    assert cost["saving_per_container"] == 930.87
    yiwu = next(row for row in cost["by_station"] if row["code"] == "YIWU-W")
    assert (yiwu["containers"], yiwu["sea_rail_per_container"], yiwu["road_per_container"]) == (22, 1995.91, 2931.82)


def test_cargo_mix_by_hs_chapter(figures_data, port_actor):
    mix = compute(port_actor)["cargo_mix"]

    assert [(row["chapter"], row["gross_weight_kg"], row["share"]) for row in mix] == [
        ("95", 10000.0, 58.8), ("94", 5000.0, 29.4), ("61", 2000.0, 11.8)]
    assert mix[0]["name"] == "Toys, games, sports"


def test_station_operator_sees_its_stations_only(figures_data):
    figures = compute(Actor(organisation=figures_data.network.operator))

    assert figures["throughput"]["teu"] == 25
    assert [row["code"] for row in figures["throughput"]["by_station"]] == ["YIWU-W"]
    assert (figures["on_schedule"]["containers"], figures["on_schedule"]["rate"]) == (19, 100.0)
    assert figures["clearance"]["released"] == 2
    with pytest.raises(InvalidInput) as refused:
        figure_query(actor=Actor(organisation=figures_data.network.operator), station="JINHUA-E")
    assert "station" in refused.value.errors


def test_railway_sees_its_services(figures_data):
    figures = compute(Actor(organisation=figures_data.network.railway), service="JINHUA-E-BLG-R")

    assert figures["throughput"]["teu"] == 1
    assert figures["load_factor"]["capacity_teu"] == 80
    other_railway = actor_of(PartyKind.RAILWAY)
    assert compute(other_railway)["throughput"]["teu"] == 0


def test_local_government_sees_its_city_without_prices(figures_data):
    jinhua = actor_of(PartyKind.LOCAL_GOVERNMENT, province="Zhejiang", city="Jinhua")
    figures = compute(jinhua)

    assert figures["cost"] is None
    assert figures["throughput"]["teu"] == 1
    assert [row["chapter"] for row in figures["cargo_mix"]] == ["61"]
    province = compute(actor_of(PartyKind.LOCAL_GOVERNMENT, province="Zhejiang"))
    assert province["throughput"]["teu"] == 26
    assert compute(actor_of(PartyKind.LOCAL_GOVERNMENT, province="Anhui"))["throughput"]["teu"] == 0


def test_period_is_checked(figures_data, port_actor):
    with pytest.raises(InvalidInput) as refused:
        figure_query(actor=port_actor, date_from=date(2025, 5, 1), date_to=date(2025, 4, 1))
    assert "date_to" in refused.value.errors
    with pytest.raises(NotAllowed) as refused:
        figure_query(actor=Actor(organisation=None))
    assert refused.value.status == 403


def test_the_default_period_is_twelve_calendar_months_up_to_date_to_or_today(figures_data, monkeypatch):
    from django.utils import timezone

    port_actor = Actor(organisation=figures_data.network.port)
    monkeypatch.setattr(timezone, "localdate", lambda *args: date(2026, 12, 4))

    given_end = figure_query(actor=port_actor, date_to=date(2026, 6, 15))
    today = figure_query(actor=port_actor)

    assert (given_end.date_from, given_end.date_to) == (date(2025, 7, 1), date(2026, 6, 15))
    assert (today.date_from, today.date_to) == (date(2026, 1, 1), date(2026, 12, 4))
    assert len(today.months) == len(given_end.months) == 12
