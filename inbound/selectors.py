"""Reads on imports: the import departures that may take a vessel call's containers inland, and what the port
announced of the import containers a train carries."""

from datetime import datetime

from django.utils import timezone

from bookings.models import Container
from inbound.models import ArrivingContainer
from inbound.services import import_connection_problems
from stations.models import Departure, DepartureStatus, Direction, VesselCall
from stations.selectors import departure_list

IMPORT_DEPARTURES_SHOWN = 20


def import_departures_for(*, vessel_call: VesselCall, teu: int = 0, now: datetime | None = None) -> list[Departure]:
    """The import departures that may take a vessel call's containers inland now, soonest first: from its terminal,
    open, closing after the containers can be on the stack (import_connection_problems accepts them), with `teu`
    free."""
    now = now or timezone.now()
    departures = (
        departure_list()
        .filter(service__terminal=vessel_call.terminal_id, service__direction=Direction.IMPORT,
                service__is_active=True, status=DepartureStatus.SCHEDULED,
                closing_time__gt=max(now, vessel_call.import_stacked_at))
        .order_by("planned_departure", "reference")[:IMPORT_DEPARTURES_SHOWN]
    )
    return [d for d in departures if d.teu_free >= teu
            and not import_connection_problems(departure=d, vessel_call=vessel_call, now=now)]


def with_announcements(containers: list[Container]) -> list[Container]:
    """Each container with `announced`: the port's announcement of it on its booking's vessel call (gross weight,
    seal, B/L - what a train carries an import container under: it has no VGM, a shipper's declaration for
    loading a vessel), or None. One query for the whole list, however many containers."""
    found = {(row.booking_id, row.number): row for row in ArrivingContainer.objects.filter(
        booking_id__in={c.booking_id for c in containers}, number__in={c.number for c in containers})}
    for container in containers:
        container.announced = found.get((container.booking_id, container.number))
    return containers
