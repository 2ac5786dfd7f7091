"""A poller misses no event, whatever order the writing transactions commit in.

Two transactions record an event each; the one that started first commits last. A poller reads between the
two commits and again after: it must get both events, each once - with a time-ordered cursor it got the later
one first and never the earlier one.
"""

import threading

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from intermodal.codes import Classifier, EventType
from intermodal.events import event_record
from intermodal.models import PartyKind, Scope
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def gate_in(number: str):
    return event_record(
        event_type=EventType.EQUIPMENT, event_code="GTIN", classifier=Classifier.ACTUAL, equipment_reference=number,
        empty_indicator="LADEN", facility_kind="station", facility_code="YIWU-W", location_unlocode="CNYIU",
        booking_reference="BK-2026-000001")


class Writer(threading.Thread):
    """Records an event in a transaction of its own connection, and commits when told to."""

    def __init__(self, number: str):
        super().__init__(daemon=True)
        self.number, self.recorded, self.commit, self.done = number, threading.Event(), threading.Event(), None
        self.error = None

    def run(self):
        try:
            with transaction.atomic():
                self.event_id = str(gate_in(self.number).event_id)
                self.recorded.set()
                assert self.commit.wait(60), "never told to commit"
        except BaseException as error:  # noqa: BLE001 - handed to the test
            self.error = error
            self.recorded.set()
        finally:
            connection.close()


def _client():
    _key, raw = factories.api_key(factories.organisation(PartyKind.PLATFORM_ADMIN, code="platform"),
                                  scopes=[Scope.EVENTS_READ])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def _commit_in_reverse_order(read_between):
    """The first writer starts, the second starts and commits, `read_between()` runs, the first commits."""
    first, second = Writer("CSQU3054383"), Writer("TCNU7200794")
    first.start()
    assert first.recorded.wait(60) and first.error is None
    second.start()
    assert second.recorded.wait(60) and second.error is None
    second.commit.set()
    second.join(60)
    between = read_between()
    first.commit.set()
    first.join(60)
    assert first.error is None and second.error is None
    return first.event_id, second.event_id, between


# Reads a test makes of what the feed should hold, at most, before it fails.
READS = 50


def _settled(read, expected: list[str]) -> list[str]:
    """What `read()` gives once the feed holds back nothing of `expected`. The feed holds an event back while a
    transaction it cannot tell apart from one of this database is in progress at the read's snapshot: that
    includes, for an instant, a transaction of another database (another test worker's) that ends just as the
    read looks (intermodal/feed.py). So a read may give less than `expected`, but only its beginning: never an
    event out of order, never one not expected."""
    got: list[str] = []
    for _attempt in range(READS):
        got = read()
        assert got == expected[:len(got)], (got, expected)
        if got == expected:
            break
    return got


def test_polling_after_the_last_event_seen_misses_none_committed_out_of_order():
    client = _client()
    with transaction.atomic():
        start = str(gate_in("MSCU1234566").event_id)

    def poll():
        return [e["event_id"] for e in client.get(f"/api/v1/events/?after={start}").json()["results"]]

    earlier, later, between = _commit_in_reverse_order(poll)

    # While the earlier transaction runs, the later one's event waits: it must not pass the earlier one.
    assert between == []
    assert _settled(poll, [earlier, later]) == [earlier, later]


def test_following_the_events_cursor_sees_each_event_once():
    client = _client()
    with transaction.atomic():
        start = str(gate_in("MSCU1234566").event_id)

    def read():
        seen, page = [], client.get("/api/v1/events/?page_size=1").json()
        while True:
            seen.extend(e["event_id"] for e in page["results"])
            if not page["next"]:
                return seen
            page = client.get(page["next"]).json()

    earlier, later, between = _commit_in_reverse_order(lambda: _settled(read, [start]))

    def after():
        return [start, *(e["event_id"] for e in client.get(f"/api/v1/events/?after={start}").json()["results"])]

    assert between == [start]
    assert _settled(after, [start, earlier, later]) == [start, earlier, later]


def test_dcsa_pages_follow_the_same_order():
    client = _client()
    with transaction.atomic():
        start = str(gate_in("MSCU1234566").event_id)

    def read():
        return [e["eventID"] for e in client.get("/api/dcsa/tnt/v2/events").json()]

    earlier, later, between = _commit_in_reverse_order(lambda: _settled(read, [start]))
    every = [start, earlier, later]

    assert between == [start]
    assert _settled(read, every) == every

    def pages(header, follow):
        """One event a page, each page asked by `follow(<the header's value>)`, until a page has no such header."""
        response, got = client.get("/api/dcsa/tnt/v2/events?limit=1"), []
        while True:
            got += [e["eventID"] for e in response.json()]
            if header not in response.headers:
                return got
            response = follow(response.headers[header])

    # Through Next-Page, as a DCSA consumer pages; through the cursor alone, as DCSA's Conformance-Gateway pages.
    assert _settled(lambda: pages("Next-Page", client.get), every) == every
    assert _settled(lambda: pages("Next-Page-Cursor", lambda cursor: client.get(
        "/api/dcsa/tnt/v2/events", {"cursor": cursor})), every) == every


def test_an_unknown_event_to_poll_after_is_a_400():
    response = _client().get("/api/v1/events/?after=5d0f8337-0000-4000-8000-000000000000")
    assert response.status_code == 400
    assert "after" in response.json()["errors"]
