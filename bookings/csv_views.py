"""CSV and Excel: the bookings list's exports (bookings, their containers) with the list's filters,
and bulk import of bookings from CSV with a progress page."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from bookings import selectors
from bookings.forms import BookingFilterForm
from bookings.imports import MAX_ROWS, booking_import_create, template_rows
from bookings.models import BookingImport, Container
from bookings.views import enterprise_required
from intermodal.access import Actor
from intermodal.errors import ApplicationError
from intermodal.exports import FORMATS, Table, export_response
from intermodal.forms import InputPolicyForm
from intermodal.models import PartyKind

EXPORT_ROWS = 100_000  # a bigger export is a job for the API's paginated lists


def bookings_filtered(request, actor: Actor):
    """The bookings of the list, as filtered on screen (the exports of other apps start from it too)."""
    form = BookingFilterForm(request.GET or None)
    return form.filter(selectors.booking_list(actor=actor))


def _booking_table(bookings, *, prices: bool, parties: bool) -> Table:
    headers = [_("reference"), _("status"), _("station"), _("departure"), _("planned departure"), _("vessel"),
               _("voyage"), _("destination"), _("containers"), _("TEU"), _("commodity"), _("cargo weight kg"),
               _("created"), _("confirmed")]
    if parties:
        headers.insert(1, _("shipper"))
    if prices:
        headers += [_("currency"), _("quote total"), _("road haulage"), _("saving")]

    def rows():
        for b in bookings.iterator(chunk_size=500):
            row = [b.reference, b.get_status_display(), b.departure.service.station.code, b.departure.reference,
                   b.departure.planned_departure, b.vessel_call.vessel_name, b.vessel_call.voyage,
                   b.destination_id, ", ".join(f"{line.quantity}x{line.size_type}" for line in b.lines.all()), b.teu,
                   b.commodity, b.cargo_weight_kg, b.created_at, b.confirmed_at]
            if parties:
                row.insert(1, b.shipper.name)
            if prices:
                row += [b.currency, b.quote_total, b.quote_road_haulage, b.quote_saving]
            yield row

    return Table(_("Bookings"), headers, rows())


def _container_table(bookings) -> Table:
    containers = (Container.objects.filter(booking__in=bookings.values("pk"))
                  .select_related("booking").order_by("booking__reference", "number"))
    headers = [_("container"), _("booking"), _("size-type"), _("status"), _("active"), _("seal"), _("VGM kg"),
               _("VGM method"), _("gated in at the terminal"), _("last event")]
    rows = ([c.number, c.booking.reference, c.size_type, c.get_status_display(), c.is_active, c.seal_number,
             c.vgm_kg, c.vgm_method, c.terminal_gate_in_at, c.last_event_at]
            for c in containers.iterator(chunk_size=1000))
    return Table(_("Containers"), headers, rows)


@login_required
def export(request, kind: str, file_format: str):
    """The bookings of the list as filtered on screen, or their containers (their events: tracking.views)."""
    if file_format not in FORMATS or kind not in ("bookings", "containers"):
        raise Http404
    actor = Actor.from_request(request)
    bookings = bookings_filtered(request, actor)[:EXPORT_ROWS]
    if kind == "bookings":
        table = _booking_table(bookings, prices=selectors.sees_prices(actor),
                               parties=actor.kind not in (PartyKind.ENTERPRISE,))
    else:
        table = _container_table(bookings)
    return export_response([table], filename=kind, file_format=file_format)


# --- Import ----------------------------------------------------------------------------------------------


class ImportForm(InputPolicyForm, forms.Form):
    file = forms.FileField(label=gettext_lazy("CSV file"),
                           widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Put together per request: `gettext_lazy(...) % ...` at import would fix it in the default language.
        self.fields["file"].help_text = _("UTF-8, one booking a row, at most %(n)s rows.") % {"n": MAX_ROWS}


def _imports(actor: Actor):
    return BookingImport.objects.filter(organisation=actor.organisation)


@enterprise_required
def import_start(request):
    actor = Actor.from_request(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                with transaction.atomic():
                    job = booking_import_create(actor=actor, file_name=upload.name[:200], data=upload.read())
            except ApplicationError as error:
                for messages_ in error.errors.values():
                    for message in messages_:
                        form.add_error("file", message)
                status = error.status
            else:
                return redirect("bookings:import-detail", pk=job.pk)
        else:
            status = 400
    return render(request, "bookings/import.html", {
        "form": form, "imports": _imports(actor)[:10], "max_rows": MAX_ROWS,
        "columns": template_rows()[0],
    }, status=status)


def _job(actor: Actor, pk: int) -> BookingImport:
    job = _imports(actor).filter(pk=pk).first()
    if job is None:
        raise Http404
    return job


@enterprise_required
def import_detail(request, pk: int):
    job = _job(Actor.from_request(request), pk)
    return render(request, "bookings/import_detail.html", {"job": job})


def _label(job: BookingImport) -> str:
    if job.status == "validating":
        return _("Checked %(n)s of %(total)s rows") % {"n": job.processed_rows, "total": job.total_rows}
    return str(job.get_status_display())


@never_cache
@enterprise_required
def import_progress(request, pk: int):
    """Polled by the import page: where the worker is (kept in the database)."""
    job = _job(Actor.from_request(request), pk)
    return JsonResponse({
        "status": job.status, "label": _label(job), "total": job.total_rows, "processed": job.processed_rows,
        "percent": job.percent, "finished": job.is_finished, "bad_rows": len(job.errors),
        "created": job.created_references, "url": reverse("bookings:import-detail", args=[job.pk]),
    })


@enterprise_required
def import_template(request):
    return export_response([Table(_("Bookings"), template_rows()[0], template_rows()[1:])],
                           filename="bookings-import-template", file_format="csv")

