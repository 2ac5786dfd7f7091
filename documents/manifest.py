"""A train's manifest on paper and in a spreadsheet: every container the departure carries (or is to carry), with
its booking, shipper, seal, VGM, dangerous goods and customs state, and the totals - for the rail desk, the
station's siding and the port's rail yard. An import train's carries, instead of the VGM (a shipper's, for loading a
vessel), the gross weight, seal and B/L the port announced. In the reader's language; Chinese names in an embedded
font."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q
from django.utils.translation import gettext as _

from bookings.models import SIZE_TYPES, Container
from bookings.selectors import travelling_containers
from customs.selectors import customs_labels
from documents.papers import Sheet
from inbound.selectors import announced_gross_kg, with_announcements
from intermodal.access import Actor
from intermodal.errors import NotFound
from intermodal.exports import Table
from intermodal.models import PartyKind
from intermodal.templatetags.moments import moment
from stations.models import Departure, localised


@dataclass
class Manifest:
    departure: Departure
    containers: list[Container]

    @property
    def teu(self) -> int:
        return sum(SIZE_TYPES[c.size_type].teu for c in self.containers if c.size_type in SIZE_TYPES)

    @property
    def is_import(self) -> bool:
        return self.departure.service.is_import

    @property
    def vgm_kg(self) -> Decimal:
        return sum((c.vgm_kg for c in self.containers if c.vgm_kg is not None), Decimal("0"))

    @property
    def gross_kg(self) -> Decimal:
        """An import train's weight: the gross weights the port announced."""
        return announced_gross_kg(self.containers)


def manifest_get(*, actor: Actor, reference: str) -> Manifest:
    """The manifest of a departure the caller works: its railway, its station's staff, the port at its terminal."""
    departures = Departure.objects.select_related("service__station", "service__terminal", "service__operator")
    kind, organisation = actor.kind, actor.organisation
    scope = {
        PartyKind.RAILWAY: Q(service__operator=organisation),
        PartyKind.STATION_OPERATOR: Q(service__station__operator=organisation),
        PartyKind.PORT: Q(service__terminal__operator=organisation),
        PartyKind.PLATFORM_ADMIN: Q(),
    }.get(kind)
    departure = departures.filter(scope, reference=reference).first() if scope is not None else None
    if departure is None:
        raise NotFound()
    containers = list(
        travelling_containers().filter(booking__departure=departure)
        .select_related("booking__shipper", "booking__destination")
        .order_by("booking__reference", "number")
    )
    labels = customs_labels(containers)
    for container in containers:
        container.customs = labels.get(container.pk, "")
    if departure.service.is_import:
        with_announcements(containers)
    return Manifest(departure=departure, containers=containers)


def _headers(manifest: Manifest) -> list[str]:
    if manifest.is_import:  # the booking's organisation is the consignee, its "destination" the port of loading
        return [_("Container number"), _("Size-type"), _("Booking"), _("Consignee"), _("Port of loading"),
                _("B/L"), _("Seal"), _("Gross weight (kg)"), _("Dangerous goods"), _("Customs"), _("Status")]
    return [_("Container number"), _("Size-type"), _("Booking"), _("Shipper"), _("Destination port"), _("Seal"),
            _("VGM (kg)"), _("Dangerous goods"), _("Customs"), _("Status")]


def _row(manifest: Manifest, container: Container) -> list:
    booking = container.booking
    dangerous = f"UN {booking.un_number} / {booking.imdg_class}" if booking.un_number else ""
    shipper = localised(booking.shipper.name, booking.shipper.name_zh)
    if manifest.is_import:
        announced = container.announced
        return [container.number, container.size_type, booking.reference, shipper, booking.destination.unlocode,
                announced.bl_number if announced else "", announced.seal_number if announced else "",
                announced.gross_weight_kg if announced else None, dangerous, container.customs,
                container.get_status_display()]
    return [container.number, container.size_type, booking.reference, shipper,
            booking.destination.unlocode, container.seal_number, container.vgm_kg, dangerous, container.customs,
            container.get_status_display()]


def manifest_table(manifest: Manifest) -> Table:
    return Table(_("Manifest %(ref)s") % {"ref": manifest.departure.reference}, _headers(manifest),
                 [_row(manifest, container) for container in manifest.containers])


def manifest_pdf(manifest: Manifest) -> bytes:
    """An A4 landscape PDF, as many pages as the containers need, each with the train's heading and the columns."""
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import mm

    departure = manifest.departure
    service = departure.service
    sheet = Sheet(landscape(A4), _("Train manifest %(ref)s") % {"ref": departure.reference})
    canvas, text, width, height = sheet.canvas, sheet.text, sheet.width, sheet.height
    margin = 12 * mm
    # mm; the last column takes what is left of the page.
    widths = ([28, 15, 26, 40, 20, 26, 22, 23, 24, 24, 0] if manifest.is_import
              else [30, 17, 32, 58, 20, 24, 20, 26, 26, 0])
    widths[-1] = (width - 2 * margin) / mm - sum(widths[:-1])
    columns = [margin + sum(widths[:i]) * mm for i in range(len(widths))]

    def heading() -> float:
        y = height - margin
        text(margin, y - 4 * mm, _("Train manifest %(ref)s") % {"ref": departure.reference}, size=14, bold=True)
        places = {"station": service.station.display_name, "code": service.station.code,
                  "terminal": service.terminal.display_name, "service": service.code}
        where = (_("%(terminal)s → %(station)s (%(code)s), service %(service)s") if manifest.is_import
                 else _("%(station)s (%(code)s) → %(terminal)s, service %(service)s")) % places
        text(margin, y - 10 * mm, where, size=9)
        when = _("Planned departure %(departs)s, arrival %(arrives)s (Asia/Shanghai) · status %(status)s") % {
            "departs": moment(departure.planned_departure), "arrives": moment(departure.planned_arrival),
            "status": departure.get_status_display()}
        text(margin, y - 15 * mm, when, size=9)
        y -= 22 * mm
        for x, title in zip(columns, _headers(manifest), strict=True):
            text(x, y, title, size=7, bold=True)
        canvas.line(margin, y - 1.5 * mm, width - margin, y - 1.5 * mm)
        return y - 5 * mm

    y = heading()
    for index, container in enumerate(manifest.containers):
        if y < margin + 14 * mm:
            canvas.showPage()
            y = heading()
        for column, (x, value) in enumerate(zip(columns, _row(manifest, container), strict=True)):
            shown = f"{value:,.0f}" if isinstance(value, Decimal) else value
            text(x, y, shown, size=8, limit=widths[column] * mm - 2 * mm)
        y -= 5 * mm
        if index % 5 == 4:
            canvas.setLineWidth(0.2)
            canvas.line(margin, y + 3.5 * mm, width - margin, y + 3.5 * mm)
            canvas.setLineWidth(1)
    if not manifest.containers:
        text(margin, y, _("No containers are booked on this departure yet."), size=9)
        y -= 5 * mm
    canvas.line(margin, y + 2 * mm, width - margin, y + 2 * mm)
    totals = (_("%(n)s containers, %(teu)s TEU, gross weight %(kg)s kg") if manifest.is_import
              else _("%(n)s containers, %(teu)s TEU, VGM %(kg)s kg")) % {
        "n": len(manifest.containers), "teu": manifest.teu,
        "kg": f"{manifest.gross_kg if manifest.is_import else manifest.vgm_kg:,.0f}"}
    text(margin, y - 3 * mm, totals, size=9, bold=True)
    return sheet.pdf()
