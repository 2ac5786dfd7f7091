"""Is a reported actual time plausible? Departures, arrivals, sailing, loading and the container's other steps are
irreversible for everyone downstream (shippers are told, the figures count them), so a time far from the plan,
before the step it follows, or faster than the train can run is refused with the reasons, unless the reporter
confirms it (the API's `confirm`, the pages' confirmation step). The windows are settings
(`REPORT_WINDOWS_HOURS`, `REPORT_MIN_TRANSIT_SHARE`)."""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from intermodal.errors import StateConflict

TIME_FORMAT = "%Y-%m-%d %H:%M"


class Implausible(StateConflict):
    """A report that is possible but unlikely: recorded only once the reporter confirms it (409, `implausible`,
    the reasons on `event_datetime`; `planned` is the time it was expected, for the pages' confirmation step)."""

    default_message = gettext_lazy(
        "This time looks wrong. Check it; if it is right, report it again and confirm it (API: \"confirm\": true)."
    )

    def __init__(self, reasons: list[str], *, planned: datetime | None = None):
        super().__init__(errors={"event_datetime": reasons}, code="implausible")
        self.reasons = reasons
        self.planned = planned


def local(at: datetime) -> str:
    return timezone.localtime(at).strftime(TIME_FORMAT)


def _span(earlier: datetime, later: datetime) -> str:
    return timesince(earlier, later, depth=2)


def _window(kind: str) -> tuple[timedelta, timedelta]:
    early, late = settings.REPORT_WINDOWS_HOURS[kind]
    return timedelta(hours=early), timedelta(hours=late)


def far_from_plan(what: str, at: datetime, kind: str, planned: datetime, estimated: datetime | None = None,
                  *, until: datetime | None = None) -> str | None:
    """Why `at` is too far from the plan (from `planned`, or the estimate when that is nearer; up to `until` for a
    step that may happen over a span, such as loading between a vessel's arrival and departure), or None."""
    early, late = _window(kind)
    times = [t for t in (planned, estimated, until) if t is not None]
    first, last = min(times), max(times)
    if until is not None:
        expected = f"{local(first)} – {local(last)}"
    elif estimated is not None and estimated != planned:
        expected = f"{local(planned)} ({_('estimated')} {local(estimated)})"
    else:
        expected = local(planned)
    if at < first - early:
        return _("%(what)s is reported at %(at)s, %(span)s before it was expected (%(expected)s).") % {
            "what": what, "at": local(at), "span": _span(at, first), "expected": expected}
    if at > last + late:
        return _("%(what)s is reported at %(at)s, %(span)s after it was expected (%(expected)s).") % {
            "what": what, "at": local(at), "span": _span(last, at), "expected": expected}
    return None


def before_previous(what: str, at: datetime, previous: str, previous_at: datetime | None) -> str | None:
    """Why `at` cannot follow the previous step (`previous`, recorded at `previous_at`), or None."""
    if previous_at is None or at >= previous_at:
        return None
    return _("%(what)s is reported at %(at)s, before %(previous)s at %(previous_at)s.") % {
        "what": what, "at": local(at), "previous": previous, "previous_at": local(previous_at)}


def too_fast(arrived: datetime, departed: datetime, planned_transit: timedelta) -> str | None:
    """Why a transit from `departed` to `arrived` is faster than the train or barge can run, or None."""
    shortest = planned_transit * settings.REPORT_MIN_TRANSIT_SHARE
    if arrived - departed >= shortest:
        return None
    return _("The arrival at %(at)s is %(span)s after the departure at %(departed)s: the planned transit is "
             "%(planned)s.") % {"at": local(arrived), "span": _span(departed, arrived) if arrived > departed
                                else _("0 minutes"), "departed": local(departed),
                                "planned": _span(departed, departed + planned_transit)}


def require_plausible(reasons: Iterable[str | None], *, confirmed: bool, planned: datetime | None = None) -> None:
    """Refuse the report (Implausible) when any check gave a reason and the reporter has not confirmed it."""
    found = [reason for reason in reasons if reason]
    if found and not confirmed:
        raise Implausible(found, planned=planned)
