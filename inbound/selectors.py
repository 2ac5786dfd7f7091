"""Reads on imports: the import departures that may take a vessel call's containers inland, and what the port
announced of the import containers a train carries."""

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

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
    return import_departures_for_calls(vessel_calls=[vessel_call], teu=teu, now=now)[vessel_call.pk]


def import_departures_for_calls(*, vessel_calls: Iterable[VesselCall], teu: int = 0, now: datetime | None = None
                                ) -> dict[int, list[Departure]]:
    """import_departures_for for many vessel calls in one query (a page of them), by vessel call id: each call's
    first IMPORT_DEPARTURES_SHOWN candidates are read as for one call (a UNION of one limited subquery per terminal
    and closing bound), then filtered by `teu` and the connection rules."""
    now = now or timezone.now()
    calls = list(vessel_calls)
    bounds = {call.pk: (call.terminal_id, max(now, call.import_stacked_at)) for call in calls}
    candidates = [
        Departure.objects.filter(service__terminal=terminal, service__direction=Direction.IMPORT,
                                 service__is_active=True, status=DepartureStatus.SCHEDULED, closing_time__gt=after)
        .order_by("planned_departure", "reference").values("pk")[:IMPORT_DEPARTURES_SHOWN]
        for terminal, after in sorted(set(bounds.values()))]
    if not candidates:
        return {}
    ids = candidates[0].union(*candidates[1:], all=True) if len(candidates) > 1 else candidates[0]
    departures = list(departure_list().filter(pk__in=ids).order_by("planned_departure", "reference"))
    found = {}
    for call in calls:
        terminal, after = bounds[call.pk]
        shown = [d for d in departures if d.service.terminal_id == terminal and d.closing_time > after]
        found[call.pk] = [d for d in shown[:IMPORT_DEPARTURES_SHOWN] if d.teu_free >= teu
                          and not import_connection_problems(departure=d, vessel_call=call, now=now)]
    return found


def with_announcements(containers: list[Container]) -> list[Container]:
    """Each container with `announced`: the port's announcement of it on its booking's vessel call (gross weight,
    seal, B/L - what a train carries an import container under: it has no VGM, a shipper's declaration for
    loading a vessel), or None. One query for the whole list, however many containers."""
    found = {(row.booking_id, row.number): row for row in ArrivingContainer.objects.filter(
        booking_id__in={c.booking_id for c in containers}, number__in={c.number for c in containers})}
    for container in containers:
        container.announced = found.get((container.booking_id, container.number))
    return containers


def announced_gross_kg(containers: list[Container]) -> Decimal:
    """The gross weight the port announced of containers read with_announcements: an import train's weight."""
    return sum((c.announced.gross_weight_kg for c in containers if c.announced), Decimal("0"))
