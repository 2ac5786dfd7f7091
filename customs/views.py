"""Declaration pages: the shipper declares a booking's goods, edits the draft, submits and amends; customs and
border-inspection officers work their queue, decide, and schedule and record the joint inspection.

Thin: reads go through customs.selectors (another organisation's declaration is a 404), writes through
customs.services, whose refusals are shown on the page with their reason and status, never as a 500.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from bookings import selectors as booking_selectors
from customs import selectors, services
from customs.forms import (
    BulkClearForm,
    DecisionForm,
    DeclarationForm,
    QueueFilterForm,
    ResultForm,
    ScheduleForm,
    add_declaration_error,
)
from customs.models import Declaration, DeclarationStatus
from databases.replicas import reads_from_replica
from intermodal.access import Actor
from intermodal.errors import ApplicationError, InvalidInput, NotFound
from intermodal.models import PartyKind
from intermodal.sorting import Column, sort_from
from stations.models import localised

PAGE_SIZE = 25
QUEUE_COLUMNS = {  # the officers' queue's sortable columns (intermodal/sorting.py); oldest first by default
    "reference": Column(gettext_lazy("Reference"), ("reference",)),
    "station": Column(gettext_lazy("Station"), ("station__code",)),
    "submitted": Column(gettext_lazy("Submitted"), ("submitted_at",)),
    "risk": Column(gettext_lazy("Risk selection"), ("risk_selected",)),
    "status": Column(gettext_lazy("Status"), ("status",)),
}
OFFICERS = selectors.OFFICERS
DECIDABLE = (DeclarationStatus.SUBMITTED, DeclarationStatus.INSPECTION_REQUIRED, DeclarationStatus.INSPECTED)


def _declaration(actor: Actor, reference: str) -> Declaration:
    try:
        return selectors.declaration_get(actor=actor, reference=reference)
    except NotFound:
        raise Http404 from None


def _not_for_you(request):
    return render(request, "customs/not_for_you.html", status=403)


def _is_declarant(actor: Actor, declaration: Declaration) -> bool:
    return actor.kind == PartyKind.ENTERPRISE and declaration.declarant_id == actor.organisation.pk


# --- Lists -----------------------------------------------------------------------------------------------


@login_required
@reads_from_replica
def declaration_list(request):
    """Officers: their queue and clearance figures. Shippers: their declarations. Platform admins: all."""
    actor = Actor.from_request(request)
    if actor.kind in OFFICERS:
        return _queue(request, actor)
    if actor.kind not in (PartyKind.ENTERPRISE, PartyKind.PLATFORM_ADMIN):
        return _not_for_you(request)
    page = Paginator(selectors.declaration_list(actor=actor), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "customs/list.html",
        {"page": page, "declarations": page.object_list, "is_shipper": actor.kind == PartyKind.ENTERPRISE},
    )


def _queue(request, actor: Actor):
    stations = list(actor.organisation.covered_stations.order_by("code"))
    form = QueueFilterForm(request.GET or None, stations=stations)
    sort = sort_from(request, QUEUE_COLUMNS)
    page = Paginator(sort.apply(selectors.declaration_queue(actor=actor, **form.queue_kwargs())), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    figures = []
    for row in selectors.clearance_figures(actor=actor):
        clearance = row["clearance"]
        share = row["share_without_inspection"]
        figures.append(
            {
                **row,
                "station_name": localised(row["station__name"], row["station__name_zh"]),
                "clearance_hours": clearance.total_seconds() / 3600 if clearance is not None else None,
                "share_percent": share * 100 if share is not None else None,
            }
        )
    return render(
        request,
        "customs/queue.html",
        {"form": form, "page": page, "declarations": list(page.object_list), "figures": figures, "sort": sort,
         "querystring": query.urlencode()},
    )


# --- A declaration ---------------------------------------------------------------------------------------


def _reason(error: ApplicationError) -> str:
    """The refusal in words: its field messages where it has them (e.g. from a submission), else its message."""
    return " ".join(str(m) for messages in error.errors.values() for m in messages) or str(error.message)


def _detail(request, actor: Actor, declaration: Declaration, *, forms: dict | None = None, error=None):
    is_declarant = _is_declarant(actor, declaration)
    is_officer = actor.kind in OFFICERS
    status = declaration.status
    inspection = getattr(declaration, "inspection", None)
    context = {
        "declaration": declaration,
        "booking": declaration.booking,
        "is_declarant": is_declarant,
        "is_officer": is_officer,
        "sees_notes": selectors.sees_officers_notes(actor.kind),
        "inspection": inspection,
        "decisions": list(declaration.decisions.all()),
        "versions": list(
            selectors.declaration_list(actor=actor).filter(booking=declaration.booking_id).order_by("version")
        ),
        "action_error": _reason(error) if error is not None else "",
        "error_status": error.status if error is not None else None,
        "can_edit": is_declarant and status == DeclarationStatus.DRAFT,
        "can_amend": is_declarant and status == DeclarationStatus.REJECTED and declaration.is_current,
        "can_decide": is_officer and status in DECIDABLE,
        "can_schedule": is_officer and status == DeclarationStatus.INSPECTION_REQUIRED,
        "can_record": is_officer
        and status == DeclarationStatus.INSPECTION_REQUIRED
        and inspection is not None
        and inspection.appointment_at is not None,
        "decision_form": DecisionForm(),
        "schedule_form": ScheduleForm(
            initial={"place": inspection.place if inspection else "", "appointment_at": inspection.appointment_at}
            if inspection
            else None
        ),
        "result_form": ResultForm(),
    }
    context.update(forms or {})
    return render(request, "customs/detail.html", context, status=error.status if error is not None else 200)


@login_required
def declaration_detail(request, reference):
    actor = Actor.from_request(request)
    return _detail(request, actor, _declaration(actor, reference))


def _refused(request, actor, declaration, error: ApplicationError, form=None, form_name=""):
    """A service said no: field messages on the form, the reason (and its status) above it."""
    forms = None
    if form is not None and error.errors:
        add_declaration_error(form, error)
        forms = {form_name: form}
    # Re-read: the refused change wrote nothing, but the page shows the declaration as it is now.
    declaration = selectors.declaration_get(actor=actor, reference=declaration.reference)
    return _detail(request, actor, declaration, forms=forms, error=error)


def _done(request, declaration: Declaration, message: str):
    messages.success(request, message)
    return redirect("customs:detail", reference=declaration.reference)


# --- The shipper's declaration ---------------------------------------------------------------------------


@login_required
def declaration_new(request, booking_reference):
    actor = Actor.from_request(request)
    try:
        booking = booking_selectors.booking_get(actor=actor, reference=booking_reference)
    except NotFound:
        raise Http404 from None
    if actor.kind != PartyKind.ENTERPRISE or booking.shipper_id != actor.organisation.pk:
        return _not_for_you(request)
    existing = selectors.declaration_list(actor=actor).filter(booking=booking).order_by("-version").first()
    if existing is not None:
        messages.info(request, _("Booking %(ref)s already has a declaration.") % {"ref": booking.reference})
        return redirect("customs:detail", reference=existing.reference)
    form = DeclarationForm(request.POST or None, booking=booking)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                declaration = services.declaration_create(actor=actor, booking=booking, **form.service_fields())
            except ApplicationError as error:
                add_declaration_error(form, error)
                status = error.status
            else:
                return _done(
                    request,
                    declaration,
                    _("Declaration %(ref)s saved as a draft: check it and submit it.") % {"ref": declaration.reference},
                )
    return render(request, "customs/form.html", {"form": form, "booking": booking, "declaration": None}, status=status)


@login_required
def declaration_edit(request, reference):
    actor = Actor.from_request(request)
    declaration = _declaration(actor, reference)
    if not _is_declarant(actor, declaration):
        return _not_for_you(request)
    if declaration.status != DeclarationStatus.DRAFT:
        messages.warning(request, _("Only a draft declaration can be changed."))
        return redirect("customs:detail", reference=declaration.reference)
    booking = declaration.booking
    form = DeclarationForm(request.POST or None, booking=booking, declaration=declaration)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                declaration = services.declaration_update(actor=actor, declaration=declaration, **form.service_fields())
            except ApplicationError as error:
                add_declaration_error(form, error)
                status = error.status
            else:
                return _done(request, declaration, _("Declaration %(ref)s saved.") % {"ref": declaration.reference})
    return render(
        request, "customs/form.html", {"form": form, "booking": booking, "declaration": declaration}, status=status
    )


@login_required
@require_POST
def declaration_submit(request, reference):
    actor = Actor.from_request(request)
    declaration = _declaration(actor, reference)
    try:
        declaration = services.declaration_submit(actor=actor, declaration=declaration)
    except ApplicationError as error:
        return _refused(request, actor, declaration, error)
    return _done(
        request, declaration, _("Declaration %(ref)s submitted to customs and border inspection.")
        % {"ref": declaration.reference}
    )


@login_required
@require_POST
def declaration_amend(request, reference):
    actor = Actor.from_request(request)
    declaration = _declaration(actor, reference)
    try:
        amended = services.declaration_amend(actor=actor, declaration=declaration)
    except ApplicationError as error:
        return _refused(request, actor, declaration, error)
    messages.success(
        request,
        _("Version %(version)s of the declaration drafted as %(ref)s: correct it and submit it again.")
        % {"version": amended.version, "ref": amended.reference},
    )
    return redirect("customs:edit", reference=amended.reference)


# --- The officers' decisions and the joint inspection ----------------------------------------------------


@login_required
@require_POST
def declaration_decide(request, reference):
    actor = Actor.from_request(request)
    declaration = _declaration(actor, reference)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _detail(request, actor, declaration, forms={"decision_form": form}, error=_invalid())
    try:
        declaration = services.declaration_decide(actor=actor, declaration=declaration, **form.cleaned_data)
    except ApplicationError as error:
        return _refused(request, actor, declaration, error, form, "decision_form")
    return _done(
        request,
        declaration,
        _("Decision recorded. Declaration %(ref)s is now %(status)s.")
        % {"ref": declaration.reference, "status": declaration.get_status_display().lower()},
    )


BULK_MAX = PAGE_SIZE  # a page of the queue at a time


@login_required
@require_POST
def declarations_clear(request):
    """An officer clears the declarations ticked on the queue, each in its own transaction: a per-declaration
    result, so one refused (decided meanwhile, another office's) leaves the others cleared."""
    actor = Actor.from_request(request)
    if actor.kind not in OFFICERS:
        return _not_for_you(request)
    references = request.POST.getlist("bulk-references")[:BULK_MAX]
    form = BulkClearForm(request.POST, references=references)
    if not form.is_valid():
        for messages_of_field in form.errors.values():
            for message in messages_of_field:
                messages.error(request, message)
        return redirect("customs:list")
    for reference in form.cleaned_data["references"]:
        try:
            declaration = selectors.declaration_get(actor=actor, reference=reference)
            declaration = services.declaration_decide(actor=actor, declaration=declaration, kind="clear",
                                                      reason=form.cleaned_data["reason"])
        except NotFound:
            messages.error(request, _("%(ref)s: not in your queue.") % {"ref": reference})
        except ApplicationError as error:
            messages.error(request, _("%(ref)s: %(reason)s") % {"ref": reference, "reason": _reason(error)})
        else:
            messages.success(request, _("%(ref)s cleared: now %(status)s.")
                             % {"ref": reference, "status": declaration.get_status_display().lower()})
    return redirect("customs:list")


@login_required
@require_POST
def declaration_schedule(request, reference):
    actor = Actor.from_request(request)
    declaration = _declaration(actor, reference)
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        return _detail(request, actor, declaration, forms={"schedule_form": form}, error=_invalid())
    try:
        services.inspection_schedule(actor=actor, declaration=declaration, **form.cleaned_data)
    except ApplicationError as error:
        return _refused(request, actor, declaration, error, form, "schedule_form")
    return _done(request, declaration, _("Joint inspection scheduled."))


@login_required
@require_POST
def declaration_record(request, reference):
    actor = Actor.from_request(request)
    declaration = _declaration(actor, reference)
    form = ResultForm(request.POST)
    if not form.is_valid():
        return _detail(request, actor, declaration, forms={"result_form": form}, error=_invalid())
    try:
        declaration = services.inspection_record(actor=actor, declaration=declaration, **form.cleaned_data)
    except ApplicationError as error:
        return _refused(request, actor, declaration, error, form, "result_form")
    return _done(
        request,
        declaration,
        _("Inspection result recorded. Declaration %(ref)s is now %(status)s.")
        % {"ref": declaration.reference, "status": declaration.get_status_display().lower()},
    )


def _invalid() -> ApplicationError:
    return InvalidInput(_("Correct the fields marked below."))
