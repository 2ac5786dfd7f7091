"""Reads on imports: the import departures that may take a vessel call's containers inland."""

from datetime import datetime

from django.utils import timezone

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
