"""Bill of lading pages and API: the shipper's request on the booking page, the station's issue button, the PDF,
and the public verification page the PDF's QR code leads to."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import models
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from bookings import selectors
from bookings.models import BillOfLading, Booking, Container
from bookings.services import handles_containers
from bookings.views import booking_page
from documents.bill_of_lading import (
    BILL_FIELDS,
    REQUESTABLE,
    bill_containers,
    bill_of_lading_issue,
    bill_of_lading_pdf_fill,
    bill_of_lading_request,
    bill_of_lading_verify,
    issue_problems,
    may_issue,
)
from documents.manifest import manifest_get, manifest_pdf, manifest_table
from documents.papers import booking_confirmation_pdf, container_label_pdf, eir_pdf, gate_move
from intermodal.access import Actor
from intermodal.api import KnownFieldsOnly, StrictCharField
from intermodal.errors import ApplicationError, NotFound
from intermodal.exports import export_response
from intermodal.forms import InputPolicyForm
from intermodal.idempotency import IDEMPOTENCY_KEY, idempotent
from intermodal.models import PartyKind, Scope


class BillOfLadingForm(InputPolicyForm, forms.ModelForm):
    class Meta:
        model = BillOfLading
        fields = list(BILL_FIELDS)
        widgets = {name: forms.Textarea(attrs={"rows": 2}) for name in
                   ("shipper_address", "consignee_address", "notify_address", "goods_description")}


def _bill(booking: Booking) -> BillOfLading | None:
    try:
        return booking.bill_of_lading
    except BillOfLading.DoesNotExist:
        return None


def bill_of_lading_context(actor: Actor, booking: Booking, *, form: BillOfLadingForm | None = None) -> dict:
    """What the booking page shows of the B/L: the request form for its shipper, the issue button for the station."""
    bill = _bill(booking)
    is_owner = actor.kind == PartyKind.ENTERPRISE and booking.shipper_id == actor.organisation.pk
    can_request = is_owner and booking.status in REQUESTABLE and not (bill and bill.is_issued)
    if can_request and form is None:
        initial = {"shipper_name": booking.shipper.name, "goods_description": booking.commodity}
        form = BillOfLadingForm(instance=bill, initial=None if bill else initial)
    can_issue = bill is not None and not bill.is_issued and may_issue(actor, booking)
    return {
        "bill": bill,
        "bill_form": form if can_request else None,
        "can_issue_bill": can_issue,
        "bill_problems": issue_problems(booking) if can_issue else [],
    }


def _booking(actor: Actor, reference: str) -> Booking:
    try:
        return selectors.booking_get(actor=actor, reference=reference)
    except NotFound:
        raise Http404 from None


def verify_url_builder(request):
    return lambda token: request.build_absolute_uri(reverse("documents:bill-of-lading-verify", args=[token]))


def _detail_with(request, actor, booking, *, status: int, form=None, error: str = ""):
    return booking_page(request, actor, booking, forms={"bill_form": form} if form is not None else None, error=error,
                   status=status)


@login_required
@require_POST
def request_view(request, reference):
    actor = Actor.from_request(request)
    booking = _booking(actor, reference)
    form = BillOfLadingForm(request.POST)
    if not form.is_valid():
        return _detail_with(request, actor, booking, form=form, status=400)
    try:
        bill_of_lading_request(actor=actor, booking=booking, **form.cleaned_data)
    except ApplicationError as error:
        for name, errors in error.errors.items():
            for message in errors:
                form.add_error(name if name in form.fields else None, message)
        return _detail_with(request, actor, booking, form=form, status=error.status,
                            error="" if error.errors else str(error.message))
    messages.success(request, _("Your bill of lading request is with station %(station)s.")
                     % {"station": booking.departure.service.station.code})
    return redirect("bookings:detail", reference=booking.reference)


@login_required
@require_POST
def issue_view(request, reference):
    actor = Actor.from_request(request)
    booking = _booking(actor, reference)
    try:
        bill = bill_of_lading_issue(actor=actor, booking=booking, verify_url=verify_url_builder(request))
    except ApplicationError as error:
        return _detail_with(request, actor, booking, status=error.status, error=str(error.message))
    messages.success(request, _("Bill of lading %(number)s issued.") % {"number": bill.number})
    return redirect("bookings:detail", reference=booking.reference)


def _pdf_response(request, bill: BillOfLading) -> HttpResponse:
    if bill.pdf is None:
        bill = bill_of_lading_pdf_fill(bill=bill, verify_url=verify_url_builder(request))
    response = HttpResponse(bytes(bill.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{bill.number}.pdf"'
    return response


@login_required
def pdf_view(request, reference):
    bill = _bill(_booking(Actor.from_request(request), reference))
    if bill is None or not bill.is_issued:
        raise Http404
    return _pdf_response(request, bill)


def verify_view(request, token):
    """Public: what the platform holds of the B/L whose QR code was scanned. No prices; parties by name only."""
    bill = bill_of_lading_verify(token=token)
    if bill is None:
        return render(request, "bookings/bill_of_lading_verify.html", {"bill": None}, status=404)
    return render(request, "bookings/bill_of_lading_verify.html", {
        "bill": bill, "booking": bill.booking, "containers": list(bill_containers(bill.booking)),
    })


# --- API -------------------------------------------------------------------------------------------------


class BillOfLadingSerializer(KnownFieldsOnly, serializers.ModelSerializer):
    # The B/L's texts must arrive as strings (schemathesis: a number for marks_and_numbers was stored as text).
    serializer_field_mapping = {**serializers.ModelSerializer.serializer_field_mapping,
                                models.CharField: StrictCharField, models.TextField: StrictCharField}
    booking = serializers.CharField(source="booking.reference", read_only=True)
    place_of_issue = serializers.CharField(source="place_of_issue.code", read_only=True, allow_null=True)
    pdf_url = serializers.SerializerMethodField()
    verify_url = serializers.SerializerMethodField()

    class Meta:
        model = BillOfLading
        fields = ["booking", "status", "number", *BILL_FIELDS, "requested_at", "place_of_issue", "issued_at",
                  "pdf_sha256", "pdf_url", "verify_url"]
        read_only_fields = ["status", "number", "requested_at", "issued_at", "pdf_sha256"]

    def get_pdf_url(self, bill) -> str | None:
        if not bill.is_issued:
            return None
        return self.context["request"].build_absolute_uri(
            reverse("api-bill-of-lading-pdf", args=[bill.booking.reference]))

    def get_verify_url(self, bill) -> str | None:
        if not bill.is_issued:
            return None
        return self.context["request"].build_absolute_uri(reverse("documents:bill-of-lading-verify",
                                                                  args=[bill.verification_token]))


class _BillApi(APIView):
    def booking(self, request, reference) -> Booking:
        return selectors.booking_get(actor=Actor.from_request(request), reference=reference)

    def bill(self, booking) -> BillOfLading:
        bill = _bill(booking)
        if bill is None:
            raise NotFound()
        return bill


class BillOfLadingView(_BillApi):
    """A booking's bill of lading: read it (status, parties, number, links), or ask for it (the shipper)."""

    required_scopes = {"GET": Scope.BOOKINGS_READ, "POST": Scope.BOOKINGS_WRITE}

    @extend_schema(responses={200: BillOfLadingSerializer, 404: OpenApiTypes.OBJECT}, summary="Read the B/L")
    def get(self, request, reference):
        bill = self.bill(self.booking(request, reference))
        return Response(BillOfLadingSerializer(bill, context={"request": request}).data)

    @extend_schema(request=BillOfLadingSerializer, responses={200: BillOfLadingSerializer, 400: OpenApiTypes.OBJECT,
                                                              409: OpenApiTypes.OBJECT},
                   parameters=[IDEMPOTENCY_KEY], summary="Ask for (or correct, before issue) the B/L")
    @idempotent
    def post(self, request, reference):
        booking = self.booking(request, reference)
        data = BillOfLadingSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        bill = bill_of_lading_request(actor=Actor.from_request(request), booking=booking, **data.validated_data)
        return Response(BillOfLadingSerializer(bill, context={"request": request}).data)


class BillOfLadingIssueView(_BillApi):
    """The station issues the B/L once the containers are gated in and the declaration is released."""

    required_scopes = {"POST": Scope.EVENTS_WRITE}

    @extend_schema(request=None, responses={200: BillOfLadingSerializer, 409: OpenApiTypes.OBJECT},
                   parameters=[IDEMPOTENCY_KEY], summary="Issue the B/L (station staff)")
    @idempotent
    def post(self, request, reference):
        booking = self.booking(request, reference)
        bill = bill_of_lading_issue(actor=Actor.from_request(request), booking=booking,
                                    verify_url=verify_url_builder(request))
        return Response(BillOfLadingSerializer(bill, context={"request": request}).data)


class BillOfLadingPdfView(_BillApi):
    """The issued B/L's PDF, byte for byte as issued (its SHA-256 is in the B/L's record)."""

    required_scopes = {"GET": Scope.BOOKINGS_READ}

    @extend_schema(responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY),
                              404: OpenApiTypes.OBJECT}, summary="Download the B/L PDF")
    def get(self, request, reference):
        bill = self.bill(self.booking(request, reference))
        if not bill.is_issued:
            raise NotFound()
        return _pdf_response(request, bill)


# --- Train manifests -------------------------------------------------------------------------------------


@login_required
def manifest_view(request, reference: str, file_format: str):
    """A departure's manifest as a printable PDF or a CSV, for the railway, the station and the port."""
    if file_format not in ("pdf", "csv"):
        raise Http404
    actor = Actor.from_request(request)
    try:
        manifest = manifest_get(actor=actor, reference=reference)
    except NotFound:
        raise Http404 from None
    if file_format == "csv":
        return export_response([manifest_table(manifest)], filename=f"manifest-{reference}", file_format="csv")
    response = HttpResponse(manifest_pdf(manifest), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="manifest-{reference}.pdf"'
    return response


# --- Booking confirmation, EIR, container label ----------------------------------------------------------

# The gate's paper (EIR, label) is for those who handle the containers (bookings.services.handles_containers);
# the confirmation for every party that sees the booking.


def _pdf_answer(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _gate_container(request, reference: str, number: str) -> Container:
    """A container of a booking the caller may see, for the gate's paper: the shipper's and its station's."""
    actor = Actor.from_request(request)
    booking = _booking(actor, reference)
    if not handles_containers(actor, booking):
        raise Http404
    container = booking.containers.filter(number=number).order_by("-is_active", "-pk").first()
    if container is None:
        raise Http404
    container.booking = booking
    return container


@login_required
def booking_confirmation_view(request, reference: str):
    actor = Actor.from_request(request)
    booking = _booking(actor, reference)
    content = booking_confirmation_pdf(booking, sees_prices=selectors.sees_prices(actor))
    return _pdf_answer(content, f"booking-{booking.reference}.pdf")


@login_required
def eir_view(request, reference: str, number: str, direction: str):
    move = gate_move(_gate_container(request, reference, number), direction)
    if move is None:
        raise Http404
    return _pdf_answer(eir_pdf(move), f"eir-{direction}-{number}.pdf")


@login_required
def container_label_view(request, reference: str, number: str):
    container = _gate_container(request, reference, number)
    return _pdf_answer(container_label_pdf(container), f"label-{number}.pdf")
