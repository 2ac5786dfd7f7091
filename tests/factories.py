"""Small factories for tests: real rows made the way the product makes them, with sensible defaults."""

import itertools
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from django.utils import timezone

from intermodal.access import api_key_create
from intermodal.models import Organisation, PartyKind, User
from stations.models import Location, Service, Station, Tariff, Terminal, VesselCall
from stations.services import departures_generate

SHANGHAI = ZoneInfo("Asia/Shanghai")
_seq = itertools.count(1)


def organisation(kind: str = PartyKind.ENTERPRISE, code: str | None = None, **fields) -> Organisation:
    n = next(_seq)
    return Organisation.objects.create(code=code or f"org-{kind}-{n}", name=f"Org {kind} {n}", kind=kind, **fields)


def user(org: Organisation | None = None, username: str | None = None, **fields) -> User:
    org = org or organisation()
    u = User.objects.create_user(username=username or f"user{next(_seq)}", password="pw-Strong-123", organisation=org,
                                 **fields)
    return u


def api_key(org: Organisation, scopes=None, **fields):
    return api_key_create(organisation=org, name="test", scopes=scopes, **fields)


def station(code: str = "YIWU-W", operator: Organisation | None = None, **fields) -> Station:
    defaults = {
        "name": "Yiwu West", "name_zh": "义乌西", "city": "Yiwu", "city_zh": "义乌", "province": "Zhejiang",
        "province_zh": "浙江", "unlocode": "CNYIU", "operator": operator,
    }
    defaults.update(fields)
    return Station.objects.create(code=code, **defaults)


def terminal(code: str = "BEILUN", operator: Organisation | None = None, **fields) -> Terminal:
    defaults = {"name": "Beilun", "name_zh": "北仑", "unlocode": "CNBLG", "port_unlocode": "CNNGB",
                "operator": operator, "handling_buffer_hours": 6}
    defaults.update(fields)
    return Terminal.objects.create(code=code, **defaults)


def service(station: Station, terminal: Terminal, operator: Organisation, code: str | None = None,
            **fields) -> Service:
    defaults = {"mode": "RAIL", "weekdays": [1, 2, 3, 4, 5, 6, 7], "departure_time": time(9, 30),
                "transit_hours": 8, "closing_hours": 4, "teu_capacity": 100, "distance_km": 300}
    defaults.update(fields)
    svc = Service.objects.create(code=code or f"{station.code}-{terminal.code}-{next(_seq)}", station=station,
                                 terminal=terminal, operator=operator, **defaults)
    for size, price in (("20", "1350"), ("40", "2200"), ("45", "2400")):
        Tariff.objects.create(service=svc, container_size=size, transport_price=Decimal(price),
                              port_handling=Decimal("380"), documentation=Decimal("150"),
                              road_haulage_price=Decimal(price) * 2)
    return svc


def vessel_call(terminal: Terminal, etd: datetime, imo: str = "9811000", voyage: str | None = None,
                destinations=("NLRTM",), reference: str | None = None, **fields) -> VesselCall:
    voyage = voyage or f"{next(_seq):03d}W"
    defaults = {
        "vessel_name": "Demo Express", "carrier": "COSCO Shipping", "carrier_scac": "COSU",
        "eta": etd - timedelta(hours=30), "cy_cutoff": etd - timedelta(hours=24),
        "vgm_cutoff": etd - timedelta(hours=24), "si_cutoff": etd - timedelta(hours=48),
        "customs_cutoff": etd - timedelta(hours=24), "dg_cutoff": etd - timedelta(hours=72),
    }
    defaults.update(fields)
    call = VesselCall.objects.create(reference=reference or f"{imo}-{voyage}", imo_number=imo, voyage=voyage,
                                     terminal=terminal, etd=etd, **defaults)
    for code in destinations:
        location, _ = Location.objects.get_or_create(unlocode=code, defaults={"name": code})
        call.destinations.add(location)
    return call


def shanghai(d: date, hour: int, minute: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=SHANGHAI)


def small_network() -> SimpleNamespace:
    railway = organisation(PartyKind.RAILWAY, code="rail-co")
    port = organisation(PartyKind.PORT, code="port-co")
    operator = organisation(PartyKind.STATION_OPERATOR, code="yiwu-ops")
    yiwu = station("YIWU-W", operator=operator)
    jinhua = station("JINHUA-E", name="Jinhua East", name_zh="金华东", city="Jinhua", city_zh="金华",
                     unlocode="CNJHA")
    beilun = terminal("BEILUN", operator=port)
    yiwu_rail = service(yiwu, beilun, railway, code="YIWU-W-BLG-R")
    jinhua_rail = service(jinhua, beilun, railway, code="JINHUA-E-BLG-R", weekdays=[1, 3, 5], transit_hours=10,
                          teu_capacity=80)
    today = timezone.localdate()
    departures_generate(days=14, start=today)
    call = vessel_call(beilun, etd=shanghai(today + timedelta(days=5), 18))
    return SimpleNamespace(railway=railway, port=port, operator=operator, yiwu=yiwu, jinhua=jinhua, beilun=beilun,
                           yiwu_rail=yiwu_rail, jinhua_rail=jinhua_rail, vessel_call=call, today=today)


VALID_USCC = "91110000600037341L"


def goods_line(**fields) -> dict:
    line = {"hs_code": "9503008900", "description": "Plastic toys", "quantity": "1200", "unit": "pcs",
            "gross_weight_kg": "18000", "value": "36000", "currency": "USD", "origin_country": "CN", "un_number": ""}
    line.update(fields)
    return line


def inspection_offices(station: Station) -> tuple[Organisation, Organisation]:
    """A customs office and a border-inspection office that cover the station."""
    customs = organisation(PartyKind.CUSTOMS, code=f"customs-{station.code.lower()}")
    ciq = organisation(PartyKind.BORDER_INSPECTION, code=f"ciq-{station.code.lower()}")
    station.inspection_offices.add(customs, ciq)
    return customs, ciq


def declaration_released(booking, numbers=None):
    """Declare the booking's goods for its containers and have both agencies clear them: pre-release."""
    from customs import services as customs_services
    from intermodal.access import Actor

    station = booking.departure.service.station
    offices = list(station.inspection_offices.order_by("kind")) or list(inspection_offices(station))
    shipper = Actor(organisation=booking.shipper)
    numbers = numbers if numbers is not None else list(booking.containers.values_list("number", flat=True))
    declaration = customs_services.declaration_create(
        actor=shipper, booking=booking, trade_mode="0110",
        transport_mode="vessel_rail" if booking.is_import else "rail_vessel",
        lines=[goods_line(gross_weight_kg=str(booking.cargo_weight_kg))], containers=numbers,
        declarant_uscc=booking.shipper.uscc or VALID_USCC,
    )
    customs_services.declaration_submit(actor=shipper, declaration=declaration)
    for office in offices:
        customs_services.declaration_decide(actor=Actor(organisation=office), declaration=declaration,
                                            kind="clear", reason="Documents in order")
    declaration.refresh_from_db()
    return declaration
