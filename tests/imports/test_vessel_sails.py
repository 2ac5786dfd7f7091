"""A vessel that brought imports sails once they are discharged: its imports are not left behind (MISS)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from bookings.models import ContainerStatus
from intermodal.models import Event
from journey import imports
from journey import services as journey
from tests.imports.conftest import NUMBERS, announce, book_import

pytestmark = pytest.mark.django_db


def test_the_vessel_sails_without_telling_its_discharged_imports_they_missed_it(corridor):
    a, at = corridor.actors, timezone.now() - timedelta(hours=9)
    announce(corridor)
    booking = book_import(corridor)
    imports.vessel_arrive(actor=a.port, vessel_call=corridor.call, at=at, confirmed=True)
    for n, number in enumerate(NUMBERS):
        imports.vessel_discharge(actor=a.port, number=number, at=at + timedelta(minutes=30 + n))

    journey.vessel_depart(actor=a.port, vessel_call=corridor.call, confirmed=True)

    assert set(booking.containers.values_list("status", flat=True)) == {ContainerStatus.AT_TERMINAL}
    assert not Event.objects.filter(event_code="MISS").exists()
    assert Event.objects.filter(event_code="DEPA", transport_reference=corridor.call.reference).count() == 1
