"""Bookings test data: the small network plus a shipper with a person, and helpers to book through services."""

from decimal import Decimal
from types import SimpleNamespace

import pytest

from bookings import services
from intermodal.access import Actor
from intermodal.models import PartyKind
from stations.models import Departure
from tests import factories


@pytest.fixture
def shipper(db):
    org = factories.organisation(PartyKind.ENTERPRISE, code="shipper-a")
    person = factories.user(org, username="alice")
    return SimpleNamespace(org=org, user=person, actor=Actor(organisation=org, user=person))


@pytest.fixture
def other_shipper(db):
    org = factories.organisation(PartyKind.ENTERPRISE, code="shipper-b")
    person = factories.user(org, username="bob")
    return SimpleNamespace(org=org, user=person, actor=Actor(organisation=org, user=person))


@pytest.fixture
def connecting(network):
    """The first Yiwu departure that still makes the network's vessel call, and the call."""
    departure = (
        Departure.objects.filter(
            service=network.yiwu_rail, planned_arrival__lte=network.vessel_call.latest_arrival_for()
        )
        .select_related("service__station", "service__terminal")
        .order_by("-planned_departure")
        .first()
    )
    return SimpleNamespace(departure=departure, vessel_call=network.vessel_call, network=network)


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
