"""Writes on the network: generating departures from the services' timetables."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from stations.models import Departure, Service


def departure_reference(service: Service, service_date: date) -> str:
    return f"{service.code}-{service_date:%Y%m%d}"


def departure_build(*, service: Service, service_date: date) -> Departure:
    """The departure a service runs on a date, its times taken in the station's own time zone."""
    zone = ZoneInfo(service.station.timezone)
    leaves = datetime.combine(service_date, service.departure_time, tzinfo=zone)
    return Departure(
        reference=departure_reference(service, service_date),
        service=service,
        service_date=service_date,
        capacity_teu=service.teu_capacity,
        closing_time=leaves - timedelta(hours=service.closing_hours),
        planned_departure=leaves,
        planned_arrival=leaves + timedelta(hours=service.transit_hours),
    )


def departures_generate(*, days: int | None = None, start: date | None = None, services=None) -> int:
    """Create the departures of the coming `days` that do not exist yet; returns how many were created.

    Idempotent: a departure is one per service and date (a database constraint), existing ones are left as
    they are (their bookings and times are live data). "Today" is the station's today, not the server's.
    """
    days = settings.DEPARTURE_HORIZON_DAYS if days is None else days
    services = services if services is not None else Service.objects.filter(is_active=True)
    services = list(services.select_related("station"))
    created = 0
    for service in services:
        first = start or timezone.now().astimezone(ZoneInfo(service.station.timezone)).date()
        wanted = [
            first + timedelta(days=offset)
            for offset in range(days)
            if (first + timedelta(days=offset)).isoweekday() in service.weekdays
        ]
        existing = set(
            Departure.objects.filter(service=service, service_date__in=wanted).values_list("service_date", flat=True)
        )
        new = [departure_build(service=service, service_date=d) for d in wanted if d not in existing]
        if new:
            with transaction.atomic():
                # A concurrent run may have made some of them since the read above: skip those.
                Departure.objects.bulk_create(new, ignore_conflicts=True)
            now_there = Departure.objects.filter(service=service, service_date__in=wanted).count()
            created += now_there - len(existing)
    return created
