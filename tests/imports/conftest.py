"""An import corridor: Beilun -> Yiwu West by rail, a vessel arriving at Beilun, a consignee and the parties."""

from datetime import time, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from inbound import services as arrivals
from intermodal.access import Actor
from intermodal.models import PartyKind
from stations.models import Departure, Direction, Location
from stations.services import departures_generate
from tests import factories

NUMBERS = ["CSQU3054383", "TCNU7200794", "TOLU4734787"]


def client_of(org) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {factories.api_key(org)[1]}")
    return client


@pytest.fixture
def corridor(network):
    inbound = factories.service(network.yiwu, network.beilun, network.railway, code="BLG-YIWU-W-R",
                                direction=Direction.IMPORT, departure_time=time(20, 0), distance_km=310,
                                teu_capacity=6)
    departures_generate(days=10, start=network.today, services=type(inbound).objects.filter(pk=inbound.pk))
    now = timezone.now()
    call = factories.vessel_call(network.beilun, etd=now + timedelta(hours=20), imo="9839179", voyage="101E",
                                 reference="MSC-ARRIVING-101E")  # ETA ten hours ago
    departure = (Departure.objects.filter(service=inbound, closing_time__gt=max(call.import_stacked_at, now)
                                          + timedelta(hours=1))
                 .order_by("planned_departure").first())
    consignee = factories.organisation(PartyKind.ENTERPRISE, code="hefei-importer", uscc=factories.VALID_USCC)
    other = factories.organisation(PartyKind.ENTERPRISE, code="other-importer")
    loading, _ = Location.objects.get_or_create(unlocode="DEHAM", defaults={"name": "Hamburg"})
    actors = SimpleNamespace(
        port=Actor(organisation=network.port, user=factories.user(network.port)),
        station=Actor(organisation=network.operator, user=factories.user(network.operator)),
        railway=Actor(organisation=network.railway, user=factories.user(network.railway)),
        consignee=Actor(organisation=consignee, user=factories.user(consignee)),
        other=Actor(organisation=other, user=factories.user(other)),
    )
    return SimpleNamespace(network=network, inbound=inbound, call=call, departure=departure, consignee=consignee,
                           other=other, loading=loading, actors=actors)


def announce(corridor, numbers=NUMBERS, consignee=None, **holds):
    items = [arrivals.Announced(number=number, size_type="42G1" if n % 2 == 0 else "22G1", bl_number="MEDU1234567",
                                consignee=consignee or corridor.consignee, port_of_loading=corridor.loading,
                                gross_weight_kg=Decimal("21000"), seal_number=f"ML{n:06d}", **holds)
             for n, number in enumerate(numbers)]
    return arrivals.arrivals_announce(actor=corridor.actors.port, vessel_call=corridor.call, items=items)


def book_import(corridor, numbers=NUMBERS, actor=None, departure=None):
    return arrivals.import_booking_create(actor=actor or corridor.actors.consignee,
                                          departure=departure or corridor.departure, vessel_call=corridor.call,
                                          numbers=numbers, commodity="Machine parts")
