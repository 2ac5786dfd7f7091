"""Reads on the network. Published schedules are public; these only shape and filter them."""

from datetime import timedelta

from django.db.models import F, Prefetch, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from stations.models import Departure, DepartureStatus, Direction, Service, Station, VesselCall


def station_list() -> QuerySet[Station]:
    return Station.objects.select_related("operator")


def service_list() -> QuerySet[Service]:
    return Service.objects.select_related("station", "terminal", "operator").prefetch_related("tariffs")


def departure_list() -> QuerySet[Departure]:
    """Departures with their expected arrival (actual, else estimated, else planned) and free TEU."""
    return Departure.objects.select_related("service__station", "service__terminal", "service__operator").annotate(
        arrival_expected=Coalesce("actual_arrival", "estimated_arrival", "planned_arrival"),
        free_teu=F("capacity_teu") - F("booked_teu"),
    )


def vessel_call_list() -> QuerySet[VesselCall]:
    return VesselCall.objects.select_related("terminal").prefetch_related("destinations")


def departures_connecting_to(queryset: QuerySet[Departure], vessel_call: VesselCall) -> QuerySet[Departure]:
    """Export departures to the vessel's terminal expected there before its CY cut-off less the handling buffer."""
    return queryset.filter(
        service__terminal=vessel_call.terminal_id, service__direction=Direction.EXPORT,
        arrival_expected__lte=vessel_call.latest_arrival_for(),
    )


NEXT_DEPARTURES_SHOWN = 3


def _focus_stations(actor) -> QuerySet[Station] | None:
    """The stations a party looks after, or None when it looks at the whole network."""
    from intermodal.models import PartyKind

    organisation = actor.organisation
    if organisation is None:
        return None
    kind = organisation.kind
    if kind == PartyKind.STATION_OPERATOR:
        return Station.objects.filter(operator=organisation)
    if kind == PartyKind.RAILWAY:
        return Station.objects.filter(services__operator=organisation).distinct()
    if kind == PartyKind.PORT:
        return Station.objects.filter(services__terminal__operator=organisation).distinct()
    if kind in (PartyKind.CUSTOMS, PartyKind.BORDER_INSPECTION):
        return Station.objects.filter(inspection_offices=organisation)
    if kind == PartyKind.LOCAL_GOVERNMENT:
        if organisation.city:
            return Station.objects.filter(city__iexact=organisation.city)
        return Station.objects.filter(province__iexact=organisation.province)
    return None


def network_overview(*, actor, days: int = 14) -> dict:
    """The home page: stations with their services and next departures, and vessel calls with cut-offs.

    A fixed number of queries whatever the size of the network.
    """
    from intermodal.models import PartyKind

    now = timezone.now()
    upcoming = (
        Departure.objects.filter(planned_departure__gte=now, status=DepartureStatus.SCHEDULED)
        .order_by("planned_departure")
    )
    services = Service.objects.filter(is_active=True).select_related("terminal").prefetch_related(
        Prefetch("departures", queryset=upcoming, to_attr="upcoming_departures")
    )
    stations = list(Station.objects.prefetch_related(Prefetch("services", queryset=services)))
    focus = _focus_stations(actor)
    focus_codes = set(focus.values_list("code", flat=True)) if focus is not None else set()
    for station in stations:
        station.is_focus = station.code in focus_codes
        for service in station.services.all():
            service.next_departures = service.upcoming_departures[:NEXT_DEPARTURES_SHOWN]
    stations.sort(key=lambda s: (not s.is_focus, s.province, s.city, s.code))

    calls = vessel_call_list().filter(etd__gte=now, etd__lte=now + timedelta(days=days))
    if actor.organisation is not None and actor.organisation.kind == PartyKind.PORT:
        calls = calls.filter(terminal__operator=actor.organisation)
    return {
        "actor": actor,
        "stations": stations,
        "focus_count": len(focus_codes),
        "city_count": len({(s.province, s.city) for s in stations}),
        "vessel_calls": list(calls),
        "days": days,
    }
