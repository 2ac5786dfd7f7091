"""A reporter's own event id (`external_id`, issue 21 item 1): a retried post of the same event - alone, in a
list, or at the same moment from two connections - is applied once and answers as the first did; a refused
report keeps no id; each organisation's ids are its own."""

import threading

import pytest

from bookings.models import ContainerStatus
from intermodal.models import Event, Scope
from journey.models import ReportedEvent
from tests import factories
from tests.bookings.test_events_api import gate_in, handed_out, key_client  # noqa: F401 - fixtures

GTIN = {"equipment_reference": "CSQU3054383", "event_code": "GTIN"}


def gate_ins() -> int:
    return Event.objects.filter(**GTIN).count()


@pytest.mark.django_db
def test_a_retried_post_is_applied_once_and_answers_as_the_first(connecting, handed_out):  # noqa: F811
    client = key_client(connecting.network.operator, [Scope.EVENTS_WRITE])

    first = client.post("/api/v1/events/", gate_in(external_id="gate-7/2026-12-04/0001"), format="json")
    again = client.post("/api/v1/events/", gate_in(external_id="gate-7/2026-12-04/0001"), format="json")

    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["container_status"] == ContainerStatus.GATED_IN
    assert again.json() == {**first.json(), "replayed": True}
    assert gate_ins() == 1


@pytest.mark.django_db
def test_a_refused_report_keeps_no_id_and_is_tried_again(connecting, handed_out):  # noqa: F811
    client = key_client(connecting.network.operator, [Scope.EVENTS_WRITE])
    load = {"event_type": "EQUIPMENT", "event_code": "LOAD", "equipment_reference": "CSQU3054383",
            "external_id": "load-1"}

    refused = client.post("/api/v1/events/", load, format="json")  # not gated in yet
    client.post("/api/v1/events/", gate_in(), format="json")
    tried_again = client.post("/api/v1/events/", {**load, "confirm": True}, format="json")

    assert refused.status_code == 409
    assert tried_again.status_code == 201 and "replayed" not in tried_again.json()
    assert list(ReportedEvent.objects.values_list("external_id", flat=True)) == ["load-1"]


@pytest.mark.django_db
def test_a_list_sent_twice_applies_nothing_twice(connecting, handed_out):  # noqa: F811
    client = key_client(connecting.network.operator, [Scope.EVENTS_WRITE])
    items = [gate_in("CSQU3054383", external_id="a"), gate_in("TCNU7200794", external_id="b"),
             gate_in("CSQU3054383", external_id="a")]  # the same event twice in one list, too

    first = client.post("/api/v1/events/", items, format="json").json()
    again = client.post("/api/v1/events/", items, format="json").json()

    assert [r["status"] for r in first["results"]] == [201, 201, 201]
    assert [r.get("replayed", False) for r in first["results"]] == [False, False, True]
    assert all(r["replayed"] for r in again["results"])
    assert Event.objects.filter(event_code="GTIN").count() == 2


@pytest.mark.django_db
def test_each_organisation_names_its_own_events(connecting, handed_out):  # noqa: F811
    station = key_client(connecting.network.operator, [Scope.EVENTS_WRITE])
    other = factories.organisation(connecting.network.operator.kind, code="other-station")
    elsewhere = key_client(other, [Scope.EVENTS_WRITE])

    station.post("/api/v1/events/", gate_in(external_id="0001"), format="json")
    theirs = elsewhere.post("/api/v1/events/", gate_in("TCNU7200794", external_id="0001"), format="json")

    assert "replayed" not in theirs.json()  # not the station's answer: refused or applied on its own
    assert ReportedEvent.objects.filter(external_id="0001").count() == 1 + (theirs.status_code == 201)


@pytest.mark.django_db(transaction=True)
def test_two_posts_of_one_event_at_the_same_moment_apply_it_once(connecting, handed_out):  # noqa: F811
    _key, raw = factories.api_key(connecting.network.operator, scopes=[Scope.EVENTS_WRITE])
    answers, start = [], threading.Barrier(2)

    def post():
        from django.db import connection
        from rest_framework.test import APIClient

        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        start.wait(10)
        try:
            answers.append(client.post("/api/v1/events/", gate_in(external_id="same"), format="json"))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sorted(answer.status_code for answer in answers) == [201, 201]
    assert sorted("replayed" in answer.json() for answer in answers) == [False, True]
    assert gate_ins() == 1


@pytest.mark.django_db
def test_a_list_past_its_time_is_rolled_back_whole_and_applies_once_when_sent_again(
        connecting, handed_out, monkeypatch, settings):  # noqa: F811
    from journey import api as journey_api

    client = key_client(connecting.network.operator, [Scope.EVENTS_WRITE])
    items = [gate_in("CSQU3054383", external_id="slow-a"), gate_in("TCNU7200794", external_id="slow-b")]
    # given: a clock on which each item takes 15 s, against the 20 s a list may take
    ticks = iter(range(0, 10_000, 15))
    monkeypatch.setattr(journey_api.time, "monotonic", lambda: next(ticks))

    slow = client.post("/api/v1/events/", items, format="json")

    # then: 503 saying so, and nothing of the list was kept - neither event nor reporter's id
    assert slow.status_code == 503, slow.content
    assert slow.json()["code"] == "too_slow" and "nothing of it was applied" in slow.json()["detail"]
    assert gate_ins() == 0 and Event.objects.filter(event_code="GTIN").count() == 0
    assert not ReportedEvent.objects.exists()

    # when: sent again in time, each event is applied once
    monkeypatch.undo()
    again = client.post("/api/v1/events/", items, format="json").json()
    assert [r["status"] for r in again["results"]] == [201, 201]
    assert not any(r.get("replayed") for r in again["results"])
    assert Event.objects.filter(event_code="GTIN").count() == 2


@pytest.mark.django_db
def test_a_list_cut_short_by_a_failure_commits_nothing_it_did_not_answer(
        connecting, handed_out, monkeypatch):  # noqa: F811
    from journey import api as journey_api

    client = key_client(connecting.network.operator, [Scope.EVENTS_WRITE])
    applied = []
    original = journey_api._apply_reported

    def dies_at_the_second(actor, data):
        if applied:
            raise RuntimeError("the worker is gone")  # as a server killed in the middle of the list
        applied.append(data)
        return original(actor, data)

    monkeypatch.setattr(journey_api, "_apply_reported", dies_at_the_second)

    with pytest.raises(RuntimeError):
        client.post("/api/v1/events/", [gate_in("CSQU3054383"), gate_in("TCNU7200794")], format="json")

    # then: the first item, applied but never answered, is not kept either
    assert applied and Event.objects.filter(event_code="GTIN").count() == 0
