"""The tracking read model: what a timeline is told by, read from the rows a look-up reads anyway.

A timeline (tracking/timeline.py) needs, of each kind of event - code, classifier, facility kind, transport - only
its first report (time, then id) among those no correction replaced, and for estimates the time of the last one.
The database keeps exactly that for each container, booking, departure and vessel call in their `facts` column,
as events are written (the trigger of tracking migration 0001, which says which events are whose). A look-up
reads the facts with its container and route: one statement, where it read every monthly partition's events
before (P5, docs/PERFORMANCE.md).

`facts_from_events` makes the same facts from events read as before: tests/tracking/test_facts.py holds the two,
and the timelines they tell, equal over the demo network's traffic and history.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# The event codes a timeline reads: the database keeps facts of these only (tracking migration 0001, CODES).
TOLD_BY = frozenset({"ARRI", "AVPU", "DEPA", "DISC", "GTIN", "GTOT", "LOAD", "MISS", "REQS"})


@dataclass(slots=True)
class Fact:
    """The first report of one kind of event, with what the timeline and its pages read of it."""

    event_code: str
    classifier: str
    facility_kind: str
    transport_reference: str
    event_datetime: datetime
    pk: int
    corrected: bool  # the report is itself a correction of an earlier one (journey.corrections)
    last_datetime: datetime  # the last report's time of the kind (an estimate's latest)
    # Read for the pages that link a report to its correction (tracking.timeline.reports_read), not kept.
    event_id: uuid.UUID | None = None
    reported_by_organisation_id: int | None = None


def _time(microseconds: int) -> datetime:
    return _EPOCH + timedelta(microseconds=microseconds)


def _value(first: int, pk: int, last: int, corrected: bool) -> list:
    """A fact as the database keeps it: [first, id], [first, id, last] or [first, id, last, 1] (a correction)."""
    if corrected:
        return [first, pk, last, 1]
    return [first, pk, last] if last != first else [first, pk]


def _last(value: list) -> int:
    return value[2] if len(value) > 2 else value[0]


def facts_read(*stored: dict | None) -> list[Fact]:
    """The facts of one or more subjects' `facts` columns together (a booking's and each of its containers'), in
    the order of their first reports."""
    merged: dict[str, list] = {}
    for facts in stored:
        for kind, value in (facts or {}).items():
            known = merged.get(kind)
            if known is None:
                merged[kind] = value
            elif (value[0], value[1]) < (known[0], known[1]):
                merged[kind] = _value(value[0], value[1], max(_last(value), _last(known)), len(value) > 3)
            elif _last(value) > _last(known):
                merged[kind] = _value(known[0], known[1], _last(value), len(known) > 3)
    out = []
    for kind, value in merged.items():
        code, classifier, facility_kind, transport = kind.split("|", 3)
        first = _time(value[0])
        out.append(Fact(code, classifier, facility_kind, transport, first, value[1], len(value) > 3,
                        _time(value[2]) if len(value) > 2 else first))
    out.sort(key=lambda fact: (fact.event_datetime, fact.pk))
    return out


def _microseconds(at: datetime) -> int:
    delta = at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def facts_from_events(events) -> dict:
    """The facts column the database keeps, made from events (none replaced by a correction)."""
    firsts: dict[str, list] = {}
    for event in sorted(events, key=lambda e: (e.event_datetime, e.pk)):
        if event.event_code not in TOLD_BY:
            continue
        kind = "|".join((event.event_code, event.classifier, event.facility_kind, event.transport_reference))
        at = _microseconds(event.event_datetime)
        known = firsts.get(kind)
        if known is None:
            firsts[kind] = [at, event.pk, at, event.supersedes_id is not None]
        else:
            known[2] = max(known[2], at)
    return {kind: _value(*value) for kind, value in firsts.items()}


# What `facts_rebuild` counts, in the order tracking_facts_rebuild answers.
SUBJECTS = ("containers", "bookings", "departures", "vessel calls")


def facts_rebuild(*, keep: bool) -> dict[str, int]:
    """Every subject's facts made again from the events (tracking_facts_rebuild); how many rows of each kind were
    not what their events say. `keep=False` only counts them (the rebuild is rolled back): a check that the kept
    facts are true. The events of a detached month (retention) are no longer there to make facts from: their
    steps would be lost, so this is for a table whose months are all attached."""
    from django.db import connection, transaction

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT tracking_facts_rebuild(NULL, NULL, NULL, NULL)")
            changed = cursor.fetchone()[0]
        if not keep:
            transaction.set_rollback(True)
    return dict(zip(SUBJECTS, changed, strict=True))
