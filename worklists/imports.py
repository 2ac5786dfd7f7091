"""The import side of the work queues (issue 19): each item counts the containers it is about and links to the
import page where the work is done. Every read is an aggregate (grouped by vessel call, station or departure), so
a queue takes the same queries for one container or a thousand, and each is scoped to the organisation like the
export items: the consignee its own announcements and bookings, station staff their stations, the port its
terminals.

The consignee: announced containers to book inland, containers available for pick-up, free time (demurrage at the
station, detention until the empty is back) ending by tomorrow or over. Station staff: import trains to discharge
today, containers at their stations on hold or available and not collected. The port: arrived vessels with
containers still aboard, discharged containers to load on their train.
"""

from datetime import datetime, timedelta

from django.db.models import Count, DateTimeField, F, Min, Q, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings.models import HOLDS_CAPACITY, BookingStatus, Container, ContainerStatus
from inbound.free_time_sql import FreeDaysLeft, carrier_detention_term
from inbound.services import DEFAULT_DETENTION_FREE_DAYS
from intermodal.access import Actor
from intermodal.templatetags.moments import moment
from operations.import_selectors import ARRIVALS_KEPT, OUTBOUND_DAYS
from stations.models import Departure, DepartureStatus, Direction, VesselCall, localised
from worklists.items import LATER, NOW, SOON, WorkItem, count_containers, start_of

S = ContainerStatus
# Vessels due this soon ask their consignee to book the announced containers inland.
ARRIVING_SOON = timedelta(days=2)
STATION = "booking__departure__service__station"
STATION_ZONE = f"{STATION}__timezone"


def _days_left(started: str, free_days, now: datetime) -> FreeDaysLeft:
    return FreeDaysLeft(F(started), F(STATION_ZONE), free_days, Value(now, output_field=DateTimeField()))


def _clock_counts(left: str = "left") -> dict:
    """What a free-time item counts: containers whose free time is over, whose last free day is today or tomorrow,
    today, and the fewest days left (the oldest deadline)."""
    return {"passed": Count("pk", filter=Q(**{f"{left}__lt": 0})),
            "ending": Count("pk", filter=Q(**{f"{left}__gte": 0, f"{left}__lte": 1})),
            "ending_today": Count("pk", filter=Q(**{left: 0})),
            "least": Min(left)}


def _import_containers():
    return Container.objects.filter(booking__direction=Direction.IMPORT, is_active=True)


def _station_name(row: dict) -> str:
    return localised(row[f"{STATION}__name"], row[f"{STATION}__name_zh"])


# --- The consignee ---------------------------------------------------------------------------------------


def consignee_items(actor: Actor, now: datetime) -> list[WorkItem]:
    organisation, today = actor.organisation, timezone.localdate(now)
    page = reverse("operations:imports")
    items: list[WorkItem] = []

    mine_open = Q(arriving_containers__consignee=organisation) & (
        Q(arriving_containers__booking__isnull=True)
        | Q(arriving_containers__booking__status=BookingStatus.CANCELLED))
    calls = (VesselCall.objects
             .filter(Q(actual_arrival__isnull=False) | Q(eta__lte=now + ARRIVING_SOON))
             .filter(Q(eta__gte=now - ARRIVALS_KEPT) | Q(actual_departure__isnull=True))  # as the page lists them
             .annotate(to_book=Count("arriving_containers", filter=mine_open)).filter(to_book__gt=0)
             .select_related("terminal"))
    for call in calls:
        arrived = call.actual_arrival is not None
        items.append(WorkItem(
            SOON if arrived else LATER, call.actual_arrival or call.eta, "import_to_book",
            _("Book %(containers)s of %(vessel)s %(voyage)s inland")
            % {"containers": count_containers(call.to_book), "vessel": call.vessel_name, "voyage": call.voyage},
            (_("%(terminal)s · arrived %(when)s: choose a train or barge to the inland station.") if arrived else
             _("%(terminal)s · ETA %(when)s: choose a train or barge to the inland station."))
            % {"terminal": call.terminal.display_name, "when": moment(call.actual_arrival or call.eta)},
            f"{page}#call-{call.reference}", _("Book them inland")))

    containers = _import_containers().filter(booking__shipper=organisation)
    at_stations = (containers.filter(status=S.AT_STATION, station_discharge_at__isnull=False)
                   .annotate(left=_days_left("station_discharge_at", F("booking__free_days"), now))
                   .values(f"{STATION}__code", f"{STATION}__name", f"{STATION}__name_zh")
                   .annotate(available=Count("pk", filter=Q(available_at__isnull=False)),
                             available_since=Min("available_at"), **_clock_counts())
                   .order_by(f"{STATION}__code"))
    for row in at_stations:
        station = _station_name(row)
        if row["available"]:
            items.append(WorkItem(
                SOON, row["available_since"], "import_available",
                _("%(containers)s available for pick-up at %(station)s")
                % {"containers": count_containers(row["available"]), "station": station},
                _("No hold remains: send the trucks. Demurrage runs until they are gated out."),
                f"{page}#import-containers", _("Open your imports")))
        items += _free_time_items(
            row, today, "demurrage",
            passed=_("Free time at %(station)s is over for %(containers)s"),
            passed_detail=_("Demurrage is charged for each day until they are picked up."),
            ending=_("Free time at %(station)s ends by tomorrow for %(containers)s"),
            ending_detail=_("Pick them up, or demurrage is charged from the day after the last free day."),
            station=station, url=f"{page}#import-containers")

    out = (containers.filter(status=S.DELIVERED, delivered_at__isnull=False)
           .annotate(left=_days_left("delivered_at", carrier_detention_term("free_days", DEFAULT_DETENTION_FREE_DAYS),
                                     now))
           .aggregate(**_clock_counts()))
    items += _free_time_items(
        out, today, "detention",
        passed=_("Free time with you is over for %(containers)s"),
        passed_detail=_("Detention is charged for each day until the empty is back at an inland station."),
        ending=_("Free time with you ends by tomorrow for %(containers)s"),
        ending_detail=_("Return the empties to an inland station with an empty depot, or detention is charged "
                        "from the day after the last free day."),
        station="", url=f"{page}#import-containers")
    return items


def _free_time_items(row: dict, today, clock: str, *, passed: str, passed_detail: str, ending: str,
                     ending_detail: str, station: str, url: str) -> list[WorkItem]:
    """A clock's items from its counts (_clock_counts): the containers charged already, then those whose last free
    day is today or tomorrow."""
    items = []
    if row["passed"]:
        items.append(WorkItem(
            NOW, start_of(today + timedelta(days=row["least"])), f"{clock}_passed",
            passed % {"station": station, "containers": count_containers(row["passed"])}, passed_detail, url,
            _("Open your imports")))
    if row["ending"]:
        last = today if row["ending_today"] else today + timedelta(days=1)
        items.append(WorkItem(
            NOW if row["ending_today"] else SOON, start_of(last), f"{clock}_ending",
            ending % {"station": station, "containers": count_containers(row["ending"])}, ending_detail, url,
            _("Open your imports")))
    return items


# --- Station staff ---------------------------------------------------------------------------------------


def station_items(actor: Actor, now: datetime) -> list[WorkItem]:
    organisation, today = actor.organisation, timezone.localdate(now)
    yard = reverse("operations:import-yard")
    items: list[WorkItem] = []

    on_track = Q(bookings__containers__is_active=True, bookings__containers__status=S.AT_STATION_TRACK)
    trains = (Departure.objects
              .filter(service__station__operator=organisation, service__direction=Direction.IMPORT,
                      status__in=[DepartureStatus.DEPARTED, DepartureStatus.ARRIVED])
              .annotate(expected=Coalesce("actual_arrival", "estimated_arrival", "planned_arrival"),
                        to_discharge=Count("bookings__containers", filter=Q(
                            bookings__containers__is_active=True,
                            bookings__containers__status__in=[S.INLAND, S.AT_STATION_TRACK])),
                        on_track=Count("bookings__containers", filter=on_track))
              .filter(to_discharge__gt=0, expected__lt=start_of(today + timedelta(days=1)))
              .filter(Q(expected__gte=start_of(today)) | Q(on_track__gt=0))  # today's, and any still on the track
              .select_related("service__station"))
    for train in trains:
        station = train.service.station
        items.append(WorkItem(
            NOW if train.on_track else SOON, train.expected, "import_train_to_discharge",
            _("Discharge %(containers)s from train %(ref)s")
            % {"containers": count_containers(train.to_discharge), "ref": train.reference},
            (_("%(station)s · arrived %(when)s") if train.actual_arrival else _("%(station)s · expected %(when)s"))
            % {"station": station.display_name, "when": moment(train.expected)},
            f"{yard}?station={station.code}#on-track", _("Open the import yard")))

    waiting = (_import_containers()
               .filter(booking__departure__service__station__operator=organisation, status=S.AT_STATION)
               .values(f"{STATION}__code", f"{STATION}__name", f"{STATION}__name_zh")
               .annotate(on_hold=Count("pk", filter=Q(available_at__isnull=True)),
                         held_since=Min("station_discharge_at", filter=Q(available_at__isnull=True)),
                         available=Count("pk", filter=Q(available_at__isnull=False)),
                         available_since=Min("available_at"))
               .order_by(f"{STATION}__code"))
    for row in waiting:
        station, url = _station_name(row), f"{yard}?station={row[f'{STATION}__code']}#waiting"
        if row["on_hold"]:
            items.append(WorkItem(
                LATER, row["held_since"] or now, "import_on_hold",
                _("%(containers)s on hold at %(station)s")
                % {"containers": count_containers(row["on_hold"]), "station": station},
                _("Discharged and waiting for customs, the carrier or the terminal to release them."),
                url, _("Open the import yard")))
        if row["available"]:
            items.append(WorkItem(
                LATER, row["available_since"], "import_not_collected",
                _("%(containers)s available at %(station)s, not collected")
                % {"containers": count_containers(row["available"]), "station": station},
                _("No hold remains: gate them out when the consignees' trucks come."),
                url, _("Open the import yard")))
    return items


# --- The port --------------------------------------------------------------------------------------------


def port_items(actor: Actor, now: datetime) -> list[WorkItem]:
    organisation, today = actor.organisation, timezone.localdate(now)
    items: list[WorkItem] = []

    calls = (VesselCall.objects.filter(terminal__operator=organisation, actual_arrival__isnull=False)
             .annotate(aboard=Count("arriving_containers", filter=Q(arriving_containers__discharged_at__isnull=True)))
             .filter(aboard__gt=0).select_related("terminal"))
    for call in calls:
        items.append(WorkItem(
            SOON, call.actual_arrival, "vessel_to_discharge",
            _("Discharge %(containers)s from %(vessel)s %(voyage)s")
            % {"containers": count_containers(call.aboard), "vessel": call.vessel_name, "voyage": call.voyage},
            _("%(terminal)s · arrived %(when)s") % {"terminal": call.terminal.display_name,
                                                    "when": moment(call.actual_arrival)},
            reverse("operations:arrivals", args=[call.reference]), _("Open the vessel's arrivals")))

    departures = (Departure.objects
                  .filter(service__terminal__operator=organisation, service__direction=Direction.IMPORT,
                          status__in=[DepartureStatus.SCHEDULED, DepartureStatus.CLOSED],
                          service_date__lte=today + timedelta(days=OUTBOUND_DAYS))  # as the rail-outbound list
                  .annotate(ready=Count("bookings__containers", filter=Q(
                      bookings__status__in=HOLDS_CAPACITY, bookings__containers__is_active=True,
                      bookings__containers__status=S.AT_TERMINAL)))
                  .filter(ready__gt=0).select_related("service__terminal", "service__station"))
    for departure in departures:
        items.append(WorkItem(
            NOW if departure.closing_time <= now else SOON, departure.closing_time, "import_train_to_load",
            _("Load %(containers)s on train %(ref)s") % {"containers": count_containers(departure.ready),
                                                        "ref": departure.reference},
            _("%(terminal)s to %(station)s · closes %(closing)s, leaves %(leaves)s")
            % {"terminal": departure.service.terminal.display_name,
               "station": departure.service.station.display_name, "closing": moment(departure.closing_time),
               "leaves": moment(departure.planned_departure)},
            reverse("operations:port-imports") + f"#outbound-{departure.reference}",
            _("Open the rail-outbound list")))
    return items
