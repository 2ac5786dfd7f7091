"""The paper the gate and the shipper still need, printed from the pages: the booking confirmation, the equipment
interchange receipt (EIR) of a container handed out empty or gated in laden at the station, and the container
label with a scannable code. In the reader's language, Chinese names in the embedded font (documents/fonts.py);
each is drawn from what the platform recorded, never from what the request says."""

import io
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from bookings.models import Booking, Container
from documents.fonts import font_for
from guard.text import export_text
from intermodal.models import Event
from intermodal.templatetags.moments import moment
from stations.models import localised

# The station's two gate moves a receipt is given for: (event code, empty?) of the container's event.
EIR_MOVES = {"out": ("GTOT", True), "in": ("GTIN", False)}


class Sheet:
    """A reportlab canvas with the documents' way of writing text: Helvetica or the CJK font, cut to a width."""

    def __init__(self, pagesize, title: str):
        from reportlab.pdfgen.canvas import Canvas

        self.buffer = io.BytesIO()
        self.canvas = Canvas(self.buffer, pagesize=pagesize, invariant=1, pageCompression=0)
        self.canvas.setTitle(title)
        self.width, self.height = pagesize

    def text(self, x, y, value, size=9, bold=False, limit=None, right=False):
        value = export_text("" if value is None else str(value), multiline=False)
        font = font_for(value, bold=bold)
        while limit and len(value) > 1 and self.canvas.stringWidth(value, font, size) > limit:
            value = value[:-2] + "…"
        self.canvas.setFont(font, size)
        (self.canvas.drawRightString if right else self.canvas.drawString)(x, y, value)

    def facts(self, x, y, rows: list[tuple[str, object]], *, label_width, size=9, step=None, limit=None) -> float:
        """Label / value rows from (x, y) down; where the next row would start."""
        from reportlab.lib.units import mm

        step = step or size * 0.5 * mm + 2.2 * mm
        for label, value in rows:
            self.text(x, y, label, size=size - 1, bold=True)
            self.text(x + label_width, y, value, size=size, limit=limit)
            y -= step
        return y

    def code(self, value: str, x, y, *, width, height, qr_size):
        """The value as a Code 128 barcode (the scanners at the gate) and a QR code (phones) side by side."""
        from reportlab.graphics import renderPDF
        from reportlab.graphics.barcode.code128 import Code128
        from reportlab.graphics.barcode.qr import QrCodeWidget
        from reportlab.graphics.shapes import Drawing

        bar = Code128(value, barHeight=height, humanReadable=False)
        bar.barWidth = max(width / bar.width * bar.barWidth, 0.5)
        bar = Code128(value, barHeight=height, barWidth=bar.barWidth, humanReadable=False)
        bar.drawOn(self.canvas, x, y)
        qr = QrCodeWidget(value)
        x0, y0, x1, y1 = qr.getBounds()
        drawing = Drawing(qr_size, qr_size, transform=[qr_size / (x1 - x0), 0, 0, qr_size / (y1 - y0), 0, 0])
        drawing.add(qr)
        renderPDF.draw(drawing, self.canvas, x + width + qr_size * 0.2, y - (qr_size - height) / 2)

    def signature(self, x, y, label, width):
        self.canvas.line(x, y, x + width, y)
        self.text(x, y - 10, label, size=7)

    def pdf(self) -> bytes:
        self.text(self.width - 20, 12, _("Printed %(when)s") % {"when": moment(timezone.now())}, size=6,
                  right=True)
        self.canvas.save()
        return self.buffer.getvalue()


def _place(station) -> str:
    return f"{localised(station.name, station.name_zh)} ({station.code}, {station.unlocode})"


def _shipper(booking: Booking) -> str:
    return localised(booking.shipper.name, booking.shipper.name_zh)


def _when(value: datetime | None) -> str:
    return moment(value) or "–"


# --- Booking confirmation --------------------------------------------------------------------------------


def booking_confirmation_pdf(booking: Booking, *, sees_prices: bool) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm

    sheet = Sheet(A4, _("Booking confirmation %(ref)s") % {"ref": booking.reference})
    departure, call = booking.departure, booking.vessel_call
    service = departure.service
    margin, top = 18 * mm, sheet.height - 18 * mm
    sheet.text(margin, top, _("Booking confirmation"), size=18, bold=True)
    sheet.text(margin, top - 8 * mm, booking.reference, size=13, bold=True)
    sheet.code(booking.reference, sheet.width - margin - 80 * mm, top - 12 * mm, width=55 * mm, height=12 * mm,
               qr_size=20 * mm)
    y = sheet.facts(margin, top - 24 * mm, [
        (_("Status"), booking.get_status_display()),
        (_("Shipper"), _shipper(booking)),
        (_("Commodity"), booking.commodity),
        (_("Cargo weight"), f"{booking.cargo_weight_kg:,.0f} kg"),
        (_("Containers"), ", ".join(f"{line.quantity} × {line.size_type}" for line in booking.lines.all())
         + f" ({booking.teu} TEU)"),
        (_("Dangerous goods"), f"UN {booking.un_number}, IMDG {booking.imdg_class}" if booking.un_number else "–"),
    ], label_width=45 * mm, limit=120 * mm)
    y -= 4 * mm
    sheet.text(margin, y, _("Rail or barge to the port"), size=11, bold=True)
    y = sheet.facts(margin, y - 7 * mm, [
        (_("From"), _place(service.station)),
        (_("Departure"), f"{departure.reference} · {_when(departure.planned_departure)}"),
        (_("Station closes"), _when(departure.closing_time)),
        (_("To"), localised(service.terminal.name, service.terminal.name_zh)),
        (_("Arrives at the terminal"), _when(departure.expected_arrival)),
    ], label_width=45 * mm, limit=120 * mm)
    y -= 4 * mm
    sheet.text(margin, y, _("Vessel"), size=11, bold=True)
    y = sheet.facts(margin, y - 7 * mm, [
        (_("Vessel"), f"{call.vessel_name} {call.voyage} ({call.carrier})"),
        (_("Destination port"), f"{booking.destination.display_name} ({booking.destination.unlocode})"),
        (_("ETD"), _when(call.etd)),
        (_("CY cut-off"), _when(call.cy_cutoff)),
        (_("VGM cut-off"), _when(call.vgm_cutoff)),
        (_("Customs cut-off"), _when(call.customs_cutoff)),
    ], label_width=45 * mm, limit=120 * mm)
    if sees_prices and booking.quote_total is not None:
        y -= 4 * mm
        sheet.text(margin, y, _("Quote"), size=11, bold=True)
        sheet.facts(margin, y - 7 * mm, [
            (_("Total price"), f"{booking.currency} {booking.quote_total:,.2f}"),
            (_("By road"), f"{booking.currency} {booking.quote_road_haulage:,.2f}"),
            (_("Saving"), f"{booking.currency} {booking.quote_saving:,.2f}"),
        ], label_width=45 * mm)
    return sheet.pdf()


# --- Equipment interchange receipt -----------------------------------------------------------------------


@dataclass
class GateMove:
    container: Container
    direction: str  # "out": handed out empty; "in": gated in laden
    event: Event


def gate_move(container: Container, direction: str) -> GateMove | None:
    """The container's recorded gate move at its station in that direction, or None (nothing to give a receipt
    for)."""
    if direction not in EIR_MOVES:
        return None
    code, empty = EIR_MOVES[direction]
    event = (Event.objects.filter(equipment_reference=container.number, event_code=code,
                                  booking_reference=container.booking.reference,
                                  facility_code=container.booking.departure.service.station.code,
                                  empty_indicator="EMPTY" if empty else "LADEN", superseded_by__isnull=True)
             .order_by("-event_datetime").first())
    return GateMove(container, direction, event) if event is not None else None


def eir_pdf(move: GateMove) -> bytes:
    from reportlab.lib.pagesizes import A5, landscape
    from reportlab.lib.units import mm

    container, booking = move.container, move.container.booking
    station = booking.departure.service.station
    sheet = Sheet(landscape(A5), _("Equipment interchange receipt %(number)s") % {"number": container.number})
    margin, top = 12 * mm, sheet.height - 12 * mm
    sheet.text(margin, top, _("Equipment interchange receipt (EIR)"), size=14, bold=True)
    sheet.text(margin, top - 7 * mm, _("Gate out, empty") if move.direction == "out" else _("Gate in, laden"),
               size=11, bold=True)
    sheet.code(container.number, sheet.width - margin - 75 * mm, top - 10 * mm, width=52 * mm, height=11 * mm,
               qr_size=18 * mm)
    rows = [
        (_("Container number"), container.number),
        (_("Size-type"), container.size_type),
        (_("Booking"), booking.reference),
        (_("Shipper"), _shipper(booking)),
        (_("Station"), _place(station)),
        (_("Time"), _when(move.event.event_datetime)),
    ]
    if move.direction == "in":
        rows += [(_("Seal"), container.seal_number or "–"),
                 (_("VGM"), f"{container.vgm_kg:,.0f} kg" if container.vgm_kg is not None else "–"),
                 (_("Train"), f"{booking.departure.reference} · {_when(booking.departure.planned_departure)}")]
    y = sheet.facts(margin, top - 22 * mm, rows, label_width=38 * mm, limit=130 * mm)
    sheet.text(margin, y - 2 * mm, _("Condition on interchange:"), size=8, bold=True)
    sheet.canvas.rect(margin + 40 * mm, y - 4 * mm, 4 * mm, 4 * mm)
    sheet.text(margin + 46 * mm, y - 3 * mm, _("sound"), size=8)
    sheet.canvas.rect(margin + 70 * mm, y - 4 * mm, 4 * mm, 4 * mm)
    sheet.text(margin + 76 * mm, y - 3 * mm, _("damage noted:"), size=8)
    half = (sheet.width - 2 * margin) / 2
    sheet.signature(margin, 22 * mm, _("For the station"), half - 10 * mm)
    sheet.signature(margin + half, 22 * mm, _("Driver (name, truck plate)"), half - 10 * mm)
    return sheet.pdf()


# --- Container label -------------------------------------------------------------------------------------


def container_label_pdf(container: Container) -> bytes:
    from reportlab.lib.pagesizes import A6, landscape
    from reportlab.lib.units import mm

    booking = container.booking
    call = booking.vessel_call
    sheet = Sheet(landscape(A6), _("Container label %(number)s") % {"number": container.number})
    margin, top = 8 * mm, sheet.height - 8 * mm
    sheet.text(margin, top - 8 * mm, container.number, size=26, bold=True)
    sheet.text(sheet.width - margin, top - 8 * mm, container.size_type, size=18, bold=True, right=True)
    sheet.code(container.number, margin, top - 30 * mm, width=90 * mm, height=16 * mm, qr_size=22 * mm)
    sheet.facts(margin, top - 40 * mm, [
        (_("Booking"), booking.reference),
        (_("Train"), f"{booking.departure.reference} · {_when(booking.departure.planned_departure)}"),
        (_("Vessel"), f"{call.vessel_name} {call.voyage} · {_('ETD')} {_when(call.etd)}"),
        (_("Destination port"), f"{booking.destination.display_name} ({booking.destination.unlocode})"),
        (_("Dangerous goods"), f"UN {booking.un_number}, IMDG {booking.imdg_class}" if booking.un_number else "–"),
    ], label_width=30 * mm, size=8, limit=95 * mm)
    return sheet.pdf()
