"""Each party's work queue: what needs its action now, most urgent first and oldest first within, each item one
click from the page that resolves it. Built from the same scoped reads as the pages (an organisation sees only
its own bookings, stations, services, terminals and covered declarations), in a fixed number of queries.

Shippers: bookings at risk, rejected declarations, last free days, empties ready, bookings to confirm, goods
to declare, drafts to submit. Stations: empties to get ready and hand out, trains to load before closing.
Railways: trains due to be reported departed or arrived. The port: trains to discharge, containers to load,
vessels due to be reported sailed. Customs and border inspection: declarations waiting for their decision,
joint inspections to schedule or record. Consignees, stations and the port also get their import work
(worklists.imports).
"""

from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings.models import (
    AT_RISK_STATUSES,
    HOLDS_CAPACITY,
    Booking,
    BookingStatus,
    ContainerStatus,
    EmptyRequest,
    EmptyRequestStatus,
)
from customs.models import DecisionKind, DeclarationStatus
from customs.selectors import declaration_list, declaration_queue
from customs.services import AGENCY_OF_PARTY
from intermodal.access import Actor
from intermodal.models import PartyKind
from intermodal.templatetags.moments import day, moment
from stations.models import Departure, DepartureStatus, Direction, VesselCall
from worklists import imports
from worklists.items import LATER, NOW, SOON, WorkItem, WorkQueue, count_containers, start_of

SHOWN = 25  # items on the home page; the count says how many there are in all
LOADING_AHEAD = timedelta(hours=24)  # trains closing and vessels leaving this soon ask for their loading
OVERDUE_DECISION = timedelta(hours=24)


def work_queue(actor: Actor, now: datetime | None = None) -> WorkQueue | None:
    """The signed-in party's queue (None for visitors and parties without one)."""
    build = BUILDERS.get(actor.kind)
    if build is None or actor.organisation is None:
        return None
    items = sorted(build(actor, now or timezone.now()), key=lambda item: (item.urgency, item.since))
    return WorkQueue(items=items[:SHOWN], total=len(items))


def _booking_url(booking, anchor: str = "") -> str:
    return reverse("bookings:detail", args=[booking.reference]) + (f"#{anchor}" if anchor else "")


# --- Shippers --------------------------------------------------------------------------------------------


def _shipper(actor: Actor, now: datetime) -> list[WorkItem]:
    organisation, today = actor.organisation, timezone.localdate(now)
    items: list[WorkItem] = []
    bookings = (Booking.objects.filter(shipper=organisation)
                .select_related("departure__service__terminal", "departure__service__station", "vessel_call"))

    for booking in bookings.filter(status__in=AT_RISK_STATUSES, vessel_call__etd__gt=now - timedelta(days=2)):
        if booking.is_at_risk:
            items.append(WorkItem(
                NOW, booking.vessel_call.cy_cutoff, "at_risk",
                _("Booking %(ref)s may miss %(vessel)s %(voyage)s")
                % {"ref": booking.reference, "vessel": booking.vessel_call.vessel_name,
                   "voyage": booking.vessel_call.voyage},
                _("Its train now reaches the terminal after the CY cut-off: roll it to a departure or vessel that "
                  "still works."),
                _booking_url(booking, "change"), _("Roll the booking")))

    rejected = declaration_list(actor=actor).filter(status=DeclarationStatus.REJECTED, next_version__isnull=True)
    for declaration in rejected:
        items.append(WorkItem(
            NOW, declaration.decided_at or declaration.created_at, "declaration_rejected",
            _("Declaration %(ref)s was rejected") % {"ref": declaration.reference},
            declaration.rejection_reason,
            reverse("customs:detail", args=[declaration.reference]), _("Amend it")))

    at_station = bookings.filter(status=BookingStatus.CONFIRMED, free_time_start__isnull=False,
                                 free_time_start__gte=today - timedelta(days=60))
    for booking in at_station:
        last = booking.last_free_day
        if last is not None and last <= today + timedelta(days=1):
            passed = last < today
            items.append(WorkItem(
                NOW if last <= today else SOON, start_of(last), "last_free_day",
                (_("Booking %(ref)s: free time at the station is over") if passed else
                 _("Booking %(ref)s: last free day at the station is %(day)s"))
                % {"ref": booking.reference, "day": day(last)},
                _("Gate the laden containers in, or storage is charged from the day after."),
                _booking_url(booking), _("Open the booking")))

    ready = (EmptyRequest.objects.filter(booking__shipper=organisation, status=EmptyRequestStatus.READY)
             .select_related("booking__departure__service__station"))
    for request in ready:
        station = request.booking.departure.service.station
        items.append(WorkItem(
            SOON, request.ready_at or request.requested_at, "empties_ready",
            _("%(n)s x %(size_type)s empties ready at %(station)s")
            % {"n": request.quantity - request.handed_out, "size_type": request.size_type,
               "station": station.display_name},
            _("For booking %(ref)s: send the truck to pick them up.") % {"ref": request.booking.reference},
            _booking_url(request.booking, "empties"), _("Open the booking")))

    for booking in bookings.filter(status=BookingStatus.DRAFT, departure__closing_time__gt=now):
        items.append(WorkItem(
            LATER, booking.created_at, "booking_draft",
            _("Booking %(ref)s is a draft") % {"ref": booking.reference},
            _("Confirm it to hold the space; the station closes %(closing)s.")
            % {"closing": moment(booking.departure.closing_time)},
            _booking_url(booking), _("Confirm it")))

    undeclared = bookings.filter(direction=Direction.EXPORT, status__in=HOLDS_CAPACITY, declarations__isnull=True,
                                 vessel_call__actual_departure__isnull=True)
    for booking in undeclared:
        items.append(WorkItem(
            LATER, booking.vessel_call.customs_cutoff, "to_declare",
            _("Declare the goods of booking %(ref)s") % {"ref": booking.reference},
            _("Customs cut-off %(cutoff)s. You can declare before the containers have numbers.")
            % {"cutoff": moment(booking.vessel_call.customs_cutoff)},
            reverse("customs:new", args=[booking.reference]), _("Declare goods")))
    # An import is cleared inland: its containers leave the station only once released, whenever its vessel sails.
    undeclared_imports = bookings.filter(direction=Direction.IMPORT, declarations__isnull=True, status__in=(
        BookingStatus.CONFIRMED, BookingStatus.IN_TRANSIT, BookingStatus.AT_STATION))
    for booking in undeclared_imports:
        arrives = booking.departure.expected_arrival
        items.append(WorkItem(
            SOON if booking.status == BookingStatus.AT_STATION else LATER, arrives, "to_declare",
            _("Declare the goods of import booking %(ref)s") % {"ref": booking.reference},
            _("Its containers reach %(station)s %(arrives)s and leave it only once customs release them: declared "
              "before, they are available as they are discharged.")
            % {"station": booking.departure.service.station.display_name, "arrives": moment(arrives)},
            reverse("customs:new", args=[booking.reference]), _("Declare goods")))

    for declaration in declaration_list(actor=actor).filter(status=DeclarationStatus.DRAFT):
        items.append(WorkItem(
            SOON, declaration.created_at, "declaration_draft",
            _("Declaration %(ref)s is not submitted yet") % {"ref": declaration.reference},
            _("Check it and submit it to customs and border inspection."),
            reverse("customs:detail", args=[declaration.reference]), _("Submit it")))
    return items


# --- Station staff ---------------------------------------------------------------------------------------


def _station(actor: Actor, now: datetime) -> list[WorkItem]:
    organisation = actor.organisation
    items: list[WorkItem] = []
    board = reverse("operations:station-board")

    waiting = (EmptyRequest.objects
               .filter(booking__departure__service__station__operator=organisation,
                       status__in=[EmptyRequestStatus.REQUESTED, EmptyRequestStatus.READY],
                       booking__status__in=HOLDS_CAPACITY)
               .select_related("booking__departure__service__station"))
    for request in waiting:
        station = request.booking.departure.service.station
        url = f"{board}?station={station.code}"
        if request.status == EmptyRequestStatus.REQUESTED:
            items.append(WorkItem(
                NOW if request.requested_at < now - timedelta(hours=24) else SOON, request.requested_at,
                "empties_requested",
                _("Get %(n)s x %(size_type)s empties ready for booking %(ref)s")
                % {"n": request.quantity, "size_type": request.size_type, "ref": request.booking.reference},
                _("%(station)s · requested %(when)s") % {"station": station.display_name,
                                                         "when": moment(request.requested_at)},
                url, _("Open the station board")))
        else:
            items.append(WorkItem(
                LATER, request.ready_at or request.requested_at, "empties_to_hand_out",
                _("Hand out %(n)s x %(size_type)s empties for booking %(ref)s")
                % {"n": request.quantity - request.handed_out, "size_type": request.size_type,
                   "ref": request.booking.reference},
                _("%(station)s · ready since %(when)s") % {"station": station.display_name,
                                                           "when": moment(request.ready_at or now)},
                url, _("Open the station board")))

    to_load = (Departure.objects
               .filter(service__station__operator=organisation, status=DepartureStatus.SCHEDULED,
                       planned_departure__lte=now + LOADING_AHEAD, planned_departure__gte=now - LOADING_AHEAD)
               .annotate(ready=Count("bookings__containers", filter=Q(
                   bookings__containers__status=ContainerStatus.GATED_IN, bookings__containers__is_active=True)))
               .filter(ready__gt=0).select_related("service__station"))
    for departure in to_load:
        station = departure.service.station
        items.append(WorkItem(
            NOW if departure.closing_time <= now else SOON, departure.closing_time, "train_to_load",
            _("Load %(containers)s on train %(ref)s") % {"containers": count_containers(departure.ready),
                                                        "ref": departure.reference},
            _("%(station)s · closes %(closing)s, leaves %(leaves)s")
            % {"station": station.display_name, "closing": moment(departure.closing_time),
               "leaves": moment(departure.planned_departure)},
            f"{board}?station={station.code}#departures", _("Open the station board")))
    return items


# --- Railways --------------------------------------------------------------------------------------------


def _railway(actor: Actor, now: datetime) -> list[WorkItem]:
    items: list[WorkItem] = []
    departures = Departure.objects.filter(service__operator=actor.organisation).select_related("service__station")
    due = departures.filter(status__in=[DepartureStatus.SCHEDULED, DepartureStatus.CLOSED],
                            planned_departure__lte=now, planned_departure__gte=now - timedelta(days=7))
    for departure in due:
        expected = departure.estimated_departure or departure.planned_departure
        items.append(WorkItem(
            NOW if expected <= now else SOON, expected, "train_to_depart",
            _("Report train %(ref)s departed") % {"ref": departure.reference},
            _("%(station)s · planned %(planned)s") % {"station": departure.service.station.display_name,
                                                      "planned": moment(departure.planned_departure)},
            reverse("operations:manifest", args=[departure.reference]), _("Open the manifest")))
    on_the_way = departures.filter(status=DepartureStatus.DEPARTED, actual_departure__gte=now - timedelta(days=7))
    for departure in on_the_way:
        expected = departure.estimated_arrival or departure.planned_arrival
        if expected <= now:
            items.append(WorkItem(
                NOW, expected, "train_to_arrive",
                _("Report train %(ref)s arrived") % {"ref": departure.reference},
                _("Expected at the port %(when)s") % {"when": moment(expected)},
                reverse("operations:manifest", args=[departure.reference]), _("Open the manifest")))
    return items


# --- The port --------------------------------------------------------------------------------------------


def _port(actor: Actor, now: datetime) -> list[WorkItem]:
    organisation = actor.organisation
    items: list[WorkItem] = []
    arrived = (Departure.objects
               .filter(service__terminal__operator=organisation, status=DepartureStatus.ARRIVED)
               .annotate(waiting=Count("bookings__containers", filter=Q(
                   bookings__containers__status=ContainerStatus.ARRIVED, bookings__containers__is_active=True)))
               .filter(waiting__gt=0).select_related("service__terminal"))
    for departure in arrived:
        items.append(WorkItem(
            SOON, departure.actual_arrival or now, "train_to_discharge",
            _("Discharge %(containers)s from train %(ref)s") % {"containers": count_containers(departure.waiting),
                                                               "ref": departure.reference},
            _("%(terminal)s rail yard · arrived %(when)s")
            % {"terminal": departure.service.terminal.display_name, "when": moment(departure.actual_arrival or now)},
            reverse("operations:port") + f"#arrival-{departure.reference}", _("Open the port page")))

    calls = (VesselCall.objects.filter(terminal__operator=organisation, actual_departure__isnull=True,
                                       etd__lte=now + LOADING_AHEAD, etd__gte=now - timedelta(days=7))
             .annotate(to_load=Count("bookings__containers", filter=Q(  # exports: an import leaves by train
                 bookings__direction=Direction.EXPORT, bookings__containers__status=ContainerStatus.AT_TERMINAL,
                 bookings__containers__is_active=True)))
             .select_related("terminal"))
    for call in calls:
        url = reverse("operations:vessel", args=[call.reference])
        if call.to_load:
            items.append(WorkItem(
                SOON, call.etd, "vessel_to_load",
                _("Load %(containers)s on %(vessel)s %(voyage)s")
                % {"containers": count_containers(call.to_load), "vessel": call.vessel_name, "voyage": call.voyage},
                _("%(terminal)s · ETD %(etd)s") % {"terminal": call.terminal.display_name, "etd": moment(call.etd)},
                url, _("Open the loading list")))
        if call.etd <= now:
            items.append(WorkItem(
                NOW, call.etd, "vessel_to_sail",
                _("Report %(vessel)s %(voyage)s sailed") % {"vessel": call.vessel_name, "voyage": call.voyage},
                _("%(terminal)s · ETD %(etd)s") % {"terminal": call.terminal.display_name, "etd": moment(call.etd)},
                url, _("Open the loading list")))
    return items


# --- Customs and border inspection -----------------------------------------------------------------------


def _officers(actor: Actor, now: datetime) -> list[WorkItem]:
    agency = AGENCY_OF_PARTY[actor.kind]
    items: list[WorkItem] = []
    queue = declaration_queue(actor=actor).select_related("inspection").prefetch_related("decisions")
    for declaration in queue:
        url = reverse("customs:detail", args=[declaration.reference])
        inspection = getattr(declaration, "inspection", None)
        waiting_since = declaration.submitted_at or declaration.created_at
        since = (inspection.recorded_at if inspection is not None and inspection.recorded_at else waiting_since)
        if any(d.agency == agency and d.kind == DecisionKind.CLEAR and d.at >= since
               for d in declaration.decisions.all()):
            continue  # cleared by this agency: waiting for the other one
        if declaration.status == DeclarationStatus.INSPECTION_REQUIRED and inspection is not None:
            if inspection.appointment_at is None:
                items.append(WorkItem(
                    SOON, waiting_since, "inspection_to_schedule",
                    _("Schedule the joint inspection of %(ref)s") % {"ref": declaration.reference},
                    _("%(station)s · one inspection for both agencies") % {
                        "station": declaration.station.display_name},
                    url, _("Open the declaration")))
            elif inspection.appointment_at <= now and not inspection.result:
                items.append(WorkItem(
                    NOW, inspection.appointment_at, "inspection_to_record",
                    _("Record the result of the inspection of %(ref)s") % {"ref": declaration.reference},
                    _("Appointment %(when)s at %(place)s") % {"when": moment(inspection.appointment_at),
                                                              "place": inspection.place},
                    url, _("Open the declaration")))
            continue
        items.append(WorkItem(
            NOW if waiting_since < now - OVERDUE_DECISION else SOON, waiting_since, "declaration_to_decide",
            _("Decide on declaration %(ref)s") % {"ref": declaration.reference},
            _("%(station)s · submitted %(when)s%(risk)s")
            % {"station": declaration.station.display_name, "when": moment(waiting_since),
               "risk": (" · " + _("selected for inspection")) if declaration.risk_selected else ""},
            url, _("Open the declaration")))
    return items


def _together(*builders):
    """One queue from the export and the import items of a party (an enterprise ships and receives)."""
    return lambda actor, now: [item for build in builders for item in build(actor, now)]


BUILDERS = {
    PartyKind.ENTERPRISE: _together(_shipper, imports.consignee_items),
    PartyKind.STATION_OPERATOR: _together(_station, imports.station_items),
    PartyKind.RAILWAY: _railway,
    PartyKind.PORT: _together(_port, imports.port_items),
    PartyKind.CUSTOMS: _officers,
    PartyKind.BORDER_INSPECTION: _officers,
}
