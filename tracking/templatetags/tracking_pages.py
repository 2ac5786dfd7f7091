"""A booking's journey on the booking page: `{% load tracking_pages %}{% booking_timeline booking %}`.

The booking page (bookings) shows it without importing this app: the page's template loads the tag."""

from django import template

from tracking.timeline import timeline_build

register = template.Library()


@register.inclusion_tag("tracking/timeline.html")
def booking_timeline(booking):
    return {"timeline": timeline_build(booking=booking)}
