"""`seed_demo` loads the demo network of DESIGN.md section 7, with its logins, and is safe to run again."""

import io
from collections import Counter
from datetime import timedelta

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db.models import Q
from django.test import RequestFactory
from django.utils import timezone
from stdnum import imo as stdnum_imo
from stdnum.cn import uscc

from intermodal.models import Organisation, PartyKind, User
from stations import demo_data
from stations.management.commands.seed_demo import seed
from stations.models import (
    CarrierDetention,
    Departure,
    Direction,
    Location,
    Mode,
    Service,
    Station,
    Tariff,
    Terminal,
    VesselCall,
)

# The demo is seeded once for the module (tests/conftest.py demo_seeded); a test that runs the command again
# is a rerun, which must change nothing.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_seeded")]

EXPECTED_KINDS = {
    "demo-shipper-a": PartyKind.ENTERPRISE,
    "demo-shipper-b": PartyKind.ENTERPRISE,
    "demo-yiwu-station": PartyKind.STATION_OPERATOR,
    "demo-railway": PartyKind.RAILWAY,
    "demo-port": PartyKind.PORT,
    "demo-customs": PartyKind.CUSTOMS,
    "demo-ciq": PartyKind.BORDER_INSPECTION,
    "demo-msa": PartyKind.MARITIME_SAFETY,
    "demo-gov": PartyKind.LOCAL_GOVERNMENT,
    "demo-admin": PartyKind.PLATFORM_ADMIN,
}
COUNTED = (Organisation, User, Terminal, Location, Station, Service, Tariff, Departure, VesselCall, CarrierDetention)


def login_request():
    # django-axes counts failures per request (address, username): authenticate() needs the login's request.
    return RequestFactory().post("/login/")


def run_seed(*args) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


def test_running_it_twice_changes_nothing():
    first = counts()
    tariffs = list(Tariff.objects.order_by("pk").values())
    calls = list(VesselCall.objects.order_by("pk").values())

    run_seed("--quiet")

    assert counts() == first
    assert list(Tariff.objects.order_by("pk").values()) == tariffs
    assert list(VesselCall.objects.order_by("pk").values()) == calls
    assert all(count > 0 for count in first.values())


def test_the_network_has_24_stations_in_20_cities():

    stations = Station.objects.all()
    assert stations.count() == 24
    assert len({(s.province, s.city) for s in stations}) == 20
    assert Counter(s.province for s in stations) == {
        "Zhejiang": 11, "Anhui": 3, "Jiangxi": 4, "Shaanxi": 2, "Chongqing": 1, "Hunan": 1, "Gansu": 1,
        "Xinjiang": 1,
    }
    assert set(Station.objects.filter(operator__code="demo-yiwu-station").values_list("city", flat=True)) == {"Yiwu"}
    assert Station.objects.filter(operator__code="demo-yiwu-station").count() == 2
    offices = {"demo-customs", "demo-ciq"}
    assert all(set(s.inspection_offices.values_list("code", flat=True)) == offices for s in stations)
    assert Station.objects.filter(code="XUANCHENG", name="Xuancheng International Land Port").exists()
    assert Station.objects.filter(code__startswith="YIWU", issues_bills_of_lading=True).count() == 2

    assert set(Terminal.objects.values_list("code", flat=True)) == {
        "BEILUN", "CHUANSHAN", "MEISHAN", "DAXIE", "JINTANG"
    }
    assert set(Terminal.objects.values_list("operator__code", flat=True)) == {"demo-port"}
    assert Terminal.objects.get(code="JINTANG").port_unlocode == "CNZOS"
    assert Terminal.objects.filter(handling_buffer_hours__isnull=True).exists()


def test_every_station_has_a_service_and_huzhou_has_a_barge():

    assert not Station.objects.filter(services__isnull=True).exists()
    assert set(Service.objects.values_list("operator__code", flat=True)) == {"demo-railway"}
    # Both ways: each export line has its import service, terminal -> station, by the same mode.
    lines = {direction: sorted(Service.objects.filter(direction=direction).values_list(
        "station__code", "terminal__code", "mode", "distance_km", "transit_hours")) for direction in Direction.values}
    assert lines[Direction.IMPORT] == lines[Direction.EXPORT]
    assert Service.objects.get(code="BLG-YIWU-W-R").is_import
    assert Service.objects.filter(direction=Direction.IMPORT, mode=Mode.BARGE, station__code="DEQING-LH").exists()
    assert Service.objects.filter(mode=Mode.BARGE).exists()
    assert set(Service.objects.filter(station__code="DEQING-LH").values_list("mode", flat=True)) == {
        Mode.RAIL, Mode.BARGE
    }
    yiwu = Service.objects.get(code="YIWU-W-BLG-R")
    urumqi = Service.objects.get(station__code="URUMQI", direction=Direction.EXPORT)
    assert yiwu.weekdays == [1, 2, 3, 4, 5, 6, 7]
    assert yiwu.transit_hours < urumqi.transit_hours
    assert yiwu.distance_km < urumqi.distance_km


def test_every_service_has_a_tariff_per_size_with_road_haulage_dearer():

    for service in Service.objects.prefetch_related("tariffs"):
        tariffs = {t.container_size: t for t in service.tariffs.all()}
        assert set(tariffs) == {"20", "40", "45"}, service.code
        for tariff in tariffs.values():
            assert tariff.currency == "CNY"
            assert tariff.road_haulage_price > tariff.total, tariff
            assert tariff.transport_price.as_tuple().exponent == -2
        assert tariffs["20"].total < tariffs["40"].total <= tariffs["45"].total
    yiwu = Tariff.objects.get(service__code="YIWU-W-BLG-R", container_size="20")
    urumqi = Tariff.objects.get(service__code="URUMQI-BLG-R", container_size="20")
    assert urumqi.transport_price > yiwu.transport_price
    assert urumqi.saving > yiwu.saving


def test_each_organisation_has_its_kind_and_one_login_with_the_demo_password():
    run_seed("--quiet")

    assert dict(Organisation.objects.values_list("code", "kind")) == EXPECTED_KINDS
    for code in EXPECTED_KINDS:
        assert User.objects.filter(organisation__code=code).count() == 1, code
    for username, organisation, kind in demo_data.DEMO_USERS:
        user = authenticate(login_request(), username=username, password=demo_data.DEMO_PASSWORD)
        assert user is not None, username
        assert user.organisation.code == organisation
        assert user.party_kind == kind == EXPECTED_KINDS[organisation]
        assert user.email == f"{username}@demo.intermodal.example"
    assert {username for username, _, _ in demo_data.DEMO_USERS} == {
        "shipper-a", "shipper-b", "yiwu-staff", "railway", "port", "customs", "ciq", "msa", "gov", "admin"
    }
    admin = User.objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser
    assert not User.objects.exclude(username="admin").filter(is_superuser=True).exists()
    for code in ("demo-shipper-a", "demo-shipper-b"):
        assert uscc.is_valid(Organisation.objects.get(code=code).uscc)
    gov = Organisation.objects.get(code="demo-gov")
    assert (gov.province, gov.city) == ("Zhejiang", "")


def test_a_changed_password_survives_a_rerun():
    user = User.objects.get(username="shipper-a")
    user.set_password("my-own-secret-42")
    user.language = "zh-hans"
    user.save()

    run_seed("--quiet")

    assert authenticate(login_request(), username="shipper-a", password="my-own-secret-42") is not None
    assert authenticate(login_request(), username="shipper-a", password=demo_data.DEMO_PASSWORD) is None
    assert User.objects.get(username="shipper-a").language == "zh-hans"
    assert authenticate(login_request(), username="shipper-b", password=demo_data.DEMO_PASSWORD) is not None


def test_vessel_calls_cover_the_next_four_weeks_with_valid_imo_numbers_and_cutoffs():
    now = timezone.now()

    # The past weeks' calls that brought the demo's imports have arrived and sailed; the rest are to come.
    past = VesselCall.objects.filter(etd__lte=now)
    assert past.exists()
    assert not past.filter(Q(actual_arrival__isnull=True) | Q(actual_departure__isnull=True)).exists()
    calls = list(VesselCall.objects.filter(etd__gt=now).prefetch_related("destinations"))
    for week in range(4):
        start, end = now + timedelta(weeks=week), now + timedelta(weeks=week + 1)
        in_week = [c for c in calls if start <= c.etd < end]
        assert 3 <= len(in_week) <= 6, (week, in_week)
    for call in calls:
        assert stdnum_imo.is_valid(call.imo_number), call.imo_number
        assert call.etd > now
        assert call.eta < call.etd
        assert call.cy_cutoff <= call.etd and call.vgm_cutoff <= call.etd and call.customs_cutoff <= call.etd
        assert call.dg_cutoff < call.si_cutoff < call.cy_cutoff
        assert 2 <= call.destinations.count() <= 4
        assert call.carrier_scac in {"COSU", "MAEU", "MSCU", "CMDU", "ONEY", "EGLV", "HLCU", "OOLU"}
    served = {code for call in calls for code in call.destinations.values_list("unlocode", flat=True)}
    assert served == set(Location.objects.values_list("unlocode", flat=True))
    assert {"NLRTM", "DEHAM", "USLAX", "SGSIN", "AEJEA", "BRSSZ"} <= served
    assert len({c.terminal_id for c in calls}) >= 4


def test_vessel_calls_are_the_same_when_seeded_again_the_next_day():
    now = timezone.now()
    seed(now=now)
    first = set(VesselCall.objects.values_list("reference", flat=True))

    seed(now=now + timedelta(days=1))
    second = set(VesselCall.objects.values_list("reference", flat=True))

    assert first <= second
    # At most one more week's calls: the day may have crossed into a new ISO week.
    assert len(second - first) <= len(demo_data.VESSEL_STRINGS)


def test_departures_are_generated_for_every_service():

    assert Departure.objects.exists()
    assert not Service.objects.filter(departures__isnull=True).exists()
    yiwu = Departure.objects.filter(service__code="YIWU-W-BLG-R")
    assert yiwu.count() == 28
    assert all(d.capacity_teu == 100 and d.booked_teu == 0 for d in yiwu)
    inbound = Departure.objects.filter(service__code="BLG-YIWU-W-R", service_date__gte=timezone.localdate())
    assert inbound.count() == 28


def test_every_seeded_row_passes_model_validation():

    for model in (Organisation, User, Terminal, Location, Station, Service, Tariff, VesselCall, CarrierDetention):
        for obj in model.objects.all():
            obj.full_clean()


def test_every_demo_carrier_has_detention_terms():

    carriers = set(VesselCall.objects.values_list("carrier_scac", flat=True))
    terms = {t.carrier_scac: t for t in CarrierDetention.objects.all()}
    assert carriers <= set(terms)
    assert all(0 < t.free_days <= 14 and t.per_teu_day > 0 and t.currency == "CNY" for t in terms.values())


def test_imo_numbers_are_computed_from_six_digits():
    assert demo_data.imo_number("931946") == "9319466"
    assert stdnum_imo.is_valid(demo_data.imo_number("981231"))
    with pytest.raises(ValueError, match="six digits"):
        demo_data.imo_number("98123")


def test_the_command_prints_counts_and_the_logins_unless_quiet():
    loud = run_seed()
    quiet = run_seed("--quiet")

    assert "stations" in loud and "24" in loud
    for username, organisation, kind in demo_data.DEMO_USERS:
        assert username in loud and organisation in loud and kind in loud
    assert "demo1234" in loud
    assert "shipper-a" not in quiet
    assert "stations" in quiet
