"""Partner systems report journey events (one or in bulk) and read events and tracking, scoped to them."""

from datetime import datetime, timedelta

import pytest
from rest_framework.test import APIClient

from bookings import services as bookings_services
from bookings.models import ContainerStatus
from intermodal.access import Actor
from intermodal.models import Event, OutboxMessage, PartyKind, Scope
from journey import services as journey
from stations.models import Departure
from tests import factories
from tests.bookings.conftest import book

pytestmark = pytest.mark.django_db


def key_client(org, scopes):
    _key, raw = factories.api_key(org, scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def handed_out(shipper, connecting):
    """A confirmed booking of 2 x 42G1 whose empties are out with the shipper."""
    booking = book(shipper.actor, connecting, lines={"42G1": 2})
    request = bookings_services.empty_request_create(actor=shipper.actor, booking=booking, size_type="42G1", quantity=2)
    staff = Actor(organisation=connecting.network.operator)
    for number in ("CSQU3054383", "TCNU7200794"):
        journey.empty_hand_out(actor=staff, request=request, number=number)
    return booking


def gate_in(number="CSQU3054383", **extra):
    return {"event_type": "EQUIPMENT", "event_code": "GTIN", "equipment_reference": number,
            "seal_number": "SL001", "vgm_kg": "24000", "vgm_method": 1, "vgm_signatory": "Zhang Wei", **extra}


def test_station_staff_report_a_gate_in(connecting, handed_out):
    client = key_client(connecting.network.operator, [Scope.EVENTS_WRITE])

    response = client.post("/api/v1/events/", gate_in(), format="json")

    assert response.status_code == 201
    assert response.json()["container_status"] == ContainerStatus.GATED_IN
    assert Event.objects.filter(equipment_reference="CSQU3054383", event_code="GTIN").count() == 1


def test_an_illegal_step_is_a_409_and_writes_nothing(connecting, handed_out):
    client = key_client(connecting.network.port, [Scope.EVENTS_WRITE])
    before = Event.objects.count()

    response = client.post("/api/v1/events/", {"event_type": "EQUIPMENT", "event_code": "LOAD",
                                               "equipment_reference": "CSQU3054383"}, format="json")

    assert response.status_code == 409
    assert "cannot be loaded on the vessel" in response.json()["detail"]
    assert Event.objects.count() == before


def test_missing_fields_are_field_errors(connecting, handed_out):
    client = key_client(connecting.network.operator, [Scope.EVENTS_WRITE])

    no_vgm = client.post("/api/v1/events/", {"event_type": "EQUIPMENT", "event_code": "GTIN",
                                             "equipment_reference": "CSQU3054383"}, format="json")
    bad_code = client.post("/api/v1/events/", {"event_type": "EQUIPMENT", "event_code": "XXXX",
                                               "equipment_reference": "CSQU3054383"}, format="json")

    assert no_vgm.status_code == 400
    assert {"seal_number", "vgm_kg", "vgm_method", "vgm_signatory"} <= set(no_vgm.json()["errors"])
    assert bad_code.status_code == 400
    assert "event_code" in bad_code.json()["errors"]


def test_a_bulk_of_1000_with_one_bad_item_reports_that_item_and_applies_the_rest(connecting):
    client = key_client(connecting.network.railway, [Scope.EVENTS_WRITE])
    departure = connecting.departure
    start = departure.planned_departure
    items = [{"event_type": "TRANSPORT", "event_code": "DEPA", "classifier": "EST",
              "transport_reference": departure.reference, "event_datetime": (start + timedelta(minutes=i)).isoformat(),
              "reason": "Congestion"} for i in range(1000)]
    items[417] = {**items[417], "transport_reference": "NO-SUCH-TRAIN"}

    response = client.post("/api/v1/events/", items, format="json")

    body = response.json()
    assert response.status_code == 200
    assert body["applied"] == 999
    assert body["refused"] == 1
    bad = [r for r in body["results"] if r["status"] != 201]
    assert [r["index"] for r in bad] == [417]
    assert "transport_reference" in bad[0]["errors"]
    assert Event.objects.filter(classifier="EST", transport_reference=departure.reference).count() == 999
    departure.refresh_from_db()
    assert departure.estimated_departure == start + timedelta(minutes=999)


def test_more_than_1000_events_are_refused_whole(connecting):
    client = key_client(connecting.network.railway, [Scope.EVENTS_WRITE])
    item = {"event_type": "TRANSPORT", "event_code": "DEPA", "transport_reference": connecting.departure.reference}

    response = client.post("/api/v1/events/", [item] * 1001, format="json")

    assert response.status_code == 400
    assert not Event.objects.filter(event_type="TRANSPORT").exists()


def test_reporting_needs_the_events_write_scope(connecting):
    client = key_client(connecting.network.railway, [Scope.EVENTS_READ])

    response = client.post("/api/v1/events/", {"event_type": "TRANSPORT", "event_code": "DEPA",
                                               "transport_reference": connecting.departure.reference}, format="json")

    assert response.status_code == 403
    assert Departure.objects.get(pk=connecting.departure.pk).actual_departure is None


def test_events_are_read_with_filters_and_a_cursor(shipper, connecting, handed_out):
    client = key_client(shipper.org, [Scope.EVENTS_READ])

    first = client.get("/api/v1/events/", {"booking": handed_out.reference, "page_size": 2}).json()
    second = client.get(first["next"]).json()
    by_container = client.get("/api/v1/events/", {"container": "TCNU7200794"}).json()
    by_code = client.get("/api/v1/events/", {"code": "GTOT", "booking": handed_out.reference}).json()

    assert len(first["results"]) == 2
    assert {e["event_id"] for e in first["results"]}.isdisjoint({e["event_id"] for e in second["results"]})
    assert [e["event_code"] for e in by_container["results"]] == ["GTOT"]
    assert len(by_code["results"]) == 2


def test_events_are_scoped_to_the_caller(shipper, other_shipper, connecting, handed_out):
    mine = key_client(shipper.org, [Scope.EVENTS_READ]).get("/api/v1/events/").json()["results"]
    theirs = key_client(other_shipper.org, [Scope.EVENTS_READ]).get("/api/v1/events/").json()["results"]
    railway = key_client(connecting.network.railway, [Scope.EVENTS_READ]).get("/api/v1/events/").json()["results"]

    assert {e["booking_reference"] for e in mine} == {handed_out.reference}
    assert theirs == []
    assert railway  # the railway sees the bookings on its service


def test_track_a_booking_and_a_container(shipper, other_shipper, connecting, handed_out):
    client = key_client(shipper.org, [Scope.EVENTS_READ])

    by_booking = client.get(f"/api/v1/track/{handed_out.reference}/")
    by_container = client.get("/api/v1/track/csqu3054383/")
    foreign = key_client(other_shipper.org, [Scope.EVENTS_READ]).get("/api/v1/track/CSQU3054383/")

    assert by_booking.status_code == 200
    data = by_booking.json()
    assert data["booking"] == handed_out.reference
    assert data["now"] == "Empty handed out"
    assert data["at_risk"] is False
    assert [s["key"] for s in data["steps"]][:3] == ["empty_out", "station_gate_in", "train_load"]
    assert data["steps"][3]["planned"] is not None
    assert by_container.json()["containers"] == [
        {"number": "CSQU3054383", "size_type": "42G1", "status": "empty_out",
         "last_event_at": by_container.json()["containers"][0]["last_event_at"]}]
    assert foreign.status_code == 404


def test_a_delay_reported_by_the_railway_flags_the_booking_at_risk(shipper, connecting, handed_out):
    railway = key_client(connecting.network.railway, [Scope.EVENTS_WRITE])
    late = connecting.vessel_call.cy_cutoff

    reported = railway.post("/api/v1/events/", {
        "event_type": "TRANSPORT", "event_code": "ARRI", "classifier": "EST",
        "transport_reference": connecting.departure.reference, "event_datetime": late.isoformat(),
        "reason": "Locomotive failure"}, format="json")
    shipper_client = APIClient()
    shipper_client.force_login(shipper.user)
    booking = shipper_client.get(f"/api/v1/bookings/{handed_out.reference}/").json()
    track = shipper_client.get(f"/api/v1/track/{handed_out.reference}/").json()

    assert reported.status_code == 201
    assert booking["at_risk"] is True
    assert track["at_risk"] is True
    assert track["steps"][4]["estimated"] is not None


def test_a_container_timeline_shows_only_this_booking_journey_of_the_box(shipper, connecting, handed_out):
    from bookings import services
    from tracking.timeline import track_lookup

    # The same box travelled for an earlier booking that was cancelled after its empty was handed out.
    services.booking_cancel(actor=shipper.actor, booking=handed_out)
    again = book(shipper.actor, connecting, lines={"42G1": 1})
    services.container_assign(actor=shipper.actor, booking=again, number="CSQU3054383", size_type="42G1")

    timeline = track_lookup(actor=shipper.actor, key="CSQU3054383")

    assert timeline.booking == again
    told = Event.objects.filter(pk__in=[fact.pk for fact in timeline.events])  # the reports its facts name
    assert {e.booking_reference for e in told if e.equipment_reference} <= {again.reference}
    assert timeline.steps[0].actual is None  # the earlier hand-out belongs to the cancelled booking


def estimate(departure, minutes, code="DEPA", reason="Congestion"):
    planned = departure.planned_departure if code == "DEPA" else departure.planned_arrival
    return {"event_type": "TRANSPORT", "event_code": code, "classifier": "EST",
            "transport_reference": departure.reference,
            "event_datetime": (planned + timedelta(minutes=minutes)).isoformat(), "reason": reason}


def test_a_bulk_applies_estimates_and_other_events_in_the_order_sent(connecting, handed_out):
    client = key_client(connecting.network.railway, [Scope.EVENTS_WRITE])
    departure = connecting.departure
    leaves = departure.planned_departure + timedelta(minutes=30)
    items = [
        estimate(departure, 30),
        {"event_type": "TRANSPORT", "event_code": "DEPA", "transport_reference": departure.reference,
         "event_datetime": leaves.isoformat()},
        estimate(departure, 45, code="ARRI"),
        {"event_type": "TRANSPORT", "event_code": "ARRI", "transport_reference": departure.reference,
         "event_datetime": (leaves + timedelta(hours=8)).isoformat()},
        estimate(departure, 60),  # the train has arrived: no more estimates
    ]

    body = client.post("/api/v1/events/", items, format="json").json()

    assert [r["status"] for r in body["results"]] == [201, 201, 201, 201, 409]
    assert body["results"][4]["code"] == "illegal_step"
    assert [r["departure_status"] for r in body["results"][:4]] == ["scheduled", "departed", "departed", "arrived"]
    departure.refresh_from_db()
    assert departure.actual_departure == leaves
    assert departure.estimated_departure == departure.planned_departure + timedelta(minutes=30)
    assert departure.estimated_arrival == departure.planned_arrival + timedelta(minutes=45)
    codes = list(Event.objects.filter(event_type="TRANSPORT", transport_reference=departure.reference)
                 .order_by("id").values_list("classifier", "event_code"))
    assert codes == [("EST", "DEPA"), ("ACT", "DEPA"), ("EST", "ARRI"), ("ACT", "ARRI")]


def test_a_batch_of_estimates_checks_each_item_and_writes_only_the_legal_ones(connecting):
    other_railway = factories.organisation(PartyKind.RAILWAY, code="other-rail")
    mine = connecting.departure
    theirs_service = factories.service(connecting.network.yiwu, connecting.network.beilun, other_railway,
                                       code="YIWU-W-BLG-X")
    theirs = Departure.objects.create(**{f: getattr(mine, f) for f in (
        "service_date", "capacity_teu", "closing_time", "planned_departure", "planned_arrival")},
        reference="YIWU-W-BLG-X-1", service=theirs_service)
    client = key_client(connecting.network.railway, [Scope.EVENTS_WRITE])

    malformed = client.post("/api/v1/events/", [estimate(mine, 20), {"event_type": "TRANSPORT"}], format="json")
    body = client.post("/api/v1/events/", [estimate(mine, 20), estimate(theirs, 20), estimate(mine, 90)],
                       format="json").json()

    # an item the schema does not describe refuses the list whole; the state refuses items one by one
    assert malformed.status_code == 400 and "1.event_code" in malformed.json()["errors"]
    assert [r["status"] for r in body["results"]] == [201, 403, 201]
    assert body["results"][1]["code"] == "not_your_place"
    assert (body["applied"], body["refused"]) == (2, 1)
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.estimated_departure == mine.planned_departure + timedelta(minutes=90)
    assert mine.estimated_arrival == mine.planned_arrival + timedelta(minutes=90)  # the same delay on arrival
    assert theirs.estimated_departure is None
    assert Event.objects.filter(transport_reference=theirs.reference).count() == 0
    assert list(Event.objects.filter(transport_reference=mine.reference).values_list("reason", flat=True)) == [
        "Congestion", "Congestion"]
    assert OutboxMessage.objects.count() == Event.objects.count()


def test_the_relay_hears_of_a_batch_once_after_commit_with_every_outbox_row(connecting,
                                                                          django_capture_on_commit_callbacks,
                                                                          outbox_committed_ids):
    seen = outbox_committed_ids
    client = key_client(connecting.network.railway, [Scope.EVENTS_WRITE])

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/events/", [estimate(connecting.departure, n) for n in range(50)],
                               format="json")

    assert response.json()["applied"] == 50
    assert seen == [list(OutboxMessage.objects.order_by("id").values_list("id", flat=True))]
    assert len(seen[0]) == 50
    assert list(OutboxMessage.objects.order_by("id").values_list("event__event_datetime", flat=True)) == [
        connecting.departure.planned_departure + timedelta(minutes=n) for n in range(50)]


def test_a_batch_of_estimates_takes_the_same_queries_for_10_or_500_items(connecting):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = key_client(connecting.network.railway, [Scope.EVENTS_WRITE])
    departures = list(Departure.objects.filter(service=connecting.departure.service).order_by("planned_departure"))
    client.post("/api/v1/events/", [estimate(departures[0], 1)], format="json")  # the key records its use
    counts = {}
    for n in (10, 500):
        items = [estimate(departures[i % len(departures)], n + i) for i in range(n)]
        with CaptureQueriesContext(connection) as captured:
            body = client.post("/api/v1/events/", items, format="json").json()
        assert body["applied"] == n
        counts[n] = len(captured.captured_queries)

    assert counts[10] == counts[500]
    assert Event.objects.filter(classifier="EST").count() == 1 + 10 + 500


def test_a_tracking_answer_is_cached_until_what_it_shows_changes(shipper, connecting, handed_out):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = key_client(shipper.org, [Scope.EVENTS_READ])
    railway = key_client(connecting.network.railway, [Scope.EVENTS_WRITE])
    path = f"/api/v1/track/{handed_out.reference}/"
    first = client.get(path).json()
    client.get(path)  # the route is known now: this answer is kept

    with CaptureQueriesContext(connection) as cached:
        again = client.get(path).json()
    railway.post("/api/v1/events/", [estimate(connecting.departure, 90)], format="json")
    after_delay = client.get(path).json()

    assert again == first
    read = " ".join(q["sql"] for q in cached.captured_queries)
    assert "bookings_booking" not in read and "intermodal_event" not in read  # the answer came from the cache
    assert first["steps"][3]["estimated"] is None
    assert datetime.fromisoformat(after_delay["steps"][3]["estimated"]) == (
        connecting.departure.planned_departure + timedelta(minutes=90))



def test_a_look_up_reads_the_cache_first_in_the_rate_limits_round_trip(shipper, connecting, handed_out, monkeypatch,
                                                                      settings):
    from tracking import cache as tracking_cache

    reads = []
    own_read = tracking_cache.versions_and_entries
    monkeypatch.setattr(tracking_cache, "versions_and_entries", lambda *a: reads.append(a) or own_read(*a))
    client = key_client(shipper.org, [Scope.EVENTS_READ])
    path = f"/api/v1/track/{handed_out.reference}/"

    answers = [client.get(path).json() for _ in range(3)]  # the third from the cache
    ahead_reads = len(reads)
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                                                          "key": None}}
    unlimited = client.get(path).json()  # no rate, no count: the look-up reads the cache itself

    assert answers[0] == answers[1] == answers[2] == unlimited
    assert answers[0]["booking"] == handed_out.reference
    assert (ahead_reads, len(reads)) == (0, 1)


def test_entries_read_ahead_are_taken_for_their_own_key_only(shipper, connecting, handed_out):
    from tracking import cache as tracking_cache

    organisation_id = shipper.org.pk
    keys = tracking_cache.first_keys(organisation_id=organisation_id, key="CSQU3054383")
    route = ("BK-NOT-KEPT", "NOWHERE-1", "NOWHERE-2")  # references no version was ever set for: "0.0.0"
    # What the rate limit read: the key's version, and an entry kept under it, its route and the route's versions.
    read_ahead = (tuple(keys), {keys[0]: 7, keys[1]: ("7", route, "0.0.0", {"booking": "kept"})})

    def build():
        return {"booking": "built"}, route

    taken = tracking_cache.answer(organisation_id=organisation_id, key="csqu3054383", build=build,
                                  read_ahead=read_ahead)
    # Another key's (or another organisation's, or language's) entries are not this look-up's: it reads its own.
    not_taken = tracking_cache.answer(organisation_id=organisation_id, key=handed_out.reference, build=build,
                                      read_ahead=read_ahead)

    assert keys != tracking_cache.first_keys(organisation_id=organisation_id, key=handed_out.reference)
    assert taken == {"booking": "kept"}
    assert not_taken == {"booking": "built"}


def test_a_cached_container_list_shows_a_newly_assigned_container(shipper, connecting):
    from bookings import services

    booking = book(shipper.actor, connecting, lines={"42G1": 2})
    client = key_client(shipper.org, [Scope.EVENTS_READ])
    path = f"/api/v1/track/{booking.reference}/"
    for _ in range(3):
        before = client.get(path).json()

    services.container_assign(actor=shipper.actor, booking=booking, number="CSQU3054383", size_type="42G1")
    after = client.get(path).json()

    assert before["containers"] == []
    assert [c["number"] for c in after["containers"]] == ["CSQU3054383"]


def test_a_cached_answer_is_never_given_to_another_organisation(shipper, other_shipper, connecting, handed_out):
    mine = key_client(shipper.org, [Scope.EVENTS_READ])
    for _ in range(3):
        assert mine.get("/api/v1/track/CSQU3054383/").status_code == 200

    theirs = key_client(other_shipper.org, [Scope.EVENTS_READ]).get("/api/v1/track/CSQU3054383/")

    assert theirs.status_code == 404


def test_tracking_answers_from_the_database_when_the_cache_is_down(shipper, connecting, handed_out, monkeypatch):
    from django.core.cache import cache

    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    client = key_client(shipper.org, [Scope.EVENTS_READ])
    for name in ("get", "get_many", "set", "set_many"):
        monkeypatch.setattr(cache, name, down)

    response = client.get(f"/api/v1/track/{handed_out.reference}/")
    railway = key_client(connecting.network.railway, [Scope.EVENTS_WRITE])
    reported = railway.post("/api/v1/events/", [estimate(connecting.departure, 30)], format="json")

    assert response.status_code == 200
    assert response.json()["booking"] == handed_out.reference
    assert reported.json()["applied"] == 1


def test_station_staff_report_empties_ready_as_the_page_does(shipper, connecting):
    booking = book(shipper.actor, connecting, lines={"42G1": 2})
    request = bookings_services.empty_request_create(actor=shipper.actor, booking=booking, size_type="42G1", quantity=2)
    request.requested_at -= timedelta(hours=5)  # asked for this morning; ready three hours later
    request.save(update_fields=["requested_at"])
    staff = key_client(connecting.network.operator, [Scope.EVENTS_WRITE])
    ready_at = request.requested_at + timedelta(hours=3)
    avpu = {"event_type": "EQUIPMENT", "event_code": "AVPU", "empty_request": request.pk}

    missing = staff.post("/api/v1/events/", {"event_type": "EQUIPMENT", "event_code": "AVPU"}, format="json")
    too_early = staff.post("/api/v1/events/", {**avpu, "event_datetime": (request.requested_at - timedelta(hours=1))
                                               .isoformat()}, format="json")
    railway = key_client(connecting.network.railway, [Scope.EVENTS_WRITE]).post(
        "/api/v1/events/", {**avpu, "event_datetime": ready_at.isoformat()}, format="json")
    done = staff.post("/api/v1/events/", {**avpu, "event_datetime": ready_at.isoformat()}, format="json")
    again = staff.post("/api/v1/events/", avpu, format="json")

    assert missing.status_code == 400 and "empty_request" in missing.json()["errors"]
    assert too_early.status_code == 400 and "event_datetime" in too_early.json()["errors"]
    assert railway.status_code == 403  # the railway sees the booking on its train, but is not the station
    assert done.status_code == 201
    assert done.json() == {"status": 201, "result": "applied", "empty_request": request.pk,
                           "empty_request_status": "ready"}
    request.refresh_from_db()
    assert request.ready_at == ready_at  # the empty-container wait counts from the request to this
    event = Event.objects.get(event_code="AVPU")
    assert event.event_datetime == ready_at and event.booking_reference == booking.reference
    assert again.status_code == 409 and Event.objects.filter(event_code="AVPU").count() == 1
