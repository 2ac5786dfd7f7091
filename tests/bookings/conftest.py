"""Bookings test helpers: book through the same services users call (fixtures live in tests/conftest.py)."""

from decimal import Decimal

from bookings import services


def book(actor, connecting, lines=None, confirm=True, **fields):
    from stations.models import Location

    defaults = {"commodity": "Christmas decorations", "cargo_weight_kg": Decimal("18000")}
    defaults.update(fields)
    return services.booking_create(
        actor=actor,
        departure=connecting.departure,
        vessel_call=connecting.vessel_call,
        destination=Location.objects.get(unlocode="NLRTM"),
        lines=lines or {"42G1": 2},
        confirm=confirm,
        **defaults,
    )
