"""Bills of lading issued inland (DESIGN.md section 3): the shipper asks, the station issues.

The shipper gives what the document is to say (shipper, consignee, notify party, goods); once every booked
container is gated in at the station with its seal and VGM and customs and border inspection have released
its declaration, the station's staff issue it: a number, a PDF kept as issued with its SHA-256, and a SHIPMENT
ISSU event for the transport document (TRD). The PDF carries a QR code of the public page where anyone holding
the document can check it against the platform's record.
"""

import hashlib
import io
import secrets
from collections.abc import Callable
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from bookings.models import (
    BillOfLading,
    BillOfLadingStatus,
    Booking,
    BookingStatus,
    ContainerStatus,
    FreightTerms,
)
from customs.models import Declaration, DeclarationStatus
from documents.fonts import font_for
from guard.text import export_text
from intermodal.access import Actor
from intermodal.codes import Classifier, DocumentType, EventType, FacilityKind
from intermodal.errors import InvalidInput, NotAllowed, StateConflict
from intermodal.events import event_record
from intermodal.models import PartyKind

# Containers count as received at the station (pre-entry) from the laden gate-in on.
RECEIVED = (ContainerStatus.GATED_IN, ContainerStatus.ON_TRAIN, ContainerStatus.DEPARTED, ContainerStatus.ARRIVED,
            ContainerStatus.DISCHARGED, ContainerStatus.AT_TERMINAL, ContainerStatus.ON_VESSEL, ContainerStatus.SAILED)
REQUESTABLE = (BookingStatus.CONFIRMED, BookingStatus.IN_TRANSIT, BookingStatus.AT_PORT, BookingStatus.LOADED,
               BookingStatus.SAILED)

def bill_containers(booking: Booking):
    """The booking's containers that travel on it: active ones, and those that have sailed (no longer active)."""
    return booking.containers.filter(Q(is_active=True) | Q(status=ContainerStatus.SAILED)).order_by("number")


def _is_station_staff(actor: Actor, booking: Booking) -> bool:
    if actor.kind == PartyKind.PLATFORM_ADMIN:
        return True
    station = booking.departure.service.station
    return actor.kind == PartyKind.STATION_OPERATOR and station.operator_id == getattr(actor.organisation, "pk", None)


def may_issue(actor: Actor, booking: Booking) -> bool:
    return _is_station_staff(actor, booking)


def issue_problems(booking: Booking) -> list[str]:
    """Why the station cannot issue this booking's B/L now; empty when it can."""
    problems = []
    station = booking.departure.service.station
    if not station.issues_bills_of_lading:
        problems.append(_("Station %(station)s does not issue bills of lading.") % {"station": station.code})
    bill = getattr(booking, "bill_of_lading", None)
    if bill is None:
        problems.append(_("The shipper has not asked for the bill of lading yet."))
    elif bill.is_issued:
        problems.append(_("Bill of lading %(number)s is already issued.") % {"number": bill.number})
    if booking.status not in REQUESTABLE:
        problems.append(_("Booking %(ref)s is %(status)s.") % {"ref": booking.reference,
                                                               "status": booking.get_status_display().lower()})
    containers = list(bill_containers(booking))
    booked = sum(line.quantity for line in booking.lines.all())
    if len(containers) < booked:
        problems.append(_("%(n)s of %(booked)s containers have numbers.") % {"n": len(containers), "booked": booked})
    for container in containers:
        if container.status not in RECEIVED:
            problems.append(
                _("Container %(number)s is not gated in at the station yet.") % {"number": container.number}
            )
        elif not container.seal_number or not container.has_vgm:
            problems.append(_("Container %(number)s lacks its seal or VGM.") % {"number": container.number})
    if containers and not _released(booking):
        problems.extend(
            _("Container %(number)s is not released by customs and border inspection yet.") % {"number": c.number}
            for c in containers
        )
    return problems


def _released(booking: Booking) -> bool:
    """Whether the latest version of the booking's declaration (which covers all its containers) is released."""
    latest = Declaration.objects.filter(booking=booking).order_by("-version").values_list("status", flat=True)
    return latest.first() == DeclarationStatus.RELEASED


def _lock(booking: Booking) -> Booking:
    return (
        Booking.objects.select_for_update(of=("self",))
        .select_related("shipper", "departure__service__station", "departure__service__terminal",
                        "vessel_call__terminal", "destination")
        .get(pk=booking.pk)
    )


BILL_FIELDS = ("shipper_name", "shipper_address", "consignee_name", "consignee_address", "notify_name",
               "notify_address", "goods_description", "marks_and_numbers", "freight_terms")
REQUIRED_FIELDS = ("shipper_name", "shipper_address", "consignee_name", "consignee_address", "notify_name",
                   "notify_address", "goods_description")


def _clean(data: dict) -> dict:
    cleaned = {name: str(data.get(name) or "").strip() for name in BILL_FIELDS}
    cleaned["freight_terms"] = cleaned["freight_terms"] or FreightTerms.PREPAID
    errors = {name: [_("This field is required.")] for name in REQUIRED_FIELDS if not cleaned[name]}
    if cleaned["freight_terms"] not in FreightTerms.values:
        errors["freight_terms"] = [_("Freight is prepaid or collect.")]
    limits = {field.name: field.max_length for field in BillOfLading._meta.fields if field.name in BILL_FIELDS}
    for name, limit in limits.items():
        if limit and len(cleaned[name]) > limit:
            errors.setdefault(name, []).append(_("At most %(n)s characters.") % {"n": limit})
    if errors:
        raise InvalidInput(errors=errors)
    return cleaned


def bill_of_lading_request(*, actor: Actor, booking: Booking, **data) -> BillOfLading:
    """The shipper asks for (or, before issue, corrects) the B/L: the parties and goods it is to show."""
    cleaned = _clean(data)
    with transaction.atomic():
        booking = _lock(booking)
        if actor.kind != PartyKind.PLATFORM_ADMIN and booking.shipper_id != getattr(actor.organisation, "pk", None):
            raise NotAllowed(_("Only the shipper of this booking can ask for its bill of lading."),
                             code="not_the_shipper")
        if booking.status not in REQUESTABLE:
            raise StateConflict(
                _("Booking %(ref)s is %(status)s: confirm it before asking for a bill of lading.")
                % {"ref": booking.reference, "status": booking.get_status_display().lower()},
                code="not_confirmed",
            )
        bill = BillOfLading.objects.select_for_update().filter(booking=booking).first()
        if bill is not None and bill.is_issued:
            raise StateConflict(_("Bill of lading %(number)s is issued: it can no longer change.")
                                % {"number": bill.number}, code="already_issued")
        if bill is None:
            bill = BillOfLading(booking=booking)
        for name, value in cleaned.items():
            setattr(bill, name, value)
        bill.requested_by = actor.user
        bill.save()
        station = booking.departure.service.station
        event_record(
            event_type=EventType.SHIPMENT, event_code="SUBM", classifier=Classifier.ACTUAL,
            organisation=actor.organisation, user=actor.user, document_type=DocumentType.SHI,
            document_reference=booking.reference, booking_reference=booking.reference,
            facility_kind=FacilityKind.STATION, facility_code=station.code, location_unlocode=station.unlocode,
            details={"bill_of_lading": "requested"},
        )
    return bill


def bill_of_lading_issue(*, actor: Actor, booking: Booking, verify_url: Callable[[str], str]) -> BillOfLading:
    """The station issues the B/L: number, PDF with the QR code of `verify_url(token)`, ISSU event."""
    with transaction.atomic():
        booking = _lock(booking)
        if not _is_station_staff(actor, booking):
            raise NotAllowed(
                _("Only staff of station %(station)s can issue this bill of lading.")
                % {"station": booking.departure.service.station.code},
                code="not_your_place",
            )
        bill = BillOfLading.objects.select_for_update().filter(booking=booking).first()
        problems = issue_problems(booking)
        if problems:
            raise StateConflict(" ".join(problems), code="not_ready")
        station = booking.departure.service.station
        now = timezone.now()
        bill.status = BillOfLadingStatus.ISSUED
        bill.number = f"BL{station.unlocode}{timezone.localtime(now):%y}{bill.pk:06d}"
        bill.place_of_issue = station
        bill.issued_at = now
        bill.issued_by = actor.user
        bill.verification_token = secrets.token_urlsafe(24)
        bill.pdf = pdf_render(bill, booking=booking, verify_url=verify_url(bill.verification_token))
        bill.pdf_sha256 = hashlib.sha256(bill.pdf).hexdigest()
        bill.save()
        event_record(
            event_type=EventType.SHIPMENT, event_code="ISSU", classifier=Classifier.ACTUAL, event_datetime=now,
            organisation=actor.organisation, user=actor.user, document_type=DocumentType.TRD,
            document_reference=bill.number, booking_reference=booking.reference,
            transport_reference=booking.vessel_call.reference, facility_kind=FacilityKind.STATION,
            facility_code=station.code, location_unlocode=station.unlocode,
            details={"bill_of_lading": bill.number, "pdf_sha256": bill.pdf_sha256},
        )
    return bill


def bill_of_lading_pdf_fill(*, bill: BillOfLading, verify_url: Callable[[str], str]) -> BillOfLading:
    """The PDF of an issued B/L recorded without one (the demo's history, written in bulk), rendered on its first
    download and kept from then on, with its SHA-256, as an issued B/L's is."""
    with transaction.atomic():
        bill = BillOfLading.objects.select_for_update(of=("self",)).select_related(
            "booking__shipper", "booking__departure__service__station", "booking__departure__service__terminal",
            "booking__vessel_call__terminal", "booking__destination", "place_of_issue").get(pk=bill.pk)
        if bill.pdf is None and bill.is_issued:
            bill.pdf = pdf_render(bill, booking=bill.booking, verify_url=verify_url(bill.verification_token))
            bill.pdf_sha256 = hashlib.sha256(bill.pdf).hexdigest()
            bill.save(update_fields=["pdf", "pdf_sha256"])
    return bill


def bill_of_lading_verify(*, token: str) -> BillOfLading | None:
    """The issued B/L whose QR code carries `token`, or None."""
    if not token:
        return None
    return (
        BillOfLading.objects.select_related("booking__vessel_call__terminal", "booking__destination",
                                            "booking__departure__service__station", "place_of_issue")
        .filter(verification_token=token, status=BillOfLadingStatus.ISSUED)
        .first()
    )


# --- The PDF ---------------------------------------------------------------------------------------------


def _goods(booking: Booking) -> list[dict]:
    """The goods lines of the booking's released declaration; the shipper's description stands when none is."""
    declaration = (
        Declaration.objects.filter(booking=booking, status=DeclarationStatus.RELEASED)
        .order_by("-version").prefetch_related("lines").first()
    )
    if declaration is None:
        return []
    return [
        {"hs_code": line.hs_code, "description": line.description, "quantity": f"{line.quantity.normalize():f}",
         "unit": line.unit, "gross_weight_kg": f"{line.gross_weight_kg:,.1f}"}
        for line in declaration.lines.all()
    ]


def _fit(canvas, text: str, font: str, size: float, width: float) -> list[str]:
    """Words wrapped to a width; a line's words that are wider still are cut."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines = []
    for paragraph in (text or "").splitlines() or [""]:
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}".strip()
            if stringWidth(candidate, font, size) <= width:
                line = candidate
            else:
                if line:
                    lines.append(line)
                line = word
        lines.append(line)
    return lines


def pdf_render(bill: BillOfLading, *, booking: Booking, verify_url: str) -> bytes:
    """The B/L as a one-page A4 PDF (more pages when the containers need them), with the verification QR.
    In English, the language of the trade, whatever the language of the person issuing it."""
    with translation.override("en"):
        return _pdf(bill, booking=booking, verify_url=verify_url)


def _pdf(bill: BillOfLading, *, booking: Booking, verify_url: str) -> bytes:
    from reportlab.graphics import renderPDF
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=0)
    canvas.setTitle(f"Bill of lading {bill.number}")
    canvas.setAuthor(bill.place_of_issue.name)
    width, height = A4
    margin = 15 * mm
    station = bill.place_of_issue
    call = booking.vessel_call
    terminal = call.terminal
    departure = booking.departure

    def text(x, y, value, size=9, bold=False):
        value = export_text(str(value), multiline=False)  # whatever was stored, the PDF is written
        font = font_for(value, bold=bold)
        canvas.setFont(font, size)
        canvas.drawString(x, y, value)

    def box(x, y, w, h, label, lines):
        canvas.rect(x, y - h, w, h)
        text(x + 2 * mm, y - 4 * mm, label, size=7, bold=True)
        row = y - 8.5 * mm
        for value in lines:
            for line in _fit(canvas, value, font_for(value), 9, w - 4 * mm):
                if row < y - h + 2 * mm:
                    break
                text(x + 2 * mm, row, line)
                row -= 4 * mm

    # Heading and the verification QR code
    top = height - margin
    text(margin, top - 6 * mm, "BILL OF LADING", size=18, bold=True)
    text(margin, top - 12 * mm, "Received for shipment - issued inland at the place of receipt (sea-rail)", size=9)
    text(margin, top - 19 * mm, f"B/L No. {bill.number}", size=12, bold=True)
    text(margin, top - 25 * mm, f"Booking {booking.reference}", size=9)
    qr = QrCodeWidget(verify_url)
    x0, y0, x1, y1 = qr.getBounds()
    size = 32 * mm
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(qr)
    renderPDF.draw(drawing, canvas, width - margin - size, top - size)
    text(width - margin - size - 2 * mm, top - size - 4 * mm, "Verify:", size=7, bold=True)
    canvas.setFont("Helvetica", 6)
    canvas.drawRightString(width - margin, top - size - 7 * mm, verify_url)

    half = (width - 2 * margin) / 2
    y = top - 42 * mm
    box(margin, y, half, 28 * mm, "SHIPPER", [bill.shipper_name, bill.shipper_address])
    box(margin + half, y, half, 28 * mm, "PLACE AND DATE OF ISSUE",
        [f"{station.name}, {station.city} ({station.unlocode})",
         timezone.localtime(bill.issued_at).strftime("%Y-%m-%d %H:%M") + " (Asia/Shanghai)"])
    y -= 28 * mm
    box(margin, y, half, 28 * mm, "CONSIGNEE", [bill.consignee_name, bill.consignee_address])
    box(margin + half, y, half, 28 * mm, "NOTIFY PARTY", [bill.notify_name, bill.notify_address])
    y -= 28 * mm
    quarter = half / 2
    box(margin, y, quarter, 16 * mm, "PLACE OF RECEIPT", [f"{station.name} ({station.code})"])
    box(margin + quarter, y, quarter, 16 * mm, "PRE-CARRIAGE BY",
        [f"{departure.service.get_mode_display()} {departure.reference}"])
    box(margin + half, y, quarter, 16 * mm, "OCEAN VESSEL / VOYAGE", [f"{call.vessel_name} / {call.voyage}"])
    box(margin + half + quarter, y, quarter, 16 * mm, "CARRIER", [call.carrier])
    y -= 16 * mm
    box(margin, y, half, 16 * mm, "PORT OF LOADING", [f"{terminal.name}, Ningbo-Zhoushan ({terminal.port_unlocode})"])
    box(margin + half, y, half, 16 * mm, "PORT OF DISCHARGE",
        [f"{booking.destination.name} ({booking.destination.unlocode})"])
    y -= 22 * mm

    text(margin, y, "CONTAINERS", size=8, bold=True)
    y -= 5 * mm
    columns = (margin, margin + 35 * mm, margin + 75 * mm, margin + 100 * mm, margin + 135 * mm)
    for x, heading in zip(columns, ("Container", "Seal", "Size-type", "VGM (kg)", "VGM method"), strict=True):
        text(x, y, heading, size=8, bold=True)
    total_vgm = Decimal("0")
    containers = list(bill_containers(booking))
    for container in containers:
        y -= 4.5 * mm
        if y < 40 * mm:
            canvas.showPage()
            y = height - margin
        total_vgm += container.vgm_kg or 0
        values = (container.number, container.seal_number, container.size_type, f"{container.vgm_kg:,.1f}",
                  str(container.vgm_method or ""))
        for x, value in zip(columns, values, strict=True):
            text(x, y, value)
    y -= 8 * mm
    text(margin, y, f"{len(containers)} container(s); total VGM {total_vgm:,.1f} kg; cargo weight "
                    f"{booking.cargo_weight_kg:,.1f} kg", size=9, bold=True)
    y -= 8 * mm
    text(margin, y, "DESCRIPTION OF GOODS", size=8, bold=True)
    y -= 5 * mm
    goods = [bill.goods_description]
    goods += [f"HS {line['hs_code']}: {line['description']}, {line['quantity']} {line['unit']}, "
              f"{line['gross_weight_kg']} kg" for line in _goods(booking)]
    if bill.marks_and_numbers:
        goods.append(f"Marks and numbers: {bill.marks_and_numbers}")
    if booking.is_dangerous:
        goods.append(f"Dangerous goods: UN {booking.un_number}, IMDG class {booking.imdg_class}")
    for value in goods:
        for line in _fit(canvas, value, font_for(value), 9, width - 2 * margin):
            if y < 25 * mm:
                canvas.showPage()
                y = height - margin
            text(margin, y, line)
            y -= 4.5 * mm
    y -= 3 * mm
    text(margin, max(y, 20 * mm), f"{bill.get_freight_terms_display()}. Issued by {station.name} for the carrier; "
                                  "one original.", size=8)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
