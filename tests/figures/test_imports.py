"""Figures by direction on a mixed, hand-made data set whose answers are known: the exports of conftest.py
(March-April 2025) and imports to Yiwu West beside them. Each figure per direction and for both, read from the
rows, from the rollups of every day and from rollups of the first days with the rest read live.

Imports (Beilun -> Yiwu West by rail; the terminal's handling 6 h; Yiwu's 5 free days and CNY 150 a TEU-day;
carrier COSU's detention terms 10 free days and CNY 100 a TEU-day):
- departure 20 March 20:00, planned arrival 21 March 04:00, so promised available by 21 March (04:00 + 6 h):
  c1 22G1 available 21 March 09:00 (on schedule), gated out 24 March, returned 30 March (6 days, none charged);
  c2 42G1 available 21 March 23:30 (on schedule), gated out 29 March (8 days at the station: 3 charged, CNY
  900), returned 12 April (14 days with the consignee across the month end: 4 charged, CNY 800);
  c3 22G1 available 22 March 00:30 (a day late), gated out 26 March 20:00;
  c4 42G1 never available (the promised day is over: late).
- departure 10 April, promised 11 April: c5 22G1 (another shipper) available 11 April 07:00, gated out 15:00.
- Match-back: the exporter's three empties for its April booking handed out on 2 April, one of them c1's box
  returned at Yiwu (310 km from the port).
"""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from bookings.models import Booking, BookingLine, BookingStatus, Container, ContainerStatus, RollupSpan
from customs.models import Declaration, DeclarationStatus, GoodsLine
from figures.compute import figures_compute, figures_refresh
from figures.query import figure_query
from inbound.models import DetentionTime, ImportContainerDay, MatchBackDay, ReturnedEmpty, StationDwell
from inbound.services import demurrage_of, detention_of
from intermodal.access import Actor
from intermodal.errors import InvalidInput
from stations.models import CarrierDetention, Direction, Location
from tests import factories
from tests.factories import shanghai
from tests.figures.conftest import PERIOD, PRICES, container_number, departure

pytestmark = pytest.mark.django_db

ROLLED_UP_TO = {"rows": None, "rolled": date(2025, 7, 1), "split-march-22": date(2025, 3, 22),
                "split-april-11": date(2025, 4, 11)}


def _import_booking(shipper, dep, call, lines: dict[str, int], status) -> Booking:
    teu = sum((1 if size.startswith("2") else 2) * n for size, n in lines.items())
    total = sum(PRICES[size][0] * n for size, n in lines.items())
    road = sum(PRICES[size][1] * n for size, n in lines.items())
    b = Booking.objects.create(
        reference=f"BK-2025-{container_number()[4:10]}", direction=Direction.IMPORT, shipper=shipper, departure=dep,
        vessel_call=call, original_vessel_call=call, destination=Location.objects.get(unlocode="NLRTM"),
        status=status, teu=teu, commodity="Machine parts", cargo_weight_kg=Decimal("40000"), free_days=5,
        quote_transport=total, quote_port_handling=0, quote_documentation=0, quote_total=total,
        quote_road_haulage=road, quote_saving=road - total, quoted_at=dep.planned_departure - timedelta(days=3))
    for size, n in lines.items():
        BookingLine.objects.create(booking=b, size_type=size, quantity=n, teu=(1 if size.startswith("2") else 2) * n,
                                   unit_price=PRICES[size][0], unit_road_price=PRICES[size][1])
    return b


def _box(b: Booking, size_type: str, **times) -> Container:
    status = (ContainerStatus.RETURNED if times.get("returned_at") else ContainerStatus.DELIVERED
              if times.get("delivered_at") else ContainerStatus.AT_STATION)
    return Container.objects.create(booking=b, number=container_number(), size_type=size_type, status=status,
                                    is_active=status != ContainerStatus.RETURNED, **times)


@pytest.fixture
def mixed_data(figures_data):
    n = figures_data.network
    inbound = factories.service(n.yiwu, n.beilun, n.railway, code="BLG-YIWU-W-R", direction=Direction.IMPORT,
                                distance_km=310)
    CarrierDetention.objects.create(carrier_scac="COSU", free_days=10, per_teu_day=Decimal("100"))
    arriving = factories.vessel_call(n.beilun, etd=shanghai(date(2025, 3, 20), 6), imo="9839179", voyage="101E",
                                     actual_departure=shanghai(date(2025, 3, 20), 8))
    d1 = _import_departure(inbound, date(2025, 3, 20), booked=6)
    d2 = _import_departure(inbound, date(2025, 4, 10), booked=1)
    i1 = _import_booking(figures_data.shipper.org, d1, arriving, {"22G1": 2, "42G1": 2}, BookingStatus.AT_STATION)
    i2 = _import_booking(figures_data.other_shipper.org, d2, arriving, {"22G1": 1}, BookingStatus.DELIVERED)
    discharged = shanghai(date(2025, 3, 21), 8)
    c1 = _box(i1, "22G1", station_discharge_at=discharged, available_at=shanghai(date(2025, 3, 21), 9),
              delivered_at=shanghai(date(2025, 3, 24), 8), returned_at=shanghai(date(2025, 3, 30), 8))
    c2 = _box(i1, "42G1", station_discharge_at=discharged, available_at=shanghai(date(2025, 3, 21), 23, 30),
              delivered_at=shanghai(date(2025, 3, 29), 10), returned_at=shanghai(date(2025, 4, 12), 10))
    c3 = _box(i1, "22G1", station_discharge_at=discharged, available_at=shanghai(date(2025, 3, 22), 0, 30),
              delivered_at=shanghai(date(2025, 3, 26), 20))
    c4 = _box(i1, "42G1", station_discharge_at=discharged)
    c5 = _box(i2, "22G1", station_discharge_at=shanghai(date(2025, 4, 11), 6),
              available_at=shanghai(date(2025, 4, 11), 7), delivered_at=shanghai(date(2025, 4, 11), 15))
    # The exporter's April booking: its three empties handed out on 2 April, the first one c1's returned box.
    empties = list(figures_data.bookings[3].containers.order_by("number"))
    Container.objects.filter(pk__in=[c.pk for c in empties]).update(empty_out_at=shanghai(date(2025, 4, 2), 10))
    ReturnedEmpty.objects.create(number=c1.number, size_type="22G1", station=n.yiwu, owner_scac="COSU",
                                 returned_at=c1.returned_at, import_container=c1, port_distance_km=310,
                                 used_at=shanghai(date(2025, 4, 2), 10), used_by=empties[0])
    ReturnedEmpty.objects.create(number=c2.number, size_type="42G1", station=n.yiwu, owner_scac="COSU",
                                 returned_at=c2.returned_at, import_container=c2, port_distance_km=310)
    # Cleared inland in 16.5 hours, no inspection: machinery.
    declaration = Declaration.objects.create(
        reference=f"SD-{i1.reference}", booking=i1, declarant=i1.shipper, declarant_uscc=factories.VALID_USCC,
        station=n.yiwu, trade_mode="0110", transport_mode="vessel_rail", status=DeclarationStatus.RELEASED,
        submitted_at=discharged, released_at=discharged + timedelta(hours=16, minutes=30))
    GoodsLine.objects.create(declaration=declaration, line_no=1, hs_code="8479899990", description="Machine parts",
                             quantity=1, unit="pcs", gross_weight_kg=Decimal("21000"), value=Decimal("1000"),
                             currency="USD", origin_country="DE")
    figures_data.imports = (c1, c2, c3, c4, c5)
    return figures_data


def _import_departure(service, day: date, *, booked: int):
    dep = departure(service, day, capacity=50, booked=booked)
    leaves = datetime(day.year, day.month, day.day, 20, tzinfo=dep.planned_departure.tzinfo)
    dep.planned_departure, dep.closing_time = leaves, leaves - timedelta(hours=4)
    dep.planned_arrival = dep.actual_arrival = leaves + timedelta(hours=8)
    dep.actual_departure = leaves
    dep.save()
    return dep


@pytest.fixture(params=list(ROLLED_UP_TO))
def mixed(request, mixed_data):
    today = ROLLED_UP_TO[request.param]
    if today is not None:
        figures_refresh(today=today)
    return mixed_data


def compute(actor, **filters):
    return figures_compute(figure_query(actor=actor, **PERIOD, **filters))


def each_direction(actor, **filters) -> dict:
    return {direction: compute(actor, direction=direction, **filters) for direction in ("", "export", "import")}


def test_on_schedule_rate_per_direction_and_in_all(mixed, port_actor):
    figures = each_direction(port_actor)

    def rate(f):
        return f["on_schedule"]["containers"], f["on_schedule"]["on_schedule"], f["on_schedule"]["rate"]

    assert rate(figures["export"]) == (20, 19, 95.0)
    assert rate(figures["import"]) == (5, 3, 60.0)  # c1, c2 and c5 by their promised day; c3 a day late; c4 never
    assert rate(figures[""]) == (25, 22, 88.0)
    assert figures[""]["on_schedule"]["by_direction"] == {
        "export": {"containers": 20, "on_schedule": 19, "rate": 95.0},
        "import": {"containers": 5, "on_schedule": 3, "rate": 60.0}}
    assert [(m["month"], m["total"], m["on_schedule"]) for m in figures["import"]["on_schedule"]["by_month"]] == [
        (date(2025, 3, 1), 4, 2), (date(2025, 4, 1), 1, 1)]
    assert figures["import"]["direction"] == "import" and figures[""]["direction"] is None


def test_teu_load_factor_and_cost_per_direction(mixed, port_actor):
    figures = each_direction(port_actor)

    assert [figures[d]["throughput"]["teu"] for d in ("", "export", "import")] == [33, 26, 7]
    assert [(row["code"], row["teu"], row["bookings"]) for row in figures["import"]["throughput"]["by_station"]] == [
        ("YIWU-W", 7, 2)]
    assert [(row["month"], row["teu"]) for row in figures[""]["throughput"]["by_month"]] == [
        (date(2025, 3, 1), 26), (date(2025, 4, 1), 7)]
    load = {d: figures[d]["load_factor"] for d in figures}
    assert (load["import"]["departures"], load["import"]["booked_teu"], load["import"]["rate"]) == (2, 7, 7.0)
    assert (load[""]["departures"], load[""]["booked_teu"], load[""]["capacity_teu"]) == (5, 33, 380)
    assert (load["export"]["departures"], load["export"]["rate"]) == (3, 9.3)
    cost = figures["import"]["cost"]
    assert (cost["containers"], cost["sea_rail"], cost["road"], cost["saving"]) == (5, 11100.0, 16900.0, 5800.0)
    assert (cost["sea_rail_per_container"], cost["saving_per_container"]) == (2220.0, 1160.0)
    assert figures[""]["cost"]["saving"] == 21410.0 + 5800.0
    assert figures["export"]["cost"]["saving"] == 21410.0


def test_empty_wait_and_clearance_per_direction(mixed, port_actor):
    figures = each_direction(port_actor)

    assert [figures[d]["empty_wait"]["requests"] for d in ("", "export", "import")] == [11, 11, 0]
    assert figures["import"]["empty_wait"]["median_hours"] is None
    clearance = {d: figures[d]["clearance"] for d in figures}
    assert (clearance["import"]["released"], clearance["import"]["median_hours"]) == (1, 16.5)
    assert (clearance["export"]["released"], clearance["export"]["median_hours"]) == (3, 6.0)
    assert (clearance[""]["released"], clearance[""]["median_hours"]) == (4, 8.0)  # 4, 6, 10, 16.5
    assert [row["chapter"] for row in figures["import"]["cargo_mix"]] == ["84"]


def test_dwell_at_the_station_from_discharge_to_gate_out(mixed, port_actor):
    figures = each_direction(port_actor)

    dwell = figures["import"]["dwell"]
    # 9, 72, 132 and 194 hours: median between the middle two, 90th percentile at rank 2.7.
    assert (dwell["containers"], dwell["median_hours"], dwell["p90_hours"], dwell["mean_hours"]) == (
        4, 102.0, 175.4, 101.8)
    assert [(m["month"], m["containers"], m["median_hours"]) for m in dwell["by_month"]] == [
        (date(2025, 3, 1), 3, 132.0), (date(2025, 4, 1), 1, 9.0)]
    assert figures[""]["dwell"] == dwell
    assert figures["export"]["dwell"]["containers"] == 0


def test_detention_days_and_the_charges_of_both_clocks(mixed, port_actor):
    figures = each_direction(port_actor)

    detention = figures["import"]["detention"]
    assert (detention["containers"], detention["median_days"], detention["p90_days"], detention["mean_days"]) == (
        2, 10.0, 13.2, 10.0)  # 6 and 14 days
    assert [(m["month"], m["containers"]) for m in detention["by_month"]] == [
        (date(2025, 3, 1), 1), (date(2025, 4, 1), 1)]  # returned 30 March and 12 April
    charges = figures["import"]["free_time_charges"]
    assert charges["demurrage"] == {"containers": 4, "charged": 1, "chargeable_days": 3,
                                    "amounts": [{"currency": "CNY", "amount": 900.0}]}
    assert charges["detention"] == {"containers": 2, "charged": 1, "chargeable_days": 4,
                                    "amounts": [{"currency": "CNY", "amount": 800.0}]}
    assert figures[""]["free_time_charges"] == charges
    assert figures["export"]["free_time_charges"]["demurrage"]["amounts"] == []


def test_the_figures_charge_what_each_container_page_shows(mixed):
    """The SQL of the figures and inbound.services' free-time clocks give the same days and money."""
    c1, c2, c3, _c4, c5 = (Container.objects.select_related("booking__departure__service__station",
                                                            "booking__vessel_call").get(pk=c.pk)
                           for c in mixed.imports)
    demurrage = [demurrage_of(c) for c in (c1, c2, c3, c5)]
    assert [(clock.chargeable_days, clock.charges) for clock in demurrage] == [
        (0, Decimal("0.00")), (3, Decimal("900.00")), (0, Decimal("0.00")), (0, Decimal("0.00"))]
    detention = [detention_of(c) for c in (c1, c2)]
    assert [(clock.days_used, clock.chargeable_days, clock.charges) for clock in detention] == [
        (6, 0, Decimal("0.00")), (14, 4, Decimal("800.00"))]


def test_match_back_share_and_empty_kilometres_saved(mixed, port_actor):
    figures = each_direction(port_actor)

    match = figures["export"]["match_back"]
    assert (match["empties"], match["matched"], match["share"], match["km_saved"]) == (3, 1, 33.3, 310)
    assert [(m["month"], m["empties"], m["matched"], m["share"]) for m in match["by_month"]] == [
        (date(2025, 3, 1), 0, 0, None), (date(2025, 4, 1), 3, 1, 33.3)]
    assert figures[""]["match_back"] == match
    assert (figures["import"]["match_back"]["empties"], figures["import"]["match_back"]["share"]) == (0, None)


def test_each_party_sees_its_part_by_direction(mixed):
    shipper_a = compute(mixed.shipper.actor, direction="import")
    assert shipper_a["throughput"]["teu"] == 6 and shipper_a["on_schedule"]["containers"] == 4
    assert shipper_a["dwell"]["containers"] == 3
    shipper_b = compute(mixed.other_shipper.actor, direction="import")
    assert (shipper_b["on_schedule"]["containers"], shipper_b["on_schedule"]["rate"]) == (1, 100.0)
    assert shipper_b["free_time_charges"]["demurrage"]["amounts"] == [{"currency": "CNY", "amount": 0.0}]
    assert compute(mixed.other_shipper.actor, direction="export")["match_back"]["empties"] == 0

    operator = compute(Actor(organisation=mixed.network.operator), direction="import")
    assert operator["throughput"]["teu"] == 7 and operator["detention"]["containers"] == 2
    jinhua = factories.organisation("station_operator", code="jinhua-ops")
    mixed.network.jinhua.operator = jinhua
    mixed.network.jinhua.save()
    assert compute(Actor(organisation=jinhua), direction="import")["dwell"]["containers"] == 0

    government = compute(Actor(organisation=factories.organisation("local_government", city="Yiwu")),
                         direction="import")
    assert government["free_time_charges"] is None and government["cost"] is None  # nothing commercial
    assert government["dwell"]["containers"] == 4


def test_an_unknown_direction_is_a_field_error(mixed, port_actor):
    with pytest.raises(InvalidInput) as refused:
        figure_query(actor=port_actor, direction="sideways")
    assert "direction" in refused.value.errors


def test_the_refresh_rolls_up_the_import_side_by_day_and_month(mixed_data):
    refreshed = figures_refresh(today=date(2025, 7, 1))

    days = {"span": RollupSpan.DAY}
    assert sorted(ImportContainerDay.objects.filter(**days).values_list("day", "containers", "on_schedule")) == [
        (date(2025, 3, 21), 4, 2), (date(2025, 4, 11), 1, 1)]  # dated by the planned arrival
    assert sorted(StationDwell.objects.filter(**days).values_list("day", "containers", "chargeable_days",
                                                                   "charges")) == [
        (date(2025, 3, 24), 1, 0, 0), (date(2025, 3, 26), 1, 0, 0), (date(2025, 3, 29), 1, 3, 900),
        (date(2025, 4, 11), 1, 0, 0)]
    assert sorted(DetentionTime.objects.filter(**days).values_list("day", "currency", "charged", "charges")) == [
        (date(2025, 3, 30), "CNY", 0, 0), (date(2025, 4, 12), "CNY", 1, 800)]
    assert list(MatchBackDay.objects.filter(**days).values_list("day", "empties", "matched", "km_saved")) == [
        (date(2025, 4, 2), 3, 1, 310)]
    months = {"span": RollupSpan.MONTH}
    assert sorted(StationDwell.objects.filter(**months).values_list("day", "containers")) == [
        (date(2025, 3, 1), 1), (date(2025, 3, 1), 1), (date(2025, 3, 1), 1), (date(2025, 4, 1), 1)]  # by bucket
    assert refreshed.rows["inbound_importcontainerday"] == 2 and refreshed.rows["inbound_matchbackday"] == 1


def test_a_late_gate_out_is_picked_up_by_the_hourly_refresh(mixed_data, port_actor):
    figures_refresh(today=date(2025, 4, 20))
    c4 = Container.objects.get(pk=mixed_data.imports[3].pk)
    c4.available_at, c4.delivered_at = shanghai(date(2025, 4, 18), 9), shanghai(date(2025, 4, 19), 9)
    c4.status = ContainerStatus.DELIVERED
    c4.save()
    before = compute(port_actor, direction="import")["dwell"]["containers"]

    figures_refresh(today=date(2025, 4, 21), lookback_days=3)

    after = compute(port_actor, direction="import")
    assert (before, after["dwell"]["containers"]) == (4, 5)
    # 21 March -> 19 April in Yiwu's calendar: 29 days, 24 of them charged, a 40-foot box (2 TEU) at CNY 150.
    assert after["free_time_charges"]["demurrage"]["amounts"] == [{"currency": "CNY", "amount": 900.0 + 7200.0}]
    assert after["on_schedule"]["on_schedule"] == 3  # available, but weeks after its promised day


def test_an_import_whose_promised_day_is_ahead_is_not_judged_yet(mixed_data, port_actor):
    from django.utils import timezone

    n = mixed_data.network
    inbound = mixed_data.imports[0].booking.departure.service
    today = timezone.localdate()
    ahead = _import_departure(inbound, today + timedelta(days=1), booked=1)
    booking = _import_booking(mixed_data.shipper.org, ahead, mixed_data.imports[0].booking.vessel_call,
                              {"22G1": 1}, BookingStatus.CONFIRMED)
    _box(booking, "22G1")
    assert n.yiwu.code == "YIWU-W"

    figures = figures_compute(figure_query(actor=port_actor, date_from=PERIOD["date_from"],
                                           date_to=today + timedelta(days=2), direction="import"))

    assert (figures["on_schedule"]["containers"], figures["throughput"]["teu"]) == (5, 8)
