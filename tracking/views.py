"""Tracking pages: signed in (any party, within what its organisation may see) and public (container number
and booking reference together); the events of the bookings list as CSV or Excel."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from bookings.csv_views import EXPORT_ROWS, bookings_filtered
from databases.replicas import reads_from_replica
from intermodal.access import Actor
from intermodal.errors import NotFound
from intermodal.exports import FORMATS, Table, export_response
from intermodal.throttling import address_wait
from tracking import timeline as tracking
from tracking.forms import PublicTrackForm, TrackForm
from tracking.timeline import journey_map
from tracking.visibility import as_seen_by, events_visible


@login_required
@reads_from_replica
def track(request):
    """Any party: a container number or booking reference among what the organisation may see."""
    actor = Actor.from_request(request)
    form = TrackForm(request.GET or None)
    timeline, not_found = None, False
    if form.is_valid():
        try:
            timeline = tracking.reports_read(tracking.track_lookup(actor=actor, key=form.cleaned_data["q"]))
        except NotFound:
            not_found = True
    by_container = bool(timeline and tracking.CONTAINER_NUMBER.match(form.cleaned_data["q"].strip().upper()))
    return render(request, "tracking/track.html",
                  {"form": form, "timeline": timeline, "not_found": not_found, "by_container": by_container,
                   "correcting_organisation": getattr(actor.organisation, "pk", None),
                   "map": journey_map(timeline.booking) if timeline else None},
                  status=404 if not_found else 200)


@never_cache
@reads_from_replica
def tracking_public(request):
    """Anyone with both the container number and its booking reference: the journey, and nothing else.

    A miss says the same whichever of the two is wrong, so the page tells no one which containers exist; and
    look-ups are limited per address (THROTTLE_RATE_PUBLIC_TRACKING), so references cannot be guessed by the
    thousand: beyond it a 429 with Retry-After.
    """
    form = PublicTrackForm(request.GET or None)
    timeline, not_found = None, False
    if form.is_valid():
        wait = address_wait(request, "public_tracking")
        if wait is not None:
            response = render(request, "tracking/public.html", {"form": form, "wait": wait}, status=429)
            response["Retry-After"] = str(wait)
            return response
        try:
            timeline = tracking.track_public(container_number=form.cleaned_data["container"],
                                             booking_reference=form.cleaned_data["booking"])
        except NotFound:
            not_found = True
    return render(request, "tracking/public.html",
                  {"form": form, "timeline": timeline, "not_found": not_found,
                   "map": journey_map(timeline.booking) if timeline else None},
                  status=404 if not_found else 200)


@login_required
def events_export(request, file_format: str):
    """The events of the bookings of the list as filtered on screen, as far as the organisation may see them."""
    if file_format not in FORMATS:
        raise Http404
    actor = Actor.from_request(request)
    bookings = bookings_filtered(request, actor)[:EXPORT_ROWS]
    events = (events_visible(actor=actor)
              .filter(booking_reference__in=bookings.values("reference"))
              .order_by("event_datetime", "id")[:EXPORT_ROWS])
    headers = [_("time"), _("type"), _("code"), _("classifier"), _("location"), _("facility"), _("transport"),
               _("mode"), _("container"), _("empty/laden"), _("booking"), _("document type"), _("document"),
               _("reason")]
    rows = ([e.event_datetime, e.event_type, e.event_code, e.classifier, e.location_unlocode, e.facility_code,
             e.transport_reference, e.mode_of_transport, e.equipment_reference, e.empty_indicator,
             e.booking_reference, e.document_type, e.document_reference, e.reason]
            for e in as_seen_by_each(actor.kind, events.iterator(chunk_size=1000)))
    return export_response([Table(_("Events"), headers, rows)], filename="events", file_format=file_format)


def as_seen_by_each(kind: str | None, events):
    """A stream of events as a party of `kind` may know them (tracking.visibility), one at a time."""
    for event in events:
        yield from as_seen_by(kind, [event])
