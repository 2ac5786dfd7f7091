"""Operations pages: the station board and gate scan, the railway's departures and manifests, the port's
arrivals and vessel loading lists.

Thin: every step goes through journey.services, whose refusals are shown with their reason; reads are scoped
to the signed-in organisation (another station's, railway's or port's object is a 404).
"""

from collections import defaultdict
from datetime import timedelta
from functools import wraps
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from bookings.models import (
    HOLDS_CAPACITY,
    SIZE_TYPES,
    BookingStatus,
    Container,
    ContainerStatus,
    EmptyRequest,
    EmptyRequestStatus,
)
from bookings.selectors import travelling_containers
from customs.selectors import customs_labels
from inbound import services as inbound
from inbound.selectors import announced_gross_kg, with_announcements
from intermodal.access import Actor
from intermodal.errors import ApplicationError, NotAllowed, StateConflict
from intermodal.models import Event, PartyKind
from intermodal.permissions import page_parties
from intermodal.sorting import Column, sort_from
from journey import imports
from journey import services as journey
from journey.corrections import event_correct, may_correct
from journey.plausibility import Implausible
from operations.forms import (
    ActualTimeForm,
    CorrectionForm,
    DepartureDelayForm,
    HandOutForm,
    ScanAction,
    ScanForm,
    VesselEstimateForm,
    add_refusal,
    clean_container_number,
    refusal_text,
)
from operations.import_selectors import returned_stock
from operations.periods import period_from
from operations.review import rehearse, report_fields, review_first, review_page, reviewed
from stations.models import Departure, DepartureStatus, Direction, Station, Terminal, VesselCall
from stations.selectors import departure_list
from tracking.visibility import events_visible

SESSION_STATION = "operations_station"
RAILWAY_DAYS = 3
PORT_CALL_DAYS = 14
# Arrived trains stay on the port page this long after arrival, or while containers wait to be handled.
PORT_ARRIVALS_KEPT = timedelta(days=3)
# The sortable columns of the operations pages (intermodal/sorting.py): the railway's within each day shown.
RAILWAY_COLUMNS = {
    "departure": Column(gettext_lazy("Departure"), ("reference",)),
    "station": Column(gettext_lazy("Station"), ("service__station__code",)),
    "terminal": Column(gettext_lazy("Terminal"), ("service__terminal__code",)),
    "departs": Column(gettext_lazy("Departs"), ("planned_departure",)),
    "arrives": Column(gettext_lazy("Arrives"), ("planned_arrival",)),
    "status": Column(gettext_lazy("Status"), ("status",)),
    "booked": Column(gettext_lazy("Booked / capacity"), ("booked_teu",)),
    "containers": Column(gettext_lazy("Containers"), ("container_count",)),
}
VESSEL_CALL_COLUMNS = {
    "vessel": Column(gettext_lazy("Vessel"), ("vessel_name", "voyage")),
    "terminal": Column(gettext_lazy("Terminal"), ("terminal__code",)),
    "etd": Column(gettext_lazy("ETD"), ("etd",), gettext_lazy("Estimated time of departure")),
    "cutoff": Column(gettext_lazy("CY cut-off"), ("cy_cutoff",),
                     gettext_lazy("Container yard: last time a laden container may reach the terminal")),
    "loaded": Column(gettext_lazy("Loaded / booked"), ("loaded_containers",)),
    "status": Column(gettext_lazy("Status"), ("actual_departure",)),
}
OPEN_DEPARTURE = (DepartureStatus.SCHEDULED, DepartureStatus.CLOSED)
# Returned import empties offered on an empty request's card, oldest first.
RETURNED_OFFERED = 3

AUDIENCE = {
    PartyKind.ENTERPRISE: gettext_lazy("This page is for consignees and their forwarders."),
    PartyKind.STATION_OPERATOR: gettext_lazy("This page is for the staff of inland stations."),
    PartyKind.RAILWAY: gettext_lazy("This page is for rail and barge operators."),
    PartyKind.PORT: gettext_lazy("This page is for the port's terminal planners."),
}


# --- Who may open which page -----------------------------------------------------------------------------


def party_required(kind: str):
    """Signed in, as the given party kind (or a platform admin); everyone else gets a page saying who it is for."""

    default = frozenset({kind, PartyKind.PLATFORM_ADMIN})  # for a route the permission matrix lacks

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            allowed = page_parties(request.resolver_match.view_name, request.method, default)
            if Actor.from_request(request).kind not in allowed:
                return render(request, "operations/forbidden.html", {"audience": AUDIENCE[kind]}, status=403)
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator


def _is_admin(actor: Actor) -> bool:
    return actor.kind == PartyKind.PLATFORM_ADMIN


def _stations(actor: Actor) -> QuerySet[Station]:
    stations = Station.objects.all()
    return stations if _is_admin(actor) else stations.filter(operator=actor.organisation)


def _station_chosen(request, actor: Actor) -> tuple[Station | None, list[Station]]:
    """The station the board is about: ?station=CODE among the organisation's, else the one this person last chose
    (kept on the person, so the board opens there on any device), else the first."""
    stations = list(_stations(actor))
    by_code = {station.code: station for station in stations}
    asked = request.GET.get("station") or request.POST.get("station")
    if asked and asked not in by_code:
        raise Http404
    user = request.user
    remembered = request.session.get(SESSION_STATION) or getattr(user, "work_station", "")
    station = by_code.get(asked or remembered) or (stations[0] if stations else None)
    if station is not None and request.session.get(SESSION_STATION) != station.code:
        request.session[SESSION_STATION] = station.code
    if asked and station is not None and getattr(user, "work_station", None) not in (None, station.code):
        user.work_station = station.code
        user.save(update_fields=["work_station"])
    return station, stations


def _url(name: str, *args, **query) -> str:
    # Results are shown at the top of the page: no #anchor that would scroll them out of sight.
    url = reverse(name, args=args)
    query = {key: value for key, value in query.items() if value}
    return url + (f"?{urlencode(query)}" if query else "")


# --- Station board ---------------------------------------------------------------------------------------


def _board_context(actor: Actor, station: Station, stations: list[Station], *, scan_form: ScanForm | None = None,
                   scan_error: str = "", hand_out_forms: dict | None = None, action: str = "",
                   request=None) -> dict:
    """The departures of today and tomorrow (or of the days chosen, with the request's `from`/`to`) with their load
    lists, the yard and the empties waiting.

    A fixed number of queries whatever the number of rows.
    """
    now = timezone.now()
    today = timezone.localdate(now, timezone=ZoneInfo(station.timezone))
    period = None
    if request is not None:
        period = period_from(request, today=today, default_start=today, default_end=today + timedelta(days=1))
    days = period.dates() if period is not None else [today, today + timedelta(days=1)]
    departures = list(
        departure_list().filter(service__station=station, service_date__in=days).order_by("planned_departure",
                                                                                          "reference")
    )
    on_departure = defaultdict(list)
    for container in (
        Container.objects.filter(booking__departure__in=departures, is_active=True,
                                 booking__status__in=HOLDS_CAPACITY)
        .select_related("booking")
        .order_by("booking__reference", "number")
    ):
        on_departure[container.booking.departure_id].append(container)
    for departure in departures:
        departure.load_list = on_departure[departure.pk]
        departure.ready_count = sum(1 for c in departure.load_list if c.status == ContainerStatus.GATED_IN)
        departure.is_open = departure.status in OPEN_DEPARTURE
        departure.is_today = departure.service_date == today
        departure.is_tomorrow = departure.service_date == today + timedelta(days=1)
    yard = list(
        Container.objects.filter(is_active=True, status=ContainerStatus.GATED_IN,
                                 booking__departure__service__station=station)
        .select_related("booking__departure")
        .order_by("last_event_at", "number")
    )
    hand_out_forms = hand_out_forms or {}
    empties = list(
        EmptyRequest.objects.filter(status__in=[EmptyRequestStatus.REQUESTED, EmptyRequestStatus.READY],
                                    booking__departure__service__station=station)
        .select_related("booking__vessel_call")
        .order_by("requested_at", "id")
    )
    # Match-back: the import empties returned here are offered first, to the requests they may serve.
    stock = returned_stock(station)
    for empty in empties:
        empty.returned_matches = [s for s in stock if inbound.returned_empty_serves(s, empty)][:RETURNED_OFFERED]
        empty.wait_so_far = now - empty.requested_at
        empty.is_long_wait = empty.wait_so_far > timedelta(days=1)
        empty.hand_out_form = hand_out_forms.get(empty.pk) or HandOutForm(auto_id=f"id_handout_{empty.pk}_%s")
    scan_form = scan_form or _fresh_scan_form(action)
    if hand_out_forms:
        for form in hand_out_forms.values():
            _focus(form, "number")
    else:
        _focus(scan_form, scan_form.focus_field() if scan_form.is_bound else "number")
    return {
        "station": station,
        "stations": stations,
        "today": today,
        "tomorrow": today + timedelta(days=1),
        "period": period,
        "departures": departures,
        "yard": yard,
        "empties": empties,
        "stock": stock,
        "scan_form": scan_form,
        "scan_error": scan_error,
    }


def _focus(form, name: str) -> None:
    """Where the cursor is when the page opens: ready for the next scan, or on the field to fix."""
    form.fields[name].widget.attrs["autofocus"] = True


def _confirmed(request) -> bool:
    """The reporter confirmed a report that looked wrong (the confirmation step's button)."""
    return request.POST.get("confirm") == "1"


def _confirm_report(request, error: Implausible, action: str, back_url: str, consequence: str = ""):
    """The confirmation step of a report that looks wrong (journey.plausibility): why, the time it was expected,
    what it applies to (`consequence`, e.g. the containers ticked), and the same report again, confirmed - or
    back, to correct the time."""
    context = {"error": error, "action": action, "fields": report_fields(request), "post_url": request.path,
               "back_url": back_url, "consequence": consequence}
    return render(request, "operations/confirm_report.html", context, status=error.status)


def _fresh_scan_form(action: str = "") -> ScanForm:
    return ScanForm(initial={"action": action if action in dict(ScanAction.CHOICES) else ScanAction.GATE_IN})


def _scan_apply(actor: Actor, form: ScanForm, confirmed: bool, station: Station | None = None) -> str:
    """Record the scan through the journey; the success message, or a refusal raised."""
    data = form.cleaned_data
    if data["action"] in IMPORT_SCANS:
        return _import_scan_apply(actor, data["action"], data["number"], confirmed, station)
    if data["action"] == ScanAction.GATE_IN:
        container = journey.laden_gate_in(actor=actor, number=data["number"], seal_number=data["seal_number"],
                                          confirmed=confirmed, **form.vgm())
        station = container.booking.departure.service.station
        message = _("Container %(number)s gated in at %(station)s with seal %(seal)s.") % {
            "number": container.number, "station": station.display_name, "seal": container.seal_number}
        if container.has_vgm:
            return message + " " + _("VGM %(kg)s kg.") % {"kg": f"{container.vgm_kg:,.0f}"}
        return message + " " + _("No VGM yet: it is needed before the vessel.")
    container = journey.train_load(actor=actor, number=data["number"], confirmed=confirmed)
    return _("Container %(number)s loaded on train %(departure)s.") % {
        "number": container.number, "departure": container.booking.departure.reference}


IMPORT_SCANS = (ScanAction.STATION_DISCHARGE, ScanAction.GATE_OUT, ScanAction.EMPTY_RETURN)


def _import_scan_apply(actor: Actor, action: str, number: str, confirmed: bool, station: Station | None) -> str:
    """An import step scanned at the gate (journey.imports): the success message, or a refusal raised."""
    if action == ScanAction.STATION_DISCHARGE:
        container = imports.station_discharge(actor=actor, number=number, confirmed=confirmed)
        return _("Container %(number)s discharged from the train at %(station)s.") % {
            "number": container.number, "station": container.booking.departure.service.station.display_name}
    if action == ScanAction.GATE_OUT:
        container = imports.import_gate_out(actor=actor, number=number, confirmed=confirmed)
        return _("Container %(number)s gated out to the consignee at %(station)s.") % {
            "number": container.number, "station": container.booking.departure.service.station.display_name}
    container = imports.empty_return(actor=actor, number=number, station=station, confirmed=confirmed)
    return _("Empty %(number)s taken back at %(station)s: it is in the station's stock for exports.") % {
        "number": container.number, "station": (station or container.booking.departure.service.station).display_name}


def _loading_times(departure: Departure) -> list:
    """What loading a train is shown against at its review step."""
    return [(_("Station closing time"), departure.closing_time), (_("Planned departure"), departure.planned_departure),
            (_("Estimated departure"), departure.estimated_departure)]


def _vessel_loading_times(call: VesselCall) -> list:
    """What loading a vessel is shown against at its review step."""
    return [(_("CY cut-off"), call.cy_cutoff), (_("ETD"), call.etd)]


def _scan_review(request, actor: Actor):
    """A container scanned onto its train is shown against the train's times first and loaded once confirmed,
    like loading the whole train (the review page's button has the focus: Enter records it). None when there is
    nothing to review: a gate-in (at the gate's pace; its time is still checked for plausibility), a scan
    already reviewed, or one refused, which the scan itself then reports."""
    if reviewed(request):
        return None
    form = ScanForm(request.POST)
    if not form.is_valid() or form.cleaned_data["action"] != ScanAction.TRAIN_LOAD:
        return None
    container = (Container.objects.select_related("booking__departure")
                 .filter(number=form.cleaned_data["number"], is_active=True,
                         booking__departure__service__station__in=_stations(actor)).first())
    if container is None:
        return None
    departure = container.booking.departure
    try:
        return review_first(
            request, lambda: _scan_apply(actor, form, _confirmed(request)), back_url=request.get_full_path(),
            action=_("Load %(number)s on train %(ref)s") % {"number": container.number, "ref": departure.reference},
            reported_at=timezone.now(),
            planned=_loading_times(departure))
    except Implausible:
        raise
    except ApplicationError:
        return None


def _scan_post(request, actor: Actor) -> tuple[str | None, ScanForm, str, int]:
    """Handle a scan: (success message or None, the form to show, the reason it failed, status); a scan that
    looks wrong raises Implausible for the confirmation step."""
    form = ScanForm(request.POST)
    if not form.is_valid():
        return None, form, _("Check the fields marked below."), 400
    try:
        message = _scan_apply(actor, form, _confirmed(request), _station_chosen(request, actor)[0])
    except Implausible:
        raise
    except (StateConflict, NotAllowed) as error:
        # The next scan is another container: start from a clean form, keeping the action.
        return None, _fresh_scan_form(form.cleaned_data["action"]), refusal_text(error), error.status
    except ApplicationError as error:
        add_refusal(form, error)
        return None, form, refusal_text(error), error.status
    return message, form, "", 200


@party_required(PartyKind.STATION_OPERATOR)
def station_board(request):
    actor = Actor.from_request(request)
    station, stations = _station_chosen(request, actor)
    if station is None:
        return render(request, "operations/no_station.html")
    action = request.GET.get("action", "")
    if request.method == "POST":
        try:
            page = _scan_review(request, actor)
            if page is not None:
                return page
            message, form, error, status = _scan_post(request, actor)
        except Implausible as implausible:
            return _confirm_report(request, implausible, _("Scan at the gate"), request.get_full_path())
        if message:
            messages.success(request, message)
            return redirect(_url("operations:station-board", station=station.code,
                                 action=form.cleaned_data["action"]))
        context = _board_context(actor, station, stations, scan_form=form, scan_error=error)
        return render(request, "operations/station_board.html", context, status=status)
    context = _board_context(actor, station, stations, action=action, request=request)
    return render(request, "operations/station_board.html", context, status=context["period"].status)


@party_required(PartyKind.STATION_OPERATOR)
def scan(request):
    """The scan form alone, for a handheld at the gate."""
    actor = Actor.from_request(request)
    station, stations = _station_chosen(request, actor)
    if station is None:
        return render(request, "operations/no_station.html")
    form, error, status = _fresh_scan_form(request.GET.get("action", "")), "", 200
    if request.method == "POST":
        try:
            page = _scan_review(request, actor)
            if page is not None:
                return page
            message, form, error, status = _scan_post(request, actor)
        except Implausible as implausible:
            return _confirm_report(request, implausible, _("Scan at the gate"), request.get_full_path())
        if message:
            messages.success(request, message)
            return redirect(_url("operations:scan", station=station.code, action=form.cleaned_data["action"]))
    _focus(form, form.focus_field() if form.is_bound else "number")
    context = {"station": station, "stations": stations, "scan_form": form, "scan_error": error}
    return render(request, "operations/scan.html", context, status=status)


def _empty_request(actor: Actor, pk: int) -> EmptyRequest:
    empty = (
        EmptyRequest.objects.select_related("booking__departure__service__station")
        .filter(pk=pk, booking__departure__service__station__in=_stations(actor))
        .first()
    )
    if empty is None:
        raise Http404
    return empty


def _to_board(station: Station):
    return redirect(_url("operations:station-board", station=station.code))


@party_required(PartyKind.STATION_OPERATOR)
@require_POST
def empty_request_ready(request, pk: int):
    actor = Actor.from_request(request)
    empty = _empty_request(actor, pk)
    try:
        journey.empty_request_ready(actor=actor, request=empty)
    except ApplicationError as error:
        messages.error(request, refusal_text(error))
    else:
        messages.success(request, _("%(quantity)s × %(size_type)s for booking %(ref)s ready for pick-up.") % {
            "quantity": empty.quantity, "size_type": empty.size_type, "ref": empty.booking.reference})
    return _to_board(empty.booking.departure.service.station)


@party_required(PartyKind.STATION_OPERATOR)
@require_POST
def empty_hand_out(request, pk: int):
    actor = Actor.from_request(request)
    empty = _empty_request(actor, pk)
    station = empty.booking.departure.service.station
    form = HandOutForm(request.POST, auto_id=f"id_handout_{empty.pk}_%s")
    status = 400
    if form.is_valid() and form.cleaned_data["numbers"]:
        _hand_out_several(request, actor, empty, form.cleaned_data["numbers"])
        return _to_board(station)
    if form.is_valid():
        try:
            container = journey.empty_hand_out(actor=actor, request=empty, number=form.cleaned_data["number"])
        except ApplicationError as error:
            add_refusal(form, error)
            status = error.status
        else:
            empty.refresh_from_db()
            messages.success(request, _("Empty %(number)s handed out for booking %(ref)s (%(done)s of %(quantity)s).")
                             % {"number": container.number, "ref": empty.booking.reference,
                                "done": empty.handed_out, "quantity": empty.quantity})
            return _to_board(station)
    reasons = " ".join(str(e) for errors in form.errors.values() for e in errors)
    messages.error(request, _("Not handed out: %(reason)s") % {"reason": reasons})
    context = _board_context(actor, station, list(_stations(actor)), hand_out_forms={empty.pk: form})
    return render(request, "operations/station_board.html", context, status=status)


def _hand_out_several(request, actor: Actor, empty: EmptyRequest, numbers: list[str]) -> None:
    """Each number handed out on its own (its own transaction and event): a result per number, so a wrong one
    leaves the others handed out."""
    for number in numbers:
        try:
            number = clean_container_number(number)
            container = journey.empty_hand_out(actor=actor, request=empty, number=number)
        except (ValidationError, ApplicationError) as error:
            reason = " ".join(error.messages) if isinstance(error, ValidationError) else refusal_text(error)
            messages.error(request, _("%(number)s not handed out: %(reason)s") % {"number": number, "reason": reason})
        else:
            messages.success(request, _("Empty %(number)s handed out for booking %(ref)s.")
                             % {"number": container.number, "ref": empty.booking.reference})


@party_required(PartyKind.STATION_OPERATOR)
@require_POST
def load_all_ready(request, reference: str):
    actor = Actor.from_request(request)
    departure = (
        Departure.objects.select_related("service__station")
        .filter(reference=reference, service__station__in=_stations(actor))
        .first()
    )
    if departure is None:
        raise Http404
    action = _("Load all ready on train %(ref)s") % {"ref": departure.reference}
    back = _url("operations:station-board", station=departure.service.station.code)

    def load():
        return journey.train_load_all_ready(actor=actor, departure=departure, confirmed=_confirmed(request))

    try:
        page = review_first(
            request, load, action=action, back_url=back, reported_at=timezone.now(),
            planned=_loading_times(departure),
            consequence=_("Every container gated in for this train and not yet loaded goes on it."))
        if page is not None:
            return page
        loaded = load()
    except Implausible as implausible:
        return _confirm_report(request, implausible, action, back)
    except ApplicationError as error:
        messages.error(request, refusal_text(error))
    else:
        if loaded:
            messages.success(request, ngettext("%(count)s container loaded on train %(ref)s.",
                                               "%(count)s containers loaded on train %(ref)s.", len(loaded))
                             % {"count": len(loaded), "ref": departure.reference})
        else:
            messages.info(request, _("No container was ready to load on train %(ref)s: gate them in first.")
                          % {"ref": departure.reference})
    return _to_board(departure.service.station)


# --- Railway ---------------------------------------------------------------------------------------------


def _railway_departures(actor: Actor) -> QuerySet[Departure]:
    departures = departure_list()
    return departures if _is_admin(actor) else departures.filter(service__operator=actor.organisation)


@party_required(PartyKind.RAILWAY)
def railway_departures(request):
    actor = Actor.from_request(request)
    today = timezone.localdate()
    period = period_from(request, today=today, default_start=today,
                         default_end=today + timedelta(days=RAILWAY_DAYS))
    in_period = Q(service_date__gte=period.start, service_date__lte=period.end)
    if period.includes_today:
        in_period |= Q(status=DepartureStatus.DEPARTED)  # trains still on their way
    departures = (
        _railway_departures(actor)
        .filter(in_period)
        .annotate(container_count=Count("bookings__containers", filter=Q(
            bookings__containers__is_active=True, bookings__status__in=HOLDS_CAPACITY)))
        .order_by("service_date", "planned_departure", "reference")
    )
    stations = Station.objects.all() if _is_admin(actor) else Station.objects.filter(
        services__operator=actor.organisation).distinct()
    station = request.GET.get("station", "")
    if station:
        departures = departures.filter(service__station__code=station)
    sort = sort_from(request, RAILWAY_COLUMNS)
    return render(request, "operations/railway_departures.html",
                  {"departures": sort.apply(departures, within=("service_date",)), "today": period.start,
                   "last_day": period.end, "stations": stations, "station_code": station, "period": period,
                   "sort": sort}, status=period.status)


def _manifest_containers(departure: Departure) -> list[Container]:
    return list(
        travelling_containers().filter(booking__departure=departure)
        .select_related("booking")
        .order_by("booking__reference", "number")
    )


def _railway_departure(actor: Actor, reference: str) -> Departure:
    departure = _railway_departures(actor).filter(reference=reference).first()
    if departure is None:
        raise Http404
    return departure


def _manifest_page(request, actor: Actor, departure: Departure, *, forms: dict | None = None, error: str = "",
                   status: int = 200):
    containers = _manifest_containers(departure)
    context = {
        "departure": departure,
        "containers": containers,
        "total_teu": sum(SIZE_TYPES[c.size_type].teu for c in containers if c.size_type in SIZE_TYPES),
        "dangerous_count": sum(1 for c in containers if c.booking.is_dangerous),
        "can_depart": departure.status in OPEN_DEPARTURE,
        "can_arrive": departure.status == DepartureStatus.DEPARTED,
        "can_delay": departure.status not in (DepartureStatus.ARRIVED, DepartureStatus.CANCELLED),
        "departed_form": ActualTimeForm(auto_id="id_departed_%s"),
        "arrived_form": ActualTimeForm(auto_id="id_arrived_%s"),
        "departed_report": own_report(actor, departure.reference, "DEPA") if departure.actual_departure else None,
        "arrived_report": own_report(actor, departure.reference, "ARRI") if departure.actual_arrival else None,
        "delay_form": DepartureDelayForm(auto_id="id_delay_%s"),
        "action_error": error,
        **(forms or {}),
    }
    if departure.service.is_import:  # its trains arrive at the station, not at the terminal
        context["delay_form"].fields["estimated_arrival"].label = _("New estimated arrival at the station")
        # Off a vessel, a box has no VGM (the shipper's, for loading one): the railway carries it under the weight,
        # seal and B/L the port announced.
        with_announcements(containers)
        context["total_gross_kg"] = announced_gross_kg(containers)
    else:
        with_vgm = [c for c in containers if c.vgm_kg is not None]
        context["total_vgm_kg"] = sum(c.vgm_kg for c in with_vgm)
        context["missing_vgm"] = len(containers) - len(with_vgm)
    return render(request, "operations/railway_manifest.html", context, status=status)


@party_required(PartyKind.RAILWAY)
def railway_manifest(request, reference: str):
    actor = Actor.from_request(request)
    return _manifest_page(request, actor, _railway_departure(actor, reference))


def _report(request, actor, departure, form, form_name, step, success, field_map=None, action="", review=None):
    """Run a report on a departure from its form; back to the manifest with the outcome (or, for a time that looks
    wrong, to the confirmation step). A report with a `review` (data -> its review_page arguments) is first shown
    against the plan and recorded only once confirmed."""
    if not form.is_valid():
        return _manifest_page(request, actor, departure, forms={form_name: form}, status=400)
    back = reverse("operations:manifest", args=[departure.reference])
    try:
        page = review and review_first(request, lambda: step(form.cleaned_data), action=action, back_url=back,
                                       **review(form.cleaned_data))
        if page:
            return page
        step(form.cleaned_data)
    except Implausible as implausible:
        return _confirm_report(request, implausible, action, back)
    except ApplicationError as error:
        add_refusal(form, error, field_map)
        return _manifest_page(request, actor, departure, forms={form_name: form}, error=refusal_text(error),
                              status=error.status)
    messages.success(request, success)
    return redirect("operations:manifest", reference=departure.reference)


@party_required(PartyKind.RAILWAY)
@require_POST
def train_departed(request, reference: str):
    actor = Actor.from_request(request)
    departure = _railway_departure(actor, reference)
    return _report(
        request, actor, departure, ActualTimeForm(request.POST, auto_id="id_departed_%s"), "departed_form",
        lambda data: journey.train_depart(actor=actor, departure=departure, at=data["at"],
                                          confirmed=_confirmed(request)),
        _("Train %(ref)s reported departed.") % {"ref": departure.reference}, {"event_datetime": "at"},
        _("Report train %(ref)s departed") % {"ref": departure.reference},
        review=lambda data: {
            "reported_at": data["at"],
            "planned": [(_("Planned departure"), departure.planned_departure),
                        (_("Estimated departure"), departure.estimated_departure)],
            "consequence": _("Every container loaded on the train goes with it; the others stay at the terminal "
                             "and their consignees are told.") if departure.service.is_import
            else _("Every container loaded on the train goes with it; the others stay at the station and their "
                   "shippers are told."),
        })


@party_required(PartyKind.RAILWAY)
@require_POST
def train_arrived(request, reference: str):
    actor = Actor.from_request(request)
    departure = _railway_departure(actor, reference)
    return _report(
        request, actor, departure, ActualTimeForm(request.POST, auto_id="id_arrived_%s"), "arrived_form",
        lambda data: journey.train_arrive(actor=actor, departure=departure, at=data["at"],
                                          confirmed=_confirmed(request)),
        (_("Train %(ref)s reported arrived at the station.") if departure.service.is_import
         else _("Train %(ref)s reported arrived at the port.")) % {"ref": departure.reference},
        {"event_datetime": "at"},
        _("Report train %(ref)s arrived") % {"ref": departure.reference},
        review=lambda data: {
            "reported_at": data["at"],
            "planned": [(_("Planned arrival"), departure.planned_arrival),
                        (_("Estimated arrival"), departure.estimated_arrival)],
            "consequence": _("The station sees the train's import containers on its track, ready to discharge.")
            if departure.service.is_import else _("The port sees the train's containers at its rail yard, ready to "
                                                  "discharge."),
        })


@party_required(PartyKind.RAILWAY)
@require_POST
def manifest_confirm(request, reference: str):
    """The railway confirms the whole manifest in one go (the containers loaded are the ones the train takes)."""
    actor = Actor.from_request(request)
    departure = _railway_departure(actor, reference)
    try:
        departure = journey.manifest_confirm(actor=actor, departure=departure)
    except ApplicationError as error:
        return _manifest_page(request, actor, departure, error=refusal_text(error), status=error.status)
    messages.success(request, ngettext("Manifest of train %(ref)s confirmed: %(count)s container.",
                                       "Manifest of train %(ref)s confirmed: %(count)s containers.",
                                       departure.manifest_confirmed_containers)
                     % {"ref": departure.reference, "count": departure.manifest_confirmed_containers})
    return redirect("operations:manifest", reference=departure.reference)


@party_required(PartyKind.RAILWAY)
@require_POST
def train_delay(request, reference: str):
    actor = Actor.from_request(request)
    departure = _railway_departure(actor, reference)
    return _report(
        request, actor, departure, DepartureDelayForm(request.POST, auto_id="id_delay_%s"), "delay_form",
        lambda data: journey.departure_estimate(
            actor=actor, departure=departure, estimated_departure=data["estimated_departure"],
            estimated_arrival=data["estimated_arrival"], reason=data["reason"]),
        _("New estimate for train %(ref)s reported; shippers and the port are told.") % {"ref": departure.reference})


# --- Port ------------------------------------------------------------------------------------------------


def _port_filter(actor: Actor, path: str) -> Q:
    """Objects at the port's own terminals; `path` leads to the terminal's operator."""
    return Q() if _is_admin(actor) else Q(**{path: actor.organisation})


@party_required(PartyKind.PORT)
def port_page(request):
    actor = Actor.from_request(request)
    now = timezone.now()
    waiting = Q(bookings__containers__is_active=True,
                bookings__containers__status__in=[ContainerStatus.ARRIVED, ContainerStatus.DISCHARGED])
    terminals = Terminal.objects.filter(_port_filter(actor, "operator")).order_by("code")
    terminal = request.GET.get("terminal", "")
    at_terminal = Q(service__terminal__code=terminal) if terminal else Q()
    arrivals = list(
        departure_list()
        .filter(_port_filter(actor, "service__terminal__operator"), at_terminal,
                status__in=[DepartureStatus.DEPARTED, DepartureStatus.ARRIVED],
                service__direction=Direction.EXPORT)  # imports leave the terminal: the imports page's
        .filter(Q(status=DepartureStatus.DEPARTED) | Q(actual_arrival__gte=now - PORT_ARRIVALS_KEPT) | waiting)
        .distinct()
        .order_by("arrival_expected", "reference")
    )
    by_departure = defaultdict(list)
    for container in (
        Container.objects.filter(booking__departure__in=arrivals, is_active=True, booking__status__in=HOLDS_CAPACITY)
        .select_related("booking")
        .order_by("booking__reference", "number")
    ):
        by_departure[container.booking.departure_id].append(container)
    for departure in arrivals:
        departure.containers_here = by_departure[departure.pk]
    live_containers = Q(bookings__containers__is_active=True) | Q(bookings__containers__status=ContainerStatus.SAILED)
    live_bookings = Q(bookings__status__in=[*HOLDS_CAPACITY, BookingStatus.SAILED],
                      bookings__direction=Direction.EXPORT)
    today = timezone.localdate(now)
    period = period_from(request, today=today, default_start=today,
                         default_end=today + timedelta(days=PORT_CALL_DAYS))
    if period.is_default:  # the next days, and calls of the last week not yet reported sailed
        when = (Q(etd__lte=now + timedelta(days=PORT_CALL_DAYS))
                & (Q(etd__gte=now - timedelta(days=1))
                   | Q(actual_departure__isnull=True, etd__gte=now - timedelta(days=7))))
    else:
        when = Q(etd__date__gte=period.start, etd__date__lte=period.end)
    calls = (
        VesselCall.objects.select_related("terminal")
        .filter(_port_filter(actor, "terminal__operator"), when, Q(terminal__code=terminal) if terminal else Q())
        .annotate(
            booked_containers=Count("bookings__containers", filter=live_bookings & live_containers),
            loaded_containers=Count("bookings__containers", filter=live_bookings & Q(
                bookings__containers__status__in=[ContainerStatus.ON_VESSEL, ContainerStatus.SAILED])),
        )
        .order_by("etd", "reference")
    )
    sort = sort_from(request, VESSEL_CALL_COLUMNS)
    return render(request, "operations/port.html",
                  {"arrivals": arrivals, "vessel_calls": sort.apply(calls), "days": PORT_CALL_DAYS, "period": period,
                   "sort": sort, "terminals": terminals, "terminal_code": terminal},
                  status=period.status)


def _port_container(actor: Actor, number: str, path: str) -> Container:
    container = (
        Container.objects.select_related("booking__departure", "booking__vessel_call")
        .filter(_port_filter(actor, path), number=number, is_active=True)
        .first()
    )
    if container is None:
        raise Http404
    return container


def _port_step(request, number: str, step, success: str, action: str):
    actor = Actor.from_request(request)
    container = _port_container(actor, number, "booking__departure__service__terminal__operator")
    try:
        step(actor=actor, number=container.number, confirmed=_confirmed(request))
    except Implausible as implausible:
        return _confirm_report(request, implausible, action % {"number": container.number},
                               reverse("operations:port"))
    except ApplicationError as error:
        messages.error(request, refusal_text(error))
    else:
        messages.success(request, success % {"number": container.number})
    return redirect("operations:port")


@party_required(PartyKind.PORT)
@require_POST
def train_discharge(request, number: str):
    return _port_step(request, number, journey.train_discharge, _("Container %(number)s discharged from the train."),
                      _("Discharge %(number)s from the train"))


@party_required(PartyKind.PORT)
@require_POST
def terminal_gate_in(request, number: str):
    return _port_step(request, number, journey.terminal_gate_in, _("Container %(number)s gated in at the terminal."),
                      _("Gate %(number)s in at the terminal"))


def _port_call(actor: Actor, reference: str) -> VesselCall:
    call = (
        VesselCall.objects.select_related("terminal")
        .filter(_port_filter(actor, "terminal__operator"), reference=reference)
        .first()
    )
    if call is None:
        raise Http404
    return call


def _vessel_page(request, actor: Actor, call: VesselCall, *, forms: dict | None = None, error: str = "",
                 status: int = 200):
    containers = list(
        travelling_containers().filter(booking__vessel_call=call, booking__direction=Direction.EXPORT)
        .select_related("booking__departure__service__terminal")
        .order_by("booking__reference", "number")
    )
    customs = customs_labels(containers)
    for container in containers:
        container.made_cutoff = (None if container.terminal_gate_in_at is None
                                 else container.terminal_gate_in_at <= call.cy_cutoff)
        container.customs = customs.get(container.pk, "—")
        container.can_load = container.status == ContainerStatus.AT_TERMINAL and call.actual_departure is None
        container.expected_late = (container.terminal_gate_in_at is None
                                   and container.booking.eta_at_terminal > call.cy_cutoff)
    context = {
        "call": call,
        "containers": containers,
        "loaded_count": sum(1 for c in containers if c.status in (ContainerStatus.ON_VESSEL, ContainerStatus.SAILED)),
        "missing_vgm": sum(1 for c in containers if not c.has_vgm),
        "has_sailed": call.actual_departure is not None,
        "sailed_form": ActualTimeForm(auto_id="id_sailed_%s"),
        "sailed_report": own_report(actor, call.reference, "DEPA") if call.actual_departure else None,
        "estimate_form": VesselEstimateForm(auto_id="id_estimate_%s"),
        "action_error": error,
        **(forms or {}),
    }
    return render(request, "operations/vessel_loading_list.html", context, status=status)


@party_required(PartyKind.PORT)
def vessel_loading_list(request, reference: str):
    actor = Actor.from_request(request)
    return _vessel_page(request, actor, _port_call(actor, reference))


@party_required(PartyKind.PORT)
@require_POST
def vessel_load(request, reference: str, number: str):
    actor = Actor.from_request(request)
    call = _port_call(actor, reference)
    container = _port_container(actor, number, "booking__vessel_call__terminal__operator")
    if container.booking.vessel_call_id != call.pk:
        raise Http404
    action = _("Load %(number)s on %(vessel)s") % {"number": container.number, "vessel": call.vessel_name}
    back = reverse("operations:vessel", args=[call.reference])

    def load():
        return journey.vessel_load(actor=actor, number=container.number, confirmed=_confirmed(request))

    try:
        page = review_first(request, load, action=action, back_url=back, reported_at=timezone.now(),
                            planned=_vessel_loading_times(call))
        if page is not None:
            return page
        load()
    except Implausible as implausible:
        return _confirm_report(request, implausible, action, back)
    except ApplicationError as error:
        messages.error(request, refusal_text(error))
    else:
        messages.success(request, _("Container %(number)s loaded on %(vessel)s.")
                         % {"number": container.number, "vessel": call.vessel_name})
    return redirect("operations:vessel", reference=call.reference)


VESSEL_BULK_MAX = 100


@party_required(PartyKind.PORT)
@require_POST
def vessel_load_selected(request, reference: str):
    """The port loads the containers ticked on the loading list: shown against the vessel's times first (the
    review step, where any that would be refused are named), then each loaded on its own with its own result."""
    actor = Actor.from_request(request)
    call = _port_call(actor, reference)
    back = reverse("operations:vessel", args=[call.reference])
    numbers = list(dict.fromkeys(request.POST.getlist("numbers")))[:VESSEL_BULK_MAX]
    if not numbers:
        messages.error(request, _("Tick the containers to load first."))
        return redirect(back)
    on_call = set(Container.objects.filter(booking__vessel_call=call, number__in=numbers, is_active=True)
                  .values_list("number", flat=True))
    action = ngettext("Load %(count)s container on %(vessel)s %(voyage)s",
                      "Load %(count)s containers on %(vessel)s %(voyage)s", len(numbers)) % {
        "count": len(numbers), "vessel": call.vessel_name, "voyage": call.voyage}

    def load(number):
        if number not in on_call:
            raise StateConflict(_("Container %(number)s is not booked on this vessel.") % {"number": number})
        return journey.vessel_load(actor=actor, number=number, confirmed=_confirmed(request))

    try:
        if not reviewed(request):
            refused = []

            def load_all():
                for number in numbers:
                    try:
                        load(number)
                    except Implausible:
                        raise
                    except ApplicationError as error:
                        refused.append(f"{number}: {refusal_text(error)}")

            rehearse(load_all)
            consequence = " ".join([", ".join(numbers)] + ([_("Refused: %(list)s") % {"list": "; ".join(refused)}]
                                                         if refused else []))
            return review_page(request, action=action, back_url=back, reported_at=timezone.now(),
                               planned=_vessel_loading_times(call),
                               consequence=consequence)
    except Implausible as implausible:
        return _confirm_report(request, implausible, action, back, consequence=", ".join(numbers))
    for number in numbers:
        try:
            load(number)
        except ApplicationError as error:
            messages.error(request, _("%(number)s not loaded: %(reason)s")
                           % {"number": number, "reason": refusal_text(error)})
        else:
            messages.success(request, _("Container %(number)s loaded on %(vessel)s.")
                             % {"number": number, "vessel": call.vessel_name})
    return redirect(back)


def _vessel_report(request, reference, form_class, form_name, step, success, field_map=None, action="",
                   review=None):
    actor = Actor.from_request(request)
    call = _port_call(actor, reference)
    form = form_class(request.POST, auto_id=f"id_{form_name.removesuffix('_form')}_%s")
    if not form.is_valid():
        return _vessel_page(request, actor, call, forms={form_name: form}, status=400)
    action = action % {"vessel": call.vessel_name, "voyage": call.voyage}
    back = reverse("operations:vessel", args=[call.reference])
    try:
        page = review and review_first(request, lambda: step(actor, call, form.cleaned_data), action=action,
                                       back_url=back, **review(call, form.cleaned_data))
        if page:
            return page
        step(actor, call, form.cleaned_data)
    except Implausible as implausible:
        return _confirm_report(request, implausible, action, back)
    except ApplicationError as error:
        add_refusal(form, error, field_map)
        return _vessel_page(request, actor, call, forms={form_name: form}, error=refusal_text(error),
                            status=error.status)
    messages.success(request, success % {"vessel": call.vessel_name, "voyage": call.voyage})
    return redirect("operations:vessel", reference=call.reference)


@party_required(PartyKind.PORT)
@require_POST
def vessel_sailed(request, reference: str):
    return _vessel_report(
        request, reference, ActualTimeForm, "sailed_form",
        lambda actor, call, data: journey.vessel_depart(actor=actor, vessel_call=call, at=data["at"],
                                                        confirmed=_confirmed(request)),
        _("%(vessel)s %(voyage)s reported sailed."), {"event_datetime": "at"}, _("Report %(vessel)s %(voyage)s sailed"),
        review=lambda call, data: {
            "reported_at": data["at"],
            "planned": [(_("ETD"), call.etd)],
            "consequence": _("The containers loaded on board have sailed; the others have missed this vessel and their "
                             "shippers are told."),
        })


@party_required(PartyKind.PORT)
@require_POST
def vessel_estimate(request, reference: str):
    return _vessel_report(
        request, reference, VesselEstimateForm, "estimate_form",
        lambda actor, call, data: journey.vessel_call_estimate(actor=actor, vessel_call=call, eta=data["eta"],
                                                               etd=data["etd"], reason=data["reason"]),
        _("New times for %(vessel)s %(voyage)s reported."))


# --- Corrections -----------------------------------------------------------------------------------------

STEP_NAMES = {
    ("TRANSPORT", "DEPA"): gettext_lazy("Departure"), ("TRANSPORT", "ARRI"): gettext_lazy("Arrival"),
    ("EQUIPMENT", "AVPU"): gettext_lazy("Empties ready"), ("EQUIPMENT", "GTOT"): gettext_lazy("Empty handed out"),
    ("EQUIPMENT", "GTIN"): gettext_lazy("Gate-in"), ("EQUIPMENT", "LOAD"): gettext_lazy("Loaded"),
    ("EQUIPMENT", "DISC"): gettext_lazy("Discharged"),
}


def _correctable_event(actor: Actor, event_id) -> Event:
    """An event the signed-in organisation reported and may correct; any other is a 404."""
    event = events_visible(actor=actor).filter(event_id=event_id).first()
    if event is None or not may_correct(actor, event):
        raise Http404
    return event


def _after_correction(event: Event) -> str:
    """Where the reporter came from: the vessel's or train's page, or the container's journey."""
    if event.event_type == "TRANSPORT" and event.mode_of_transport == "VESSEL":
        return reverse("operations:vessel", args=[event.transport_reference])
    if event.event_type == "TRANSPORT":
        return reverse("operations:manifest", args=[event.transport_reference])
    return _url("operations:track", q=event.equipment_reference or event.booking_reference)


def own_report(actor: Actor, transport_reference: str, code: str) -> Event | None:
    """The current actual report of a train's or vessel's step that the actor's organisation made (to link its
    correction from the manifest and the loading list)."""
    event = (events_visible(actor=actor)
             .filter(event_type="TRANSPORT", event_code=code, classifier="ACT",
                     transport_reference=transport_reference, superseded_by__isnull=True)
             .order_by("-txid", "-id").first())
    return event if event is not None and may_correct(actor, event) else None


@login_required
def event_correct_page(request, event_id):
    """Correct the time of a step the organisation reported: the correction supersedes the report everywhere."""
    actor = Actor.from_request(request)
    event = _correctable_event(actor, event_id)
    corrected_by = Event.objects.filter(supersedes=event).first()
    form = CorrectionForm(request.POST or None, initial={"at": timezone.localtime(event.event_datetime)})
    status = 200
    if request.method == "POST" and corrected_by is None:
        if form.is_valid():
            try:
                event_correct(actor=actor, event=event, at=form.cleaned_data["at"],
                              reason=form.cleaned_data["reason"], confirmed=_confirmed(request))
            except Implausible as implausible:
                return _confirm_report(request, implausible, _("Correct the time"), request.path)
            except ApplicationError as error:
                add_refusal(form, error, {"event_datetime": "at"})
                status = error.status
            else:
                messages.success(request, _("The time is corrected; everyone who was told is told again."))
                return redirect(_after_correction(event))
        else:
            status = 400
    context = {"event": event, "step_name": STEP_NAMES.get((event.event_type, event.event_code), event.event_code),
               "form": form, "corrected_by": corrected_by, "back_url": _after_correction(event)}
    return render(request, "operations/event_correct.html", context, status=status)
