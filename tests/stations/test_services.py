"""Departures are generated from timetables: idempotent, on the right weekdays, in the station's time zone."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from stations import services as station_services
from stations.models import Departure
from stations.services import departures_generate
from tests import factories

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 11, 30)


@pytest.fixture
def parties(db):
    return factories.organisation("railway"), factories.terminal("BEILUN")


def test_generation_is_idempotent(parties):
    railway, beilun = parties
    factories.service(factories.station("YIWU-W"), beilun, railway, weekdays=[1, 2, 3, 4, 5, 6, 7])

    first = departures_generate(days=14, start=MONDAY)
    second = departures_generate(days=14, start=MONDAY)

    assert first == 14
    assert second == 0
    assert Departure.objects.count() == 14


def test_generation_extends_the_horizon_without_touching_existing_departures(parties):
    railway, beilun = parties
    svc = factories.service(factories.station("YIWU-W"), beilun, railway, weekdays=[1, 2, 3, 4, 5, 6, 7])
    departures_generate(days=7, start=MONDAY)
    Departure.objects.filter(service_date=MONDAY).update(booked_teu=40)

    created = departures_generate(days=10, start=MONDAY)

    assert created == 3
    assert Departure.objects.get(service=svc, service_date=MONDAY).booked_teu == 40


def test_only_the_service_weekdays_get_departures(parties):
    railway, beilun = parties
    factories.service(factories.station("JINHUA-E"), beilun, railway, weekdays=[1, 3, 5])

    departures_generate(days=14, start=MONDAY)

    dates = list(Departure.objects.order_by("service_date").values_list("service_date", flat=True))
    assert [d.isoweekday() for d in dates] == [1, 3, 5, 1, 3, 5]
    assert dates[0] == MONDAY


def test_times_are_the_station_local_time_stored_in_utc(parties):
    railway, beilun = parties
    factories.service(factories.station("YIWU-W"), beilun, railway, departure_time=time(9, 30), transit_hours=8,
                      closing_hours=4, teu_capacity=96)

    departures_generate(days=1, start=MONDAY)

    departure = Departure.objects.get()
    # 09:30 in Shanghai (UTC+8) is 01:30 UTC.
    assert departure.planned_departure == datetime(2026, 11, 30, 1, 30, tzinfo=UTC)
    assert departure.closing_time == departure.planned_departure - timedelta(hours=4)
    assert departure.planned_arrival == departure.planned_departure + timedelta(hours=8)
    assert departure.capacity_teu == 96
    assert departure.reference.endswith("-20261130")


def test_a_station_in_another_time_zone_uses_its_own(parties):
    railway, beilun = parties
    urumqi = factories.station("URUMQI", city="Urumqi", unlocode="CNURC", timezone="Asia/Urumqi")
    factories.service(urumqi, beilun, railway, departure_time=time(10, 0), transit_hours=120)

    departures_generate(days=1, start=MONDAY)

    # Asia/Urumqi is UTC+6: 10:00 there is 04:00 UTC.
    assert Departure.objects.get().planned_departure == datetime(2026, 11, 30, 4, 0, tzinfo=UTC)


def test_today_is_the_station_today_not_the_server_day(parties, monkeypatch):
    railway, beilun = parties
    factories.service(factories.station("YIWU-W"), beilun, railway, weekdays=[1, 2, 3, 4, 5, 6, 7])
    # 20:00 UTC on Sunday 29 November is already 04:00 on Monday 30 November in Shanghai.
    monkeypatch.setattr(station_services.timezone, "now", lambda: datetime(2026, 11, 29, 20, 0, tzinfo=UTC))

    departures_generate(days=2)

    assert sorted(Departure.objects.values_list("service_date", flat=True)) == [MONDAY, MONDAY + timedelta(days=1)]


def test_inactive_services_get_no_departures(parties):
    railway, beilun = parties
    factories.service(factories.station("YIWU-W"), beilun, railway, is_active=False)

    assert departures_generate(days=7, start=MONDAY) == 0
    assert not Departure.objects.exists()


def test_generate_departures_command_reports_what_it_created(parties):
    from io import StringIO

    from django.core.management import call_command

    railway, beilun = parties
    factories.service(factories.station("YIWU-W"), beilun, railway, weekdays=[1, 2, 3, 4, 5, 6, 7])
    first, second = StringIO(), StringIO()

    call_command("generate_departures", "--days", "3", stdout=first)
    call_command("generate_departures", "--days", "3", stdout=second)

    assert first.getvalue().startswith("3 departures created")
    assert second.getvalue().startswith("0 departures created")
    assert Departure.objects.count() == 3
