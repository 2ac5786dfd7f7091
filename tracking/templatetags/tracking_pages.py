"""A booking's journey on the booking page: `{% load tracking_pages %}{% booking_timeline booking %}`.

The booking page (bookings) shows it without importing this app: the page's template loads the tag."""

from django import template

from tracking.timeline import journey_map, reports_read, timeline_build

register = template.Library()


@register.inclusion_tag("tracking/timeline.html", takes_context=True)
def booking_timeline(context, booking):
    """The timeline, with links to correct the steps the signed-in person's organisation reported."""
    user = getattr(context.get("request"), "user", None)
    return {"timeline": reports_read(timeline_build(booking=booking)),
            "correcting_organisation": getattr(user, "organisation_id", None)}


@register.simple_tag
def booking_journey_map(booking):
    """The network map with the booking's route and its containers' place (tracking.timeline.journey_map), for the
    booking page: `{% booking_journey_map booking as map %}`."""
    return journey_map(booking)
