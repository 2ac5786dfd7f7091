"""Objects for the fuzzer to aim at, made through the services in the demo network: a confirmed booking of
demo-shipper-a with a container gated in at the station, its draft declaration, and a spare API key.
Run as a script it prints shell assignments (FUZZ_BOOKING=...) for bench/fuzz.sh; tests/security/test_fuzz.py
calls fuzz_targets() in its own test database."""

import os
import sys
from decimal import Decimal
from pathlib import Path

CONTAINER = "CSQU3054383"
USCC = "91110000600037341L"


def fuzz_targets() -> dict[str, str]:
    from bookings import selectors, services
    from customs import services as customs_services
    from intermodal.access import Actor, api_key_create
    from intermodal.models import Event, Organisation
    from journey import services as journey
    from stations.models import Location, Station

    shipper_org = Organisation.objects.get(code="demo-shipper-a")
    shipper = Actor(organisation=shipper_org, user=shipper_org.users.first())
    station = Station.objects.get(code="YIWU-W")
    destination = Location.objects.get(unlocode="NLRTM")
    connection = selectors.connections_search(station=station, lines={"42G1": 1}, destination=destination)[0]
    booking = services.booking_create(
        actor=shipper, departure=connection.departure, vessel_call=connection.vessel_call, destination=destination,
        lines={"42G1": 1}, commodity="Fuzz target", cargo_weight_kg=Decimal("9000"), confirm=True,
    )
    services.container_assign(actor=shipper, booking=booking, number=CONTAINER, size_type="42G1")
    staff = Actor(organisation=station.operator, user=station.operator.users.first())
    journey.laden_gate_in(actor=staff, number=CONTAINER, seal_number="FUZZ1", vgm_kg=Decimal("12000"),
                          vgm_method=1, vgm_signatory="Fuzz")
    line = {"hs_code": "9503008900", "description": "Toys", "quantity": "100", "unit": "pcs",
            "gross_weight_kg": "9000", "value": "1000", "currency": "USD", "origin_country": "CN", "un_number": ""}
    declaration = customs_services.declaration_create(
        actor=shipper, booking=booking, trade_mode="0110", transport_mode="rail_vessel", containers=[CONTAINER],
        declarant_uscc=USCC, lines=[line],
    )
    spare, _raw = api_key_create(organisation=shipper_org, name="fuzz spare")
    event = Event.objects.filter(equipment_reference=CONTAINER, event_code="GTIN").latest("id")
    return {
        "FUZZ_BOOKING": booking.reference,
        "FUZZ_CONTAINER": CONTAINER,
        "FUZZ_DECLARATION": declaration.reference,
        "FUZZ_KEY_PREFIX": spare.prefix,
        "FUZZ_EVENT_ID": str(event.event_id),
        "FUZZ_DEPARTURE": connection.departure.reference,
        "FUZZ_VESSEL_CALL": connection.vessel_call.reference,
        "FUZZ_STATION": station.code,
    }


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "intermodal.settings")
    import django

    django.setup()
    for name, value in fuzz_targets().items():
        print(f"{name}={value}")
