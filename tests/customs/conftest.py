"""Customs test data: a confirmed booking with containers at a station both agencies cover, and the officers."""

from types import SimpleNamespace

import pytest

from bookings import services as booking_services
from intermodal.access import Actor
from tests import factories
from tests.bookings.conftest import book

NUMBERS = ["CSQU3054383", "TCNU7200794"]


@pytest.fixture
def declared(shipper, connecting):
    """A confirmed 2 x 42G1 booking with its two containers, and the two offices covering the station."""
    booking = book(shipper.actor, connecting, lines={"42G1": 2})
    for number in NUMBERS:
        booking_services.container_assign(actor=shipper.actor, booking=booking, number=number, size_type="42G1")
    customs, ciq = factories.inspection_offices(connecting.network.yiwu)
    return SimpleNamespace(
        booking=booking, shipper=shipper,
        customs=Actor(organisation=customs, user=factories.user(customs)),
        ciq=Actor(organisation=ciq, user=factories.user(ciq)),
    )


def draft(declared, **overrides):
    from customs import services

    fields = {"trade_mode": "0110", "transport_mode": "rail_vessel", "containers": NUMBERS,
              "lines": [factories.goods_line(gross_weight_kg="18000")], "declarant_uscc": factories.VALID_USCC}
    fields.update(overrides)
    return services.declaration_create(actor=declared.shipper.actor, booking=declared.booking, **fields)
