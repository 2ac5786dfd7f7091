"""A hand-made data set whose figures are known: March-April 2025 on the small network.

On schedule: 20 containers whose first-booked vessel (V1) sailed in March; 19 went on it, 1 was rolled.
Empty waits: shipper A's 10 requests waited 1..10 hours; shipper B's one waited 100 hours.
Clearance: 4 h (no inspection), 10 h (inspected), 6 h (no inspection).
"""

from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from stdnum import iso6346

from bookings.models import Booking, BookingLine, BookingStatus, Container, ContainerStatus, EmptyRequest
from customs.models import Declaration, DeclarationStatus, GoodsLine, Inspection
from intermodal.access import Actor
from intermodal.models import PartyKind
from stations.models import Departure, DepartureStatus, Location
from tests import factories
from tests.factories import shanghai

PERIOD = {"date_from": date(2025, 3, 1), "date_to": date(2025, 4, 30)}
PRICES = {"22G1": (Decimal("1880"), Decimal("2700")), "42G1": (Decimal("2730"), Decimal("4400"))}
_numbers = iter(range(1, 10_000))


def container_number() -> str:
    body = f"TSTU{next(_numbers):06d}"
    return body + iso6346.calc_check_digit(body)


def departure(service, day: date, *, capacity: int, booked: int, status=DepartureStatus.DEPARTED) -> Departure:
    leaves = shanghai(day, 9, 30)
    return Departure.objects.create(
        reference=f"{service.code}-{day:%Y%m%d}", service=service, service_date=day, capacity_teu=capacity,
        booked_teu=booked, closing_time=leaves - timedelta(hours=4), planned_departure=leaves,
        planned_arrival=leaves + timedelta(hours=8), actual_departure=leaves,
        actual_arrival=leaves + timedelta(hours=8),
        status=status,
    )


def booking(shipper, dep, call, size_type: str, quantity: int, *, status=BookingStatus.SAILED, original=None,
            container_status=ContainerStatus.SAILED) -> Booking:
    unit, road = PRICES[size_type]
    teu = (1 if size_type.startswith("2") else 2) * quantity
    b = Booking.objects.create(
        reference=f"BK-2025-{next(_numbers):06d}", shipper=shipper, departure=dep, vessel_call=call,
        original_vessel_call=original or call, destination=Location.objects.get(unlocode="NLRTM"), status=status,
        teu=teu, commodity="Toys", cargo_weight_kg=Decimal("10000"), quote_transport=unit * quantity,
        quote_port_handling=0, quote_documentation=0, quote_total=unit * quantity, quote_road_haulage=road * quantity,
        quote_saving=(road - unit) * quantity, quoted_at=dep.planned_departure - timedelta(days=3),
        roll_count=1 if original else 0,
    )
    BookingLine.objects.create(booking=b, size_type=size_type, quantity=quantity, teu=teu, unit_price=unit,
                               unit_road_price=road)
    active = status != BookingStatus.CANCELLED
    Container.objects.bulk_create([
        Container(booking=b, number=container_number(), size_type=size_type, status=container_status,
                  is_active=active and container_status != ContainerStatus.SAILED)
        for _ in range(quantity)
    ])
    return b


def empty_request(b: Booking, requested_at, wait_hours: float | None) -> EmptyRequest:
    request = EmptyRequest.objects.create(booking=b, size_type=b.lines.first().size_type, quantity=1)
    picked = requested_at + timedelta(hours=wait_hours) if wait_hours is not None else None
    EmptyRequest.objects.filter(pk=request.pk).update(
        requested_at=requested_at, picked_up_at=picked, handed_out=1 if picked else 0,
        status="picked_up" if picked else "requested",
    )
    return request


def declaration(b: Booking, submitted_at, hours: float, *, inspected: bool, hs_code: str, kg: str) -> Declaration:
    d = Declaration.objects.create(
        reference=f"SD-{b.reference}", booking=b, declarant=b.shipper, declarant_uscc=factories.VALID_USCC,
        station=b.departure.service.station, trade_mode="0110", transport_mode="rail_vessel",
        status=DeclarationStatus.RELEASED, submitted_at=submitted_at, released_at=submitted_at + timedelta(hours=hours),
    )
    GoodsLine.objects.create(declaration=d, line_no=1, hs_code=hs_code, description="Goods", quantity=1, unit="pcs",
                             gross_weight_kg=Decimal(kg), value=Decimal("1000"), currency="USD", origin_country="CN")
    if inspected:
        Inspection.objects.create(declaration=d, requested_by="customs", result="passed")
    return d


@pytest.fixture
def figures_data(network, shipper, other_shipper):
    n = network
    v1 = factories.vessel_call(n.beilun, etd=shanghai(date(2025, 3, 15), 18), imo="9811000",
                               actual_departure=shanghai(date(2025, 3, 15), 20))
    v2 = factories.vessel_call(n.beilun, etd=shanghai(date(2025, 3, 20), 18), imo="9811000",
                               actual_departure=shanghai(date(2025, 3, 20), 19))
    later = factories.vessel_call(n.beilun, etd=shanghai(date(2025, 6, 1), 18), imo="9811000",
                                  actual_departure=shanghai(date(2025, 6, 1), 19))
    d1 = departure(n.yiwu_rail, date(2025, 3, 10), capacity=100, booked=19)
    d2 = departure(n.jinhua_rail, date(2025, 3, 12), capacity=80, booked=1)
    d3 = departure(n.yiwu_rail, date(2025, 4, 5), capacity=100, booked=6)
    departure(n.yiwu_rail, date(2025, 4, 6), capacity=100, booked=0, status=DepartureStatus.CANCELLED)
    a, b = shipper.org, other_shipper.org
    b1 = booking(a, d1, v1, "22G1", 10)
    b2 = booking(a, d1, v1, "22G1", 9)
    b3 = booking(b, d2, v2, "22G1", 1, original=v1)  # rolled from V1 to V2: sailed, but not on schedule
    booking(a, d1, v1, "22G1", 2, status=BookingStatus.CANCELLED, container_status=ContainerStatus.ASSIGNED)
    b5 = booking(a, d3, later, "42G1", 3, status=BookingStatus.CONFIRMED, container_status=ContainerStatus.GATED_IN)
    march = shanghai(date(2025, 3, 2), 8)
    for hours in range(1, 11):
        empty_request(b1, march + timedelta(hours=hours), hours)
    empty_request(b3, march, 100)
    empty_request(b2, march, None)  # never picked up: no wait yet
    declaration(b1, march, 4, inspected=False, hs_code="9503008900", kg="10000")
    declaration(b2, march, 10, inspected=True, hs_code="9403609990", kg="5000")
    declaration(b3, march, 6, inspected=False, hs_code="6109100021", kg="2000")
    return SimpleNamespace(network=n, shipper=shipper, other_shipper=other_shipper, bookings=(b1, b2, b3, b5))


def actor_of(kind: str, **fields) -> Actor:
    return Actor(organisation=factories.organisation(kind, **fields))


@pytest.fixture
def port_actor(network):
    return Actor(organisation=network.port)


@pytest.fixture
def gov_actor(db):
    return actor_of(PartyKind.LOCAL_GOVERNMENT, province="Zhejiang")
