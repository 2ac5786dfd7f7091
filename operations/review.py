"""The review step of the reports everyone downstream relies on (a train departed or arrived, a vessel sailed, a
train loaded): the report is tried and rolled back, shown with the times planned and how far it is from them, and
recorded only when the reporter confirms it. A time far from the plan goes to the warning step instead
(journey.plausibility), whose confirmation records it; the API is unchanged (its `confirm` covers the warning)."""

from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import transaction
from django.shortcuts import render
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

ON_TIME = timedelta(minutes=1)
CONTROL_FIELDS = ("csrfmiddlewaretoken", "confirm", "reviewed")


class _Rehearsal(Exception):
    """Rolls back a report tried for its review step."""


def reviewed(request) -> bool:
    """The reporter has seen the review step (or confirmed a warning, which shows the same)."""
    return request.POST.get("reviewed") == "1" or request.POST.get("confirm") == "1"


def report_fields(request) -> list[tuple[str, str]]:
    """The report's own fields, to send again from a review or warning step: every value of a field sent more
    than once (the containers ticked), not only its last."""
    return [(name, value) for name, values in request.POST.lists() if name not in CONTROL_FIELDS
            for value in values]


def rehearse(step: Callable[[], object]) -> None:
    """Run the report in a transaction that is always rolled back: its refusals (a warning included) come out as
    they would, and nothing is recorded, told or sent (the outbox's hooks run only on commit)."""
    try:
        with transaction.atomic():
            step()
            raise _Rehearsal
    except _Rehearsal:
        pass


def offset(reported: datetime, planned: datetime) -> str:
    """How far the reported time is from a planned one, in words."""
    if abs(reported - planned) < ON_TIME:
        return _("as planned")
    if reported > planned:
        return _("%(span)s later") % {"span": timesince(planned, reported, depth=2)}
    return _("%(span)s earlier") % {"span": timesince(reported, planned, depth=2)}


def review_page(request, *, action: str, reported_at: datetime | None, planned: list[tuple[str, datetime | None]],
                back_url: str, consequence: str = ""):
    """The page that asks the reporter to confirm: what will be recorded, at what time (none given: now), against
    each planned time."""
    reported_at = reported_at or timezone.now()
    rows = [(label, at, offset(reported_at, at)) for label, at in planned if at is not None]
    context = {"action": action, "reported_at": reported_at, "rows": rows, "fields": report_fields(request),
               "post_url": request.path, "back_url": back_url, "consequence": consequence}
    return render(request, "operations/review_report.html", context)


def review_first(request, step: Callable[[], object], **page):
    """The review page for a report not reviewed yet (after trying `step` and rolling it back), or None once it
    is: the caller then records it. `page` is review_page's arguments."""
    if reviewed(request):
        return None
    rehearse(step)
    return review_page(request, **page)
