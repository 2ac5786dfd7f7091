"""Booking pages: the shippers' booking wizard and changes, and the bookings list and page every party sees.

Thin: reads go through bookings.selectors (scoped to the signed-in organisation: another organisation's
booking is a 404), writes through bookings.services, whose refusals are shown on the page, never as a 500.
"""

import re
import uuid
from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_POST

from bookings import selectors, services
from bookings.forms import (
    CHOICE_FIELDS,
    SEARCH_FIELDS,
    AmendForm,
    BookingFilterForm,
    CancelForm,
    CargoForm,
    ConnectionForm,
    EmptyRequestForm,
    OwnContainerForm,
    RollForm,
    SearchForm,
    add_application_error,
)
from bookings.models import ACTIVE, Booking, BookingStatus
from databases.replicas import reads_from_replica
from intermodal.access import Actor
from intermodal.errors import ApplicationError, NotFound
from intermodal.idempotency import idempotency_answer, idempotency_answer_body, idempotency_claim
from intermodal.models import PartyKind
from intermodal.permissions import page_parties
from intermodal.sorting import Column, sort_from
from stations.selectors import vessel_call_list

PAGE_SIZE = 25
BOOKING_COLUMNS = {  # the bookings list's sortable columns (intermodal/sorting.py)
    "reference": Column(gettext_lazy("Reference"), ("reference",)),
    "status": Column(gettext_lazy("Status"), ("status",)),
    "direction": Column(gettext_lazy("Direction"), ("direction",)),
    "station": Column(gettext_lazy("Station"), ("departure__service__station__code",)),
    "departure": Column(gettext_lazy("Departure"), ("departure__planned_departure",)),
    "vessel": Column(gettext_lazy("Vessel"), ("vessel_call__etd",)),
    "teu": Column(gettext_lazy("TEU"), ("teu",)),
    "created": Column(pgettext_lazy("date a booking was made", "Created"), ("created_at",)),
}
CONTAINER_FIELD = re.compile(r"(st|q)\d+")  # the search's container rows (bookings.forms.SEARCH_FIELDS)
# Which changes the page offers in which state; the services decide, these only spare a refused click.
CANCELLABLE = (BookingStatus.DRAFT, BookingStatus.CONFIRMED)
AMENDABLE = (BookingStatus.DRAFT, BookingStatus.CONFIRMED)
ROLLABLE = (BookingStatus.CONFIRMED, BookingStatus.IN_TRANSIT, BookingStatus.AT_PORT)
# An import moves to another departure, or is cancelled, while its containers wait at the terminal.
IMPORT_MOVABLE = (BookingStatus.CONFIRMED, BookingStatus.AT_PORT)
WIZARD_STEPS = ["search", "connections", "cargo", "review"]
# Five weeks of vessel calls with a daily train each: room for all of them, grouped and folded by vessel.
CONNECTIONS_SHOWN = 200


SHIPPERS_ONLY = frozenset({PartyKind.ENTERPRISE})


def enterprise_required(view):
    """Signed in, as a shipper or forwarder: everyone else gets a page that says who books (403)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        allowed = page_parties(request.resolver_match.view_name, request.method, SHIPPERS_ONLY)
        if Actor.from_request(request).kind not in allowed:
            return render(request, "bookings/shippers_only.html", status=403)
        return view(request, *args, **kwargs)

    return login_required(wrapped)


def _booking(actor: Actor, reference: str) -> Booking:
    try:
        return selectors.booking_get(actor=actor, reference=reference)
    except NotFound:
        raise Http404 from None


# --- My bookings -----------------------------------------------------------------------------------------


@login_required
@reads_from_replica
def booking_list(request):
    actor = Actor.from_request(request)
    form = BookingFilterForm(request.GET or None)
    sort = sort_from(request, BOOKING_COLUMNS)
    bookings = sort.apply(form.filter(selectors.booking_list(actor=actor)))
    page = Paginator(bookings, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "bookings/list.html",
        {
            "form": form,
            "page": page,
            "bookings": page.object_list,
            "sees_prices": selectors.sees_prices(actor),
            "is_shipper": actor.kind == PartyKind.ENTERPRISE,
            "querystring": query.urlencode(),
            "sort": sort,
            "exports": [
                (_("Bookings"), *(reverse("bookings:export", args=["bookings", f]) for f in ("csv", "xlsx"))),
                (_("Containers"), *(reverse("bookings:export", args=["containers", f]) for f in ("csv", "xlsx"))),
                # The events are tracking's to show (who may see which), on its own route.
                (_("Events"), *(reverse("events-export", args=[f]) for f in ("csv", "xlsx"))),
            ],
        },
    )


# --- A booking -------------------------------------------------------------------------------------------


def _lines(booking: Booking) -> dict[str, int]:
    return {line.size_type: line.quantity for line in booking.lines.all()}


def _amend_departures(booking: Booking) -> list:
    """Other departures from the booking's station that make its vessel and have room for it."""
    if booking.status not in AMENDABLE:
        return []
    try:
        connections = selectors.connections_search(
            station=booking.departure.service.station, lines=_lines(booking), vessel_call=booking.vessel_call
        )
    except ApplicationError:  # e.g. a size-type the station's tariffs lack: nothing to offer
        return []
    return [c.departure for c in connections]


def _roll_options(booking: Booking) -> dict:
    """Vessel calls to the booking's destination it may roll to and, before the train leaves, departures."""
    if booking.status not in ROLLABLE:
        return {"vessel_calls": [], "departures": []}
    station = booking.departure.service.station
    calls = vessel_call_list().filter(
        cy_cutoff__gt=timezone.now(), actual_departure__isnull=True, destinations=booking.destination
    )
    departures = []
    if booking.status == BookingStatus.CONFIRMED:
        calls = calls.filter(terminal__services__station=station)
        try:
            connections = selectors.connections_search(
                station=station, lines=_lines(booking), destination=booking.destination
            )
        except ApplicationError:
            connections = []
        departures = list({c.departure.pk: c.departure for c in connections}.values())
    else:  # the train has left: only vessels at the terminal it goes to
        calls = calls.filter(terminal=booking.departure.service.terminal_id)
    return {"vessel_calls": list(calls.distinct().order_by("etd", "reference")), "departures": departures}


def _numbers_missing(booking: Booking) -> bool:
    """Whether the shipper may still put numbers on the booking: it is active and has containers without one."""
    if booking.status not in ACTIVE:
        return False
    booked = sum(line.quantity for line in booking.lines.all())
    return sum(1 for container in booking.containers.all() if container.is_active) < booked  # prefetched


def booking_page(request, actor: Actor, booking: Booking, *, forms: dict | None = None, error: str = "",
                 status=200):
    """The booking page; the B/L's request view (documents) shows it again with its form's errors."""
    is_owner = actor.kind == PartyKind.ENTERPRISE and booking.shipper_id == actor.organisation.pk
    context = {
        "booking": booking,
        "sees_prices": selectors.sees_prices(actor),
        "is_owner": is_owner,
        "action_error": error,
        "empty_requests": list(booking.empty_requests.order_by("requested_at")),
        "bill_form": (forms or {}).get("bill_form"),  # a refused B/L request, shown again with its errors
        # The gate's paper (EIR, labels: documents/papers.py) is the shipper's and its station's.
        "gate_papers": services.handles_containers(actor, booking),
    }
    if is_owner and booking.is_import:
        context.update(_import_actions(booking))
        context.update(forms or {})
    elif is_owner:
        context.update(
            can_confirm=booking.status == BookingStatus.DRAFT,
            can_cancel=booking.status in CANCELLABLE,
            can_amend=booking.status in AMENDABLE,
            can_roll=booking.status in ROLLABLE,
            has_actions=booking.status in (*CANCELLABLE, *ROLLABLE),
            cancel_form=CancelForm(),
            amend_form=AmendForm(booking=booking, departures=_amend_departures(booking)),
            roll_form=RollForm(booking=booking, **_roll_options(booking)),
            can_request_empties=booking.status == BookingStatus.CONFIRMED,
            empty_form=EmptyRequestForm(booking=booking),
            can_add_container=_numbers_missing(booking),
            container_form=OwnContainerForm(booking=booking),
        )
        context.update(forms or {})
    return render(request, "bookings/detail.html", context, status=status)


def _import_actions(booking: Booking) -> dict:
    """What the consignee may change on an import booking: move it to another import departure, or cancel it,
    while its containers wait at the terminal (bookings.arrivals; the services decide, this spares a refused click)."""
    movable = booking.status in IMPORT_MOVABLE
    return {"can_move": movable, "can_cancel": movable, "has_actions": movable, "cancel_form": CancelForm()}


@login_required
def booking_detail(request, reference):
    actor = Actor.from_request(request)
    return booking_page(request, actor, _booking(actor, reference))


def _refused(request, actor, booking, error: ApplicationError, form=None, form_name=""):
    if form is not None:
        add_application_error(form, error)
    return booking_page(
        request,
        actor,
        booking,
        forms={form_name: form} if form is not None else None,
        error=str(error.message) if not error.errors else "",
        status=error.status,
    )


def _done(request, booking: Booking, message: str):
    messages.success(request, message)
    return redirect("bookings:detail", reference=booking.reference)


@enterprise_required
@require_POST
def booking_confirm(request, reference):
    actor = Actor.from_request(request)
    booking = _booking(actor, reference)
    try:
        booking = services.booking_confirm(actor=actor, booking=booking)
    except ApplicationError as error:
        return _refused(request, actor, booking, error)
    return _done(request, booking, _("Booking %(ref)s confirmed.") % {"ref": booking.reference})


@enterprise_required
@require_POST
def booking_cancel(request, reference):
    actor = Actor.from_request(request)
    booking = _booking(actor, reference)
    form = CancelForm(request.POST)
    if not form.is_valid():
        return booking_page(request, actor, booking, forms={"cancel_form": form}, status=400)
    try:
        booking = services.booking_cancel(actor=actor, booking=booking, reason=form.cleaned_data["reason"])
    except ApplicationError as error:
        return _refused(request, actor, booking, error, form, "cancel_form")
    return _done(request, booking, _("Booking %(ref)s cancelled.") % {"ref": booking.reference})


@enterprise_required
@require_POST
def booking_request_empties(request, reference):
    """The shipper asks the station for empty containers for this booking."""
    actor = Actor.from_request(request)
    booking = _booking(actor, reference)
    form = EmptyRequestForm(request.POST, booking=booking)
    if not form.is_valid():
        return booking_page(request, actor, booking, forms={"empty_form": form}, status=400)
    try:
        services.empty_request_create(actor=actor, booking=booking, **form.cleaned_data)
    except ApplicationError as error:
        return _refused(request, actor, booking, error, form, "empty_form")
    return _done(request, booking, _("%(n)s empty %(size_type)s requested at the station.")
                 % {"n": form.cleaned_data["quantity"], "size_type": form.cleaned_data["size_type"]})


@enterprise_required
@require_POST
def booking_add_container(request, reference):
    """The shipper enters a container number it already has (its own, or from the carrier)."""
    actor = Actor.from_request(request)
    booking = _booking(actor, reference)
    form = OwnContainerForm(request.POST, booking=booking)
    if not form.is_valid():
        return booking_page(request, actor, booking, forms={"container_form": form}, status=400)
    try:
        container = services.container_assign(actor=actor, booking=booking, **form.cleaned_data)
    except ApplicationError as error:
        return _refused(request, actor, booking, error, form, "container_form")
    return _done(request, booking, _("Container %(number)s is on booking %(ref)s.")
                 % {"number": container.number, "ref": booking.reference})


@enterprise_required
@require_POST
def booking_amend(request, reference):
    actor = Actor.from_request(request)
    booking = _booking(actor, reference)
    form = AmendForm(request.POST, booking=booking, departures=_amend_departures(booking))
    if not form.is_valid():
        return booking_page(request, actor, booking, forms={"amend_form": form}, status=400)
    try:
        booking = services.booking_amend(
            actor=actor,
            booking=booking,
            lines=form.lines,
            departure=form.departure,
            reason=form.cleaned_data["reason"],
        )
    except ApplicationError as error:
        return _refused(request, actor, booking, error, form, "amend_form")
    return _done(request, booking, _("Booking %(ref)s amended.") % {"ref": booking.reference})


@enterprise_required
@require_POST
def booking_roll(request, reference):
    actor = Actor.from_request(request)
    booking = _booking(actor, reference)
    form = RollForm(request.POST, booking=booking, **_roll_options(booking))
    if not form.is_valid():
        return booking_page(request, actor, booking, forms={"roll_form": form}, status=400)
    try:
        booking = services.booking_roll(
            actor=actor,
            booking=booking,
            vessel_call=form.cleaned_data["vessel_call"],
            departure=form.cleaned_data.get("departure"),
            reason=form.cleaned_data["reason"],
        )
    except ApplicationError as error:
        return _refused(request, actor, booking, error, form, "roll_form")
    return _done(
        request,
        booking,
        _("Booking %(ref)s rolled to %(vessel)s %(voyage)s.")
        % {"ref": booking.reference, "vessel": booking.vessel_call.vessel_name, "voyage": booking.vessel_call.voyage},
    )


# --- The booking wizard ----------------------------------------------------------------------------------


def _carried(data, names) -> list[tuple[str, str]]:
    """The non-empty parameters of earlier steps, to carry on as hidden fields or in a link."""
    return [(name, data[name]) for name in names if data.get(name)]


def _wizard(request, step: str, context: dict, status: int = 200):
    context["step"] = step
    context["step_number"] = WIZARD_STEPS.index(step) + 1
    return render(request, "bookings/new.html", context, status=status)


def _step_search(request, form: SearchForm, status: int = 200):
    return _wizard(request, "search", {"form": form}, status=status)


@enterprise_required
def booking_new(request):
    """One page, four steps: search (GET), connections (GET), cargo (GET, or POST to edit), review (POST).

    The review's "Confirm booking" and "Save as draft" POST everything once more to booking_create.
    """
    data = request.POST if request.method == "POST" else request.GET
    step = data.get("step") or ("connections" if data.get("station") else "search")
    if step == "search" or (request.method == "GET" and step not in ("connections", "cargo")):
        return _step_search(request, SearchForm(initial=dict(_carried(data, SEARCH_FIELDS)) or None))
    search = SearchForm(data)
    if not search.is_valid():
        return _step_search(request, search, status=400 if request.method == "POST" else 200)
    if step == "connections":
        return _step_connections(request, search)
    return _step_booking(request, search, step)


def _wizard_url(search_carry, step: str) -> str:
    return f"{reverse('bookings:new')}?{urlencode([*search_carry, ('step', step)])}"


def _step_connections(request, search: SearchForm):
    """Step 2: the departures that make the vessel (or the vessels to the port), grouped by vessel call."""
    try:
        connections = selectors.connections_search(**search.search_kwargs(), limit=CONNECTIONS_SHOWN)
    except ApplicationError as error:
        add_application_error(search, error)
        return _step_search(request, search)
    groups: list[dict] = []
    for connection in connections:
        if not groups or groups[-1]["call"].pk != connection.vessel_call.pk:
            groups.append({"call": connection.vessel_call, "connections": [], "price_from": connection.quote})
        groups[-1]["connections"].append(connection)
        if connection.quote.total < groups[-1]["price_from"].total:
            groups[-1]["price_from"] = connection.quote
    search_carry = _carried(search.data, SEARCH_FIELDS)
    context = {
        "search": search,
        "groups": groups,
        "count": len(connections),
        "search_query": urlencode(search_carry),
        "change_url": _wizard_url(search_carry, "search"),
        "splits": [] if connections else _split_offers(search, search_carry),
    }
    return _wizard(request, "connections", context)


def _split_offers(search: SearchForm, search_carry: list[tuple[str, str]]) -> list[dict]:
    """When no departure has room for all the containers: the departures that together do, for each vessel, each
    part a link to its own booking (step 3 with that part's containers)."""
    try:
        offers = selectors.split_offers(**search.search_kwargs())
    except ApplicationError:
        return []
    others = [(name, value) for name, value in search_carry if not CONTAINER_FIELD.fullmatch(name)]
    splits = []
    for offer in offers:
        parts = []
        for departure, lines in offer.parts:
            containers = [(f"{key}{n}", value) for n, (size_type, quantity) in enumerate(lines.items(), start=1)
                          for key, value in (("st", size_type), ("q", quantity))]
            query = others + containers + [("departure", departure.reference),
                                           ("vessel", offer.vessel_call.reference), ("step", "cargo")]
            url = f"{reverse('bookings:new')}?{urlencode(query)}"
            parts.append({"departure": departure, "lines": lines, "url": url})
        splits.append({"call": offer.vessel_call, "parts": parts})
    return splits


def _step_booking(request, search: SearchForm, step: str):
    """Steps 3 and 4 with the departure chosen: the cargo form, the review, and the booking itself."""
    data = search.data
    search_carry = _carried(data, SEARCH_FIELDS)
    connections_url = _wizard_url(search_carry, "connections")
    chosen = ConnectionForm(data, station=search.cleaned_data["station"])
    if not chosen.is_valid():
        messages.warning(request, _("That departure is no longer offered. Choose one of these."))
        return redirect(connections_url)
    departure, vessel_call = chosen.cleaned_data["departure"], chosen.cleaned_data["vessel"]
    try:
        quote = services.quote_build(service=departure.service, lines=search.lines)
    except ApplicationError as error:
        add_application_error(search, error)
        return _step_search(request, search)
    posted = request.method == "POST"
    cargo = CargoForm(
        data if posted else None,
        vessel_call=vessel_call,
        has_reefer=search.has_reefer,
        default_destination=search.cleaned_data.get("destination"),
    )
    context = {
        "search": search,
        "departure": departure,
        "vessel_call": vessel_call,
        "quote": quote,
        "cargo_form": cargo,
        "carry": [*search_carry, *_carried(data, CHOICE_FIELDS)],
        "connections_url": connections_url,
        "problems": services.connection_problems(departure=departure, vessel_call=vessel_call),
    }
    if not posted or step == "cargo" or not cargo.is_valid():
        return _wizard(request, "cargo", context, status=400 if posted and cargo.errors else 200)
    # A token per review page: a double click or a resent form books once (an Idempotency-Key for people).
    submission = data.get("submission") or uuid.uuid4().hex
    context["submission"] = submission
    if step not in ("confirm", "draft"):
        return _wizard(request, "review", context)

    actor = Actor.from_request(request)
    try:
        # The token's record, the booking and its answer in one transaction: a booking made is found by a resent
        # form; one refused or lost with the database leaves the token free to submit again.
        with transaction.atomic():
            record, earlier = idempotency_claim(
                organisation=actor.organisation, key=f"page:booking:{submission[:64]}", method="POST",
                path=request.path, fingerprint="booking-wizard")
            if record is not None:
                booking = services.booking_create(
                    actor=actor,
                    departure=departure,
                    vessel_call=vessel_call,
                    lines=search.lines,
                    confirm=step == "confirm",
                    **cargo.booking_fields(),
                )
                idempotency_answer(record, status=201, body={"reference": booking.reference})
    except ApplicationError as error:
        if any(name in cargo.fields for name in error.errors):
            add_application_error(cargo, error)
            return _wizard(request, "cargo", context, status=error.status)
        # A refusal (no capacity left, closed, too late for the vessel): back to the review, with the reason.
        context["error"] = " ".join(str(m) for field in error.errors.values() for m in field) or error.message
        return _wizard(request, "review", context, status=error.status)
    if record is None:
        reference = (idempotency_answer_body(earlier) or {}).get("reference") if earlier else None
        if reference:
            messages.info(request, _("This booking was already submitted."))
            return redirect("bookings:detail", reference=reference)
        context["error"] = _("This booking is being submitted already; wait a moment and look in your bookings.")
        return _wizard(request, "review", context, status=409)
    if booking.status == BookingStatus.CONFIRMED:
        message = _("Booking %(ref)s confirmed.") % {"ref": booking.reference}
    else:
        message = _("Booking %(ref)s saved as a draft: confirm it to reserve the space.") % {"ref": booking.reference}
    return _done(request, booking, message)
