"""Import pages: the consignee's arrivals and import containers (with holds and free time) and its booking of
arriving containers inland; the port's arriving vessels (announce, holds, arrival, discharge) and rail-outbound
lists; the station's import yard (discharge, gate-out, the empty back).

Thin, like operations.views: every step goes through inbound.services or journey.imports, whose refusals are shown
with their reason; reads go through operations.import_selectors, scoped to the signed-in organisation (another
organisation's vessel call, departure, container or station is a 404). Here and not in bookings: holds need
customs' decisions.
"""

from collections import Counter

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from bookings.forms import add_application_error
from bookings.models import HOLDS_CAPACITY, Container, ContainerStatus
from bookings.selectors import booking_get
from bookings.services import quote_build
from bookings.views import booking_page, enterprise_required
from inbound import services as inbound
from inbound.models import HoldKind
from inbound.selectors import import_departures_for, import_departures_for_calls
from intermodal.access import Actor
from intermodal.errors import ApplicationError, NotFound
from intermodal.models import PartyKind
from journey import imports
from journey.plausibility import Implausible
from operations import import_selectors as selectors
from operations.forms import ActualTimeForm, ScanAction, add_refusal, refusal_text
from operations.import_forms import AnnounceForm, ImportBookForm, ImportMoveForm
from operations.views import (
    _confirm_report,
    _confirmed,
    _import_scan_apply,
    _port_filter,
    _station_chosen,
    _stations,
    _url,
    party_required,
)

S = ContainerStatus


# --- The consignee ---------------------------------------------------------------------------------------


def _calls_of(rows) -> list[dict]:
    """Arriving containers grouped by vessel call, then by bill of lading, in the order given."""
    calls: list[dict] = []
    for row in rows:
        if not calls or calls[-1]["call"].pk != row.vessel_call_id:
            calls.append({"call": row.vessel_call, "bills": [], "open": []})
        group = calls[-1]
        if not group["bills"] or group["bills"][-1][0] != row.bl_number:
            group["bills"].append((row.bl_number, []))
        group["bills"][-1][1].append(row)
        if row.booking_id is None:
            group["open"].append(row)
    return calls


def _book_form(group: dict, data=None) -> ImportBookForm:
    return ImportBookForm(data, arrivals=group["open"], departures=group["departures"],
                          auto_id=f"id_{group['call'].reference}_%s", prefix=None)


@party_required(PartyKind.ENTERPRISE)
def consignee_imports(request):
    """The consignee's imports: what is announced for it by vessel and B/L (booked or not), the booking of
    arriving containers inland (quote first, then book), and its import containers with holds and free time."""
    actor = Actor.from_request(request)
    calls = _calls_of(selectors.consignee_arrivals(actor))
    departures = import_departures_for_calls(vessel_calls=[group["call"] for group in calls if group["open"]])
    for group in calls:
        group["departures"] = departures.get(group["call"].pk, [])
    status, error = 200, ""
    chosen = request.POST.get("vessel_call", "") if request.method == "POST" else ""
    for group in calls:
        posted = group["call"].reference == chosen
        group["form"] = _book_form(group, request.POST if posted else None)
        if not posted:
            continue
        outcome = _book(request, actor, group)
        if not isinstance(outcome, int):
            return outcome
        status = outcome
    if chosen and chosen not in {group["call"].reference for group in calls}:
        raise Http404
    if status >= 400:
        error = _("Nothing was booked: check the fields marked below.")
    context = {"calls": calls, "containers": selectors.consignee_containers(actor), "error": error,
               "chosen": chosen, "today": timezone.localdate()}
    return render(request, "operations/imports_consignee.html", context, status=status)


def _book(request, actor: Actor, group: dict):
    """The posted booking form of one vessel call: its quote (the review), or the booking itself; a status to show
    the page with, or the redirect to the new booking."""
    form = group["form"]
    if not form.is_valid():
        return 400
    data = form.cleaned_data
    picked = [row for row in group["open"] if row.number in data["numbers"]]
    try:
        group["quote"] = quote_build(service=data["departure"].service,
                                     lines=Counter(row.size_type for row in picked))
        if request.POST.get("step") != "book":
            group["review"] = True
            return 200
        booking = inbound.import_booking_create(actor=actor, departure=data["departure"],
                                                 vessel_call=group["call"], numbers=data["numbers"],
                                                 commodity=data["commodity"])
    except ApplicationError as error:
        add_refusal(form, error, {"containers": "numbers"})
        group.pop("quote", None)
        return error.status
    messages.success(request, ngettext(
        "Booking %(ref)s confirmed: %(count)s container from %(vessel)s to %(station)s.",
        "Booking %(ref)s confirmed: %(count)s containers from %(vessel)s to %(station)s.", len(picked)) % {
        "ref": booking.reference, "count": len(picked), "vessel": group["call"].vessel_name,
        "station": data["departure"].service.station.display_name})
    return redirect("bookings:detail", reference=booking.reference)


# --- The station's import yard ---------------------------------------------------------------------------


@party_required(PartyKind.STATION_OPERATOR)
def import_yard(request):
    actor = Actor.from_request(request)
    station, stations = _station_chosen(request, actor)
    if station is None:
        return render(request, "operations/no_station.html")
    context = {"station": station, "stations": stations, **selectors.station_import_yard(station)}
    return render(request, "operations/imports_yard.html", context)


def _yard_container(actor: Actor, number: str) -> Container:
    """An active container booked to one of the organisation's stations; any other is a 404."""
    container = (Container.objects.select_related("booking__departure__service__station")
                 .filter(number=number.upper(), is_active=True,
                         booking__departure__service__station__in=_stations(actor)).first())
    if container is None:
        raise Http404
    return container


def _yard_step(request, number: str, action: str, title: str):
    """An import step from the yard page, as the same step scanned at the gate."""
    actor = Actor.from_request(request)
    container = _yard_container(actor, number)
    back = _url("operations:import-yard", station=container.booking.departure.service.station.code)
    try:
        message = _import_scan_apply(actor, action, container.number, _confirmed(request), None)
    except Implausible as implausible:
        return _confirm_report(request, implausible, title % {"number": container.number}, back)
    except ApplicationError as error:
        messages.error(request, refusal_text(error))
    else:
        messages.success(request, message)
    return redirect(back)


@party_required(PartyKind.STATION_OPERATOR)
@require_POST
def yard_discharge(request, number: str):
    return _yard_step(request, number, ScanAction.STATION_DISCHARGE, _("Discharge %(number)s from the train"))


@party_required(PartyKind.STATION_OPERATOR)
@require_POST
def yard_gate_out(request, number: str):
    return _yard_step(request, number, ScanAction.GATE_OUT, _("Gate %(number)s out to the consignee"))


@party_required(PartyKind.STATION_OPERATOR)
@require_POST
def yard_empty_return(request, number: str):
    return _yard_step(request, number, ScanAction.EMPTY_RETURN, _("Take the empty %(number)s back"))


# --- The port --------------------------------------------------------------------------------------------


@party_required(PartyKind.PORT)
def port_imports(request):
    """The port's imports: vessels bringing them, with what is announced, discharged and booked inland, and the
    rail-outbound list of each import departure from its terminals."""
    actor = Actor.from_request(request)
    context = {"calls": selectors.port_arriving_calls(actor),
               "departures": selectors.port_outbound_departures(actor)}
    return render(request, "operations/imports_port.html", context)


def _port_call(actor: Actor, reference: str):
    call = selectors.port_call(actor, reference)
    if call is None:
        raise Http404
    return call


def _arrivals_page(request, actor: Actor, call, *, announce_form=None, arrived_form=None, error: str = "",
                   status: int = 200):
    rows = selectors.call_arrivals(call)
    context = {
        "call": call,
        "rows": rows,
        "to_discharge": sum(1 for row in rows if row.discharged_at is None),
        "announce_form": announce_form or AnnounceForm(auto_id="id_announce_%s"),
        "arrived_form": arrived_form or ActualTimeForm(auto_id="id_arrived_%s"),
        "action_error": error,
    }
    return render(request, "operations/imports_call.html", context, status=status)


@party_required(PartyKind.PORT)
def call_arrivals(request, reference: str):
    actor = Actor.from_request(request)
    return _arrivals_page(request, actor, _port_call(actor, reference))


@party_required(PartyKind.PORT)
@require_POST
def call_announce(request, reference: str):
    """The port pastes the carrier's list of a vessel's arriving containers: all kept, or none (errors by row)."""
    actor = Actor.from_request(request)
    call = _port_call(actor, reference)
    form = AnnounceForm(request.POST, auto_id="id_announce_%s")
    if not form.is_valid():
        return _arrivals_page(request, actor, call, announce_form=form, status=400,
                              error=_("Nothing was announced: check the rows named below."))
    try:
        rows = inbound.arrivals_announce(actor=actor, vessel_call=call, items=form.cleaned_data["rows"])
    except ApplicationError as error:
        add_refusal(form, error, {"containers": "rows", "consignee": "rows"})
        return _arrivals_page(request, actor, call, announce_form=form, error=refusal_text(error),
                              status=error.status)
    messages.success(request, ngettext("%(count)s container announced on %(vessel)s %(voyage)s.",
                                       "%(count)s containers announced on %(vessel)s %(voyage)s.", len(rows))
                     % {"count": len(rows), "vessel": call.vessel_name, "voyage": call.voyage})
    return redirect("operations:arrivals", reference=call.reference)


@party_required(PartyKind.PORT)
@require_POST
def call_arrived(request, reference: str):
    """The port reports the vessel alongside: its containers may be discharged."""
    actor = Actor.from_request(request)
    call = _port_call(actor, reference)
    form = ActualTimeForm(request.POST, auto_id="id_arrived_%s")
    if not form.is_valid():
        return _arrivals_page(request, actor, call, arrived_form=form, status=400)
    back = reverse("operations:arrivals", args=[call.reference])
    try:
        imports.vessel_arrive(actor=actor, vessel_call=call, at=form.cleaned_data["at"], confirmed=_confirmed(request))
    except Implausible as implausible:
        return _confirm_report(request, implausible, _("Report %(vessel)s %(voyage)s arrived")
                               % {"vessel": call.vessel_name, "voyage": call.voyage}, back)
    except ApplicationError as error:
        add_refusal(form, error, {"event_datetime": "at"})
        return _arrivals_page(request, actor, call, arrived_form=form, error=refusal_text(error),
                              status=error.status)
    messages.success(request, _("%(vessel)s %(voyage)s reported arrived: discharge its containers.")
                     % {"vessel": call.vessel_name, "voyage": call.voyage})
    return redirect(back)


def _announced(request, call, number: str):
    """The container announced on the call, or None with the reason said (the call is the port's own: a number
    not on it is a mistake to tell, not a secret)."""
    arrival = call.arriving_containers.select_related("vessel_call__terminal").filter(number=number.upper()).first()
    if arrival is None:
        messages.error(request, _("Container %(number)s is not announced on %(vessel)s.")
                       % {"number": number, "vessel": call.vessel_name})
    return arrival


@party_required(PartyKind.PORT)
@require_POST
def call_discharge(request, reference: str, number: str):
    actor = Actor.from_request(request)
    call = _port_call(actor, reference)
    back = reverse("operations:arrivals", args=[call.reference])
    arrival = _announced(request, call, number)
    if arrival is None:
        return redirect(back)
    try:
        imports.vessel_discharge(actor=actor, number=arrival.number, confirmed=_confirmed(request))
    except Implausible as implausible:
        return _confirm_report(request, implausible, _("Discharge %(number)s from the vessel")
                               % {"number": arrival.number}, back)
    except ApplicationError as error:
        messages.error(request, refusal_text(error))
    else:
        messages.success(request, _("Container %(number)s discharged from %(vessel)s.")
                         % {"number": arrival.number, "vessel": call.vessel_name})
    return redirect(back)


@party_required(PartyKind.PORT)
@require_POST
def call_hold_lift(request, reference: str, number: str):
    """The port lifts a freight or terminal hold (customs lifts its own by releasing the declaration)."""
    actor = Actor.from_request(request)
    call = _port_call(actor, reference)
    back = reverse("operations:arrivals", args=[call.reference])
    arrival = _announced(request, call, number)
    kind = request.POST.get("kind", "")
    if arrival is None:
        return redirect(back)
    try:
        imports.hold_lift(actor=actor, arrival=arrival, kind=kind)
    except ApplicationError as error:
        messages.error(request, refusal_text(error))
    else:
        messages.success(request, _("The %(kind)s hold on %(number)s is lifted.")
                         % {"kind": HoldKind(kind).label.lower(), "number": arrival.number})
    return redirect(back)


def _outbound_container(actor: Actor, number: str) -> Container:
    container = (Container.objects.select_related("booking__departure")
                 .filter(_port_filter(actor, "booking__departure__service__terminal__operator"),
                         number=number.upper(), is_active=True).first())
    if container is None:
        raise Http404
    return container


@party_required(PartyKind.PORT)
@require_POST
def outbound_load(request, number: str):
    """The port loads one import container on its booked train or barge at the terminal."""
    actor = Actor.from_request(request)
    container = _outbound_container(actor, number)
    back = reverse("operations:port-imports") + f"#outbound-{container.booking.departure.reference}"
    try:
        imports.import_train_load(actor=actor, number=container.number, confirmed=_confirmed(request))
    except Implausible as implausible:
        return _confirm_report(request, implausible, _("Load %(number)s on train %(ref)s")
                               % {"number": container.number, "ref": container.booking.departure.reference}, back)
    except ApplicationError as error:
        messages.error(request, refusal_text(error))
    else:
        messages.success(request, _("Container %(number)s loaded on train %(ref)s.")
                         % {"number": container.number, "ref": container.booking.departure.reference})
    return redirect(back)


@party_required(PartyKind.PORT)
@require_POST
def outbound_load_all(request, reference: str):
    """Every container discharged for this import departure and not yet loaded goes on it, each with its result."""
    actor = Actor.from_request(request)
    departure = selectors.port_departure(actor, reference)
    if departure is None:
        raise Http404
    back = reverse("operations:port-imports")
    numbers = list(Container.objects.filter(booking__departure=departure, booking__status__in=HOLDS_CAPACITY,
                                            is_active=True, status=S.AT_TERMINAL)
                   .order_by("number").values_list("number", flat=True))
    if not numbers:
        messages.info(request, _("No container was ready to load on train %(ref)s: discharge them from the vessel "
                                 "first.") % {"ref": departure.reference})
    loaded = 0
    for number in numbers:
        try:
            imports.import_train_load(actor=actor, number=number, departure=departure, confirmed=_confirmed(request))
        except Implausible as implausible:  # those loaded stay loaded; confirmed, the others follow
            rest = ", ".join(numbers[numbers.index(number):])
            return _confirm_report(request, implausible, _("Load all ready on train %(ref)s")
                                   % {"ref": departure.reference}, back, consequence=rest)
        except ApplicationError as error:
            messages.error(request, _("%(number)s not loaded: %(reason)s")
                           % {"number": number, "reason": refusal_text(error)})
        else:
            loaded += 1
    if loaded:
        messages.success(request, ngettext("%(count)s container loaded on train %(ref)s.",
                                           "%(count)s containers loaded on train %(ref)s.", loaded)
                         % {"count": loaded, "ref": departure.reference})
    return redirect(back)


@enterprise_required
@require_POST
def booking_move(request, reference: str):
    """The consignee moves an import booking to another import departure from the vessel's terminal; the form is
    the booking page's (operations.templatetags.import_pages), shown again there with what was refused."""
    actor = Actor.from_request(request)
    try:
        booking = booking_get(actor=actor, reference=reference)
    except NotFound:
        raise Http404 from None
    departures = import_departures_for(vessel_call=booking.vessel_call, teu=booking.teu) if booking.is_import else []
    form = ImportMoveForm(request.POST, booking=booking, departures=departures)
    if form.is_valid():
        try:
            booking = inbound.import_booking_move(actor=actor, booking=booking, reason=form.cleaned_data["reason"],
                                                  departure=form.cleaned_data["departure"])
        except ApplicationError as error:
            add_application_error(form, error)
            return booking_page(request, actor, booking, forms={"move_form": form}, status=error.status)
        messages.success(request, _("Booking %(ref)s moved to departure %(departure)s.")
                         % {"ref": booking.reference, "departure": booking.departure.reference})
        return redirect("bookings:detail", booking.reference)
    return booking_page(request, actor, booking, forms={"move_form": form}, status=400)
