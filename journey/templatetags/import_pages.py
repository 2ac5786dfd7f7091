"""An import booking's containers with their holds and free time on the booking page:
`{% load import_pages %}{% import_containers_panel booking %}`.

The booking page (bookings) shows it without importing this app: holds need customs' decisions, which bookings
may not read; the page's template loads the tag, as it does tracking's timeline and documents' B/L panel."""

from django import template

from journey.import_selectors import with_holds_and_free_time

register = template.Library()


@register.inclusion_tag("operations/includes/imports_containers.html")
def import_containers_panel(booking):
    containers = [container for container in booking.containers.all() if container.is_active or container.returned_at]
    for container in containers:
        container.booking = booking  # the booking page's, with its departure and vessel call
    return {"containers": with_holds_and_free_time(containers)}
