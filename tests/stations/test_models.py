"""The network's invariants hold in the database itself, whatever writes to it."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, connection, transaction
from django.db.models import F

from stations.models import Departure, Location, Station, VesselCall
from tests import factories

pytestmark = pytest.mark.django_db


def test_departure_cannot_be_overbooked_by_an_orm_update(network):
    departure = Departure.objects.filter(service=network.yiwu_rail).first()

    with pytest.raises(IntegrityError), transaction.atomic():
        Departure.objects.filter(pk=departure.pk).update(booked_teu=F("capacity_teu") + 1)

    departure.refresh_from_db()
    assert departure.booked_teu == 0


def test_departure_cannot_be_overbooked_by_raw_sql(network):
    departure = Departure.objects.filter(service=network.yiwu_rail).first()

    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE stations_departure SET booked_teu = capacity_teu + 1 WHERE id = %s", [departure.pk]
        )

    departure.refresh_from_db()
    assert departure.booked_teu == 0


def test_departure_filled_exactly_to_capacity_is_allowed(network):
    departure = Departure.objects.filter(service=network.yiwu_rail).first()

    Departure.objects.filter(pk=departure.pk).update(booked_teu=F("capacity_teu"))

    departure.refresh_from_db()
    assert departure.teu_free == 0


def test_departure_times_must_be_ordered(network):
    departure = Departure.objects.filter(service=network.yiwu_rail).first()

    with pytest.raises(IntegrityError), transaction.atomic():
        Departure.objects.filter(pk=departure.pk).update(closing_time=F("planned_departure") + timedelta(hours=1))
    with pytest.raises(IntegrityError), transaction.atomic():
        Departure.objects.filter(pk=departure.pk).update(planned_arrival=F("planned_departure"))


def test_one_departure_per_service_and_day(network):
    departure = Departure.objects.filter(service=network.yiwu_rail).first()

    with pytest.raises(IntegrityError), transaction.atomic():
        Departure.objects.create(
            reference="another-ref", service=departure.service, service_date=departure.service_date,
            capacity_teu=10, closing_time=departure.closing_time, planned_departure=departure.planned_departure,
            planned_arrival=departure.planned_arrival,
        )


@pytest.mark.parametrize("imo", ["9811001", "1234568", "0000001"])
def test_vessel_call_with_a_wrong_imo_check_digit_is_refused_by_the_database(network, imo):
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.vessel_call(network.beilun, etd=network.vessel_call.etd, imo=imo)


@pytest.mark.parametrize("imo", ["981100", "98110000", "IMO9811", "98a1000"])
def test_vessel_call_with_a_malformed_imo_is_refused_by_the_database(network, imo):
    # Too long is refused by the column's length (DataError), the rest by the format check.
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        factories.vessel_call(network.beilun, etd=network.vessel_call.etd, imo=imo)


def test_imo_validation_explains_the_check_digit(network):
    call = network.vessel_call
    call.imo_number = "9811001"

    with pytest.raises(ValidationError) as error:
        call.full_clean()

    assert "imo_number" in error.value.message_dict
    assert "check digit" in error.value.message_dict["imo_number"][0]


def test_valid_imo_numbers_are_accepted(network):
    # 9074729 (a real IMO number) and 9811000 both carry valid check digits.
    call = factories.vessel_call(network.beilun, etd=network.vessel_call.etd, imo="9074729")

    call.full_clean()
    assert VesselCall.objects.filter(imo_number="9074729").exists()


def test_vessel_call_cut_offs_must_come_before_departure(network):
    call = network.vessel_call

    with pytest.raises(IntegrityError), transaction.atomic():
        VesselCall.objects.filter(pk=call.pk).update(cy_cutoff=F("etd") + timedelta(minutes=1))
    with pytest.raises(IntegrityError), transaction.atomic():
        VesselCall.objects.filter(pk=call.pk).update(eta=F("etd"))


@pytest.mark.parametrize("code", ["cnyiu", "CN1AB", "CNYI", "CNYIUU", "12345"])
def test_malformed_unlocodes_are_refused_by_the_database(db, code):
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        Location.objects.create(unlocode=code, name="Nowhere")
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        factories.station("BAD", unlocode=code)


def test_unlocode_of_an_unknown_country_is_refused_on_validation(db):
    station = Station(code="NOWHERE", name="x", name_zh="x", city="x", city_zh="x", province="x", province_zh="x",
                      unlocode="XQABC")

    with pytest.raises(ValidationError) as error:
        station.full_clean()

    assert "ISO 3166" in error.value.message_dict["unlocode"][0]


def test_station_codes_are_unique(db):
    factories.station("YIWU-W")

    with pytest.raises(IntegrityError), transaction.atomic():
        factories.station("YIWU-W")


def test_service_weekdays_are_validated(network):
    service = network.yiwu_rail
    for bad in ([], [0], [8], [1, 1], "1,2", [True]):
        service.weekdays = bad
        with pytest.raises(ValidationError):
            service.full_clean()


def test_tariff_saving_against_road(network):
    tariff = network.yiwu_rail.tariffs.get(container_size="20")

    assert tariff.total == tariff.transport_price + tariff.port_handling + tariff.documentation
    assert tariff.saving == tariff.road_haulage_price - tariff.total
    assert tariff.saving > 0


def test_station_time_zone_and_service_dangerous_goods_classes_are_validated(network):
    network.yiwu.timezone = "Asia/Ningbo"
    with pytest.raises(ValidationError) as error:
        network.yiwu.full_clean()
    assert "timezone" in error.value.message_dict

    network.yiwu_rail.dangerous_goods_classes = ["3", "10"]
    with pytest.raises(ValidationError) as error:
        network.yiwu_rail.full_clean()
    assert "dangerous_goods_classes" in error.value.message_dict
