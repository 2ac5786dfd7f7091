"""The bill of lading's panel on the booking page: `{% load bill_of_lading %}{% bill_of_lading_panel booking %}`.

The booking page (bookings) shows it without importing this app: the page's template loads the tag."""

from django import template

from documents.views import bill_of_lading_context
from intermodal.access import Actor

register = template.Library()


@register.inclusion_tag("documents/bill_of_lading_panel.html", takes_context=True)
def bill_of_lading_panel(context, booking):
    """The shipper's request form (with its errors, when the request view shows the page again), the station's
    issue button with what still stands in the way, and the issued document."""
    request = context["request"]
    return {
        "booking": booking,
        "request": request,
        "csrf_token": context.get("csrf_token"),
        **bill_of_lading_context(Actor.from_request(request), booking, form=context.get("bill_form")),
    }
