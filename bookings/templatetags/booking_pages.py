"""Helpers of the booking pages: amounts of money, container lines, and a booking's history in words."""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.translation import gettext_lazy as _

from bookings.models import BookingStatus, ChangeKind

register = template.Library()

FIELD_LABELS = {
    "status": _("Status"),
    "departure": _("Departure"),
    "vessel_call": _("Vessel call"),
    "destination": _("Destination"),
    "containers": _("Containers"),
    "teu": _("TEU"),
    "quote_total": _("Total price"),
    "container": _("Container"),
    "size_type": _("Size-type"),
    "seal_number": _("Seal"),
    "vgm_kg": _("VGM (kg)"),
    "vgm_method": _("VGM method"),
    "vgm_signatory": _("VGM signatory"),
}
# Only the shipper (and the platform's admins) see what a booking costs, in its history too.
PRICE_KEYS = {"quote_total"}
SHOWN_ON_CREATE = ("containers", "departure", "vessel_call", "destination")


@register.filter
def money(value) -> str:
    """1234567.5 -> '1,234,567.50': grouped by thousands in every page language, as amounts in CNY are written."""
    if value is None or value == "":
        return ""
    try:
        return f"{Decimal(value):,.2f}"
    except (InvalidOperation, TypeError, ValueError):
        return str(value)


@register.filter
def containers(lines) -> str:
    """Booking lines (or a {size-type: count} dict) as '2 x 42G1, 1 x 22G1'."""
    if isinstance(lines, dict):
        return ", ".join(f"{count} x {code}" for code, count in lines.items())
    return ", ".join(f"{line.quantity} x {line.size_type}" for line in lines)


def _shown(key: str, value) -> str:
    if value is None or value == "" or value == {}:
        return "–"
    if key == "status" and value in BookingStatus.values:
        return str(BookingStatus(value).label)
    if key == "containers" and isinstance(value, dict):
        return containers(value)
    if key == "quote_total":
        return money(value)
    return str(value)


@register.simple_tag
def change_rows(change, sees_prices=False) -> list[tuple[str, str | None, str]]:
    """What one history entry changed, as (label, before or None, after) rows."""
    before, after = change.before or {}, change.after or {}
    hidden = set() if sees_prices else PRICE_KEYS
    if not before:
        if change.kind == ChangeKind.CREATED:
            keys = SHOWN_ON_CREATE
        elif change.kind == ChangeKind.CONFIRMED:
            keys = ()  # the kind says it all; the snapshot repeats the booking
        else:
            keys = tuple(after)
        return [(FIELD_LABELS.get(k, k), None, _shown(k, after[k])) for k in keys if k in after and k not in hidden]
    rows = []
    if "container" in after and before.get("container") == after["container"]:
        rows.append((FIELD_LABELS["container"], None, after["container"]))
    for key in dict.fromkeys([*before, *after]):
        if key in hidden or before.get(key) == after.get(key):
            continue
        rows.append((FIELD_LABELS.get(key, key), _shown(key, before.get(key)), _shown(key, after.get(key))))
    return rows
