"""An import booking's containers with their holds and free time on the booking page:
`{% load import_pages %}{% import_containers_panel booking %}`.

The booking page (bookings) shows it without importing this app: holds need customs' decisions, which bookings
may not read; the page's template loads the tag, as it does tracking's timeline and documents' B/L panel."""

from django import template

from inbound.selectors import import_departures_for
from journey.imports import with_holds_and_free_time
from operations.import_forms import ImportMoveForm

register = template.Library()


@register.simple_tag(takes_context=True)
def import_move_form(context, booking):
    """The booking page's form to move an import booking to another import departure: the one the page was given
    back with its errors, or a new one offering the departures that can still take the containers."""
    form = context.get("move_form")
    if form is not None:
        return form
    return ImportMoveForm(booking=booking, departures=import_departures_for(vessel_call=booking.vessel_call,
                                                                           teu=booking.teu))


@register.inclusion_tag("operations/includes/imports_containers.html")
def import_containers_panel(booking):
    containers = [container for container in booking.containers.all() if container.is_active or container.returned_at]
    for container in containers:
        container.booking = booking  # the booking page's, with its departure and vessel call
    return {"containers": with_holds_and_free_time(containers)}
