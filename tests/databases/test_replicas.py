"""Read replicas (issue 21, item 5): stale-tolerant reads on a real streaming replica, writes and a writer's next
reads on the primary, and a replica that lags or is down left out.

The module's primary is an embedded PostgreSQL of its own (tests/own_postgres.py); its replica is a pg_basebackup
of it, started as a hot standby (tests/own_replica.py). To tell which one answered, the test pauses the replica's
replay and changes something on the primary: a read that does not show the change came from the replica. No
clock: every wait is on a condition (the replica caught up, its measured lag past the limit)."""

import logging
import time
import uuid
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.test import Client
from rest_framework.test import APIClient

from bookings import services as booking_services
from bookings.models import Booking
from databases import replicas
from intermodal.access import Actor
from intermodal.models import Event, PartyKind, Scope
from stations.models import Departure, Location
from tests import factories
from tests.own_postgres import (  # noqa: F401 - fixtures
    default_connection_to,
    on_own_postgres_server,
    own_postgres_server,
    served,
)
from tests.own_replica import OwnReplica, replica_connection_to


@pytest.fixture(scope="module")
def own_replica(own_postgres_server, django_db_blocker):  # noqa: F811 - the imported fixture
    """The module's primary with a network, a shipper, two keys and a person of the shipper; and its replica."""
    server = own_postgres_server
    with django_db_blocker.unblock(), default_connection_to(server):
        network = factories.small_network()
        shipper = factories.organisation(PartyKind.ENTERPRISE, code="shipper-replica")
        person = factories.user(shipper, username="replica-alice")
        scopes = [Scope.BOOKINGS_WRITE, Scope.BOOKINGS_READ, Scope.EVENTS_READ]
        _key, writer = factories.api_key(shipper, scopes=scopes)
        _key, reader = factories.api_key(shipper, scopes=scopes)
        departure = (Departure.objects.filter(service=network.yiwu_rail,
                                              planned_arrival__lte=network.vessel_call.latest_arrival_for())
                     .order_by("-planned_departure").first())
    replica = OwnReplica(server)
    replica.create()
    replica.start()
    replica.world = SimpleNamespace(
        shipper=shipper, person=person, writer=writer, reader=reader, departure=departure,
        vessel_call=network.vessel_call,
        body={"departure": departure.reference, "vessel_call": network.vessel_call.reference, "destination": "NLRTM",
              "containers": [{"size_type": "22G1", "quantity": 1}], "cargo_weight_kg": "9000", "confirm": True})
    try:
        yield replica
    finally:
        if replica.running():
            replica.stop()


@pytest.fixture
def on_replica(own_replica, on_own_postgres_server, settings):  # noqa: F811 - the imported fixture
    """Requests on the module's primary with its replica configured, caught up; checked at every request."""
    if not own_replica.running():
        own_replica.start()
    own_replica.resume()
    own_replica.caught_up()
    settings.REPLICA_CHECK_SECONDS = 0
    settings.REPLICA_MAX_LAG_SECONDS = 3600
    with replica_connection_to(own_replica):
        yield own_replica
    own_replica.resume()


def _booked_on_the_primary(replica) -> Booking:
    """A booking made by the shipper's service call (no request, so no one is pinned to the primary)."""
    world = replica.world
    return booking_services.booking_create(
        actor=Actor(organisation=world.shipper, user=world.person), departure=world.departure,
        vessel_call=world.vessel_call, destination=Location.objects.get(unlocode="NLRTM"), lines={"22G1": 1},
        commodity=f"Lamps {uuid.uuid4().hex[:8]}", cargo_weight_kg=Decimal("9000"), confirm=True)


def _get(key: str, path: str, **params):
    return served(APIClient().get, path, params, HTTP_AUTHORIZATION=f"Bearer {key}")


def _references(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["reference"] for row in response.json()["results"]}


def _dcsa_bookings(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {event["documentID"] for event in response.json()
            if event["eventType"] == "SHIPMENT" and event["documentTypeCode"] == "BKG"}


def test_stale_tolerant_reads_come_from_the_replica_and_a_cached_answer_never_from_a_lagging_one(on_replica):
    world = on_replica.world
    on_replica.pause()
    # given: a booking (and its shipment events) committed on the primary the paused replica has not replayed
    booking = _booked_on_the_primary(on_replica)
    assert Event.objects.filter(booking_reference=booking.reference).exists()

    # then: the lists, the event feed, the DCSA feed and the booking page read the replica, without it
    assert booking.reference not in _references(_get(world.reader, "/api/v1/bookings/"))
    assert not _get(world.reader, "/api/v1/events/", booking=booking.reference).json()["results"]
    assert booking.reference not in _dcsa_bookings(_get(world.reader, "/api/dcsa/tnt/v2/events"))
    browser = Client()
    browser.force_login(world.person)
    page = served(browser.get, "/bookings/")
    # (a listed booking links to its page; its reference alone may be the search box's example, BK-2026-000123)
    assert page.status_code == 200 and f"/bookings/{booking.reference}/" not in page.content.decode()
    # ...but a tracking answer, which is kept in the cache, is built on the primary while its change is recent
    # (kept from the replica it would say "not found" until the cache forgot it)
    tracked = _get(world.reader, f"/api/v1/track/{booking.reference}/")
    assert tracked.status_code == 200, tracked.content
    # ...and what the replica does not find yet is asked of the primary: the booking a webhook named, the event
    # a feed reader last saw (read from the primary while the replica was out), and the booking's own page
    assert _get(world.reader, f"/api/v1/bookings/{booking.reference}/").json()["reference"] == booking.reference
    first = Event.objects.filter(booking_reference=booking.reference).order_by("txid", "id").first()
    after = _get(world.reader, "/api/v1/events/", after=str(first.event_id))
    assert after.status_code == 200 and after.json()["results"] == [], after.content
    assert _get(world.reader, f"/api/dcsa/tnt/v2/events/{first.event_id}").status_code == 200

    # when: the replica replays
    on_replica.resume()
    on_replica.caught_up()

    # then: every read shows the booking
    assert booking.reference in _references(_get(world.reader, "/api/v1/bookings/"))
    assert _get(world.reader, "/api/v1/events/", booking=booking.reference).json()["results"]
    assert booking.reference in _dcsa_bookings(_get(world.reader, "/api/dcsa/tnt/v2/events"))
    assert booking.reference in served(browser.get, "/bookings/").content.decode()


def test_a_tracking_answer_kept_in_the_cache_is_never_built_from_a_replica_behind_its_change(on_replica):
    world = on_replica.world
    booking = _booked_on_the_primary(on_replica)
    on_replica.caught_up()
    for _ in range(2):  # the route, then the answer, kept in the cache
        assert _get(world.reader, f"/api/v1/track/{booking.reference}/").json()["status"] == "confirmed"
    on_replica.pause()

    # when: the booking is cancelled on the primary, which the paused replica does not know yet
    booking_services.booking_cancel(actor=Actor(organisation=world.shipper, user=world.person), booking=booking)

    # then: the lists may show it a moment late (they read the replica)...
    assert _get(world.reader, "/api/v1/bookings/?status=cancelled").json()["results"] == []
    # ...but the answer kept under the booking's new version is the primary's (from the replica, the cancelled
    # booking would show as confirmed for as long as the cache keeps it)
    assert _get(world.reader, f"/api/v1/track/{booking.reference}/").json()["status"] == "cancelled"
    on_replica.resume()
    on_replica.caught_up()
    assert _get(world.reader, f"/api/v1/track/{booking.reference}/").json()["status"] == "cancelled"


def test_a_writer_reads_its_own_writes_from_the_primary_while_others_may_read_the_replica(on_replica):
    world = on_replica.world
    on_replica.pause()
    commodity = f"Fans {uuid.uuid4().hex[:8]}"

    # when: one key books through the API
    booked = served(APIClient().post, "/api/v1/bookings/", {**world.body, "commodity": commodity}, format="json",
                    HTTP_AUTHORIZATION=f"Bearer {world.writer}", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)
    assert booked.status_code == 201, booked.content
    reference = booked.json()["reference"]

    # then: its next read goes to the primary and shows the booking; another key still reads the replica
    assert reference in _references(_get(world.writer, "/api/v1/bookings/"))
    assert reference not in _references(_get(world.reader, "/api/v1/bookings/"))
    # and the write went to the primary, not to the read-only replica
    assert Booking.objects.filter(reference=reference, commodity=commodity).exists()


def test_an_object_read_from_the_replica_is_saved_on_the_primary(on_replica):
    booking = _booked_on_the_primary(on_replica)
    on_replica.caught_up()
    request = SimpleNamespace(method="GET", user=None)

    with replicas.stale_reads(request):
        read = Booking.objects.get(pk=booking.pk)
    assert read._state.db == replicas.REPLICA

    # when: saved (the replica would refuse: it is read-only)
    read.commodity = f"{booking.commodity} (amended)"
    read.save(update_fields=["commodity"])

    # then
    assert Booking.objects.get(pk=booking.pk).commodity == read.commodity


def test_a_replica_lagging_past_the_limit_is_left_out_until_it_catches_up(on_replica, settings):
    world = on_replica.world
    settings.REPLICA_MAX_LAG_SECONDS = 0.2
    on_replica.pause()
    booking = _booked_on_the_primary(on_replica)
    # given: the replica is further behind than the limit (its replay is paused; measured as the router does)
    deadline = time.monotonic() + 30
    while replicas.lag_seconds() <= settings.REPLICA_MAX_LAG_SECONDS:
        assert time.monotonic() < deadline, "the paused replica's lag never passed the limit"
        time.sleep(0.05)

    # then: reads go to the primary, which has the booking
    assert booking.reference in _references(_get(world.reader, "/api/v1/bookings/"))

    # when: it catches up and lags again within the limit, it is read again
    on_replica.resume()
    on_replica.caught_up()
    assert replicas.lag_seconds() == 0
    settings.REPLICA_MAX_LAG_SECONDS = 3600
    on_replica.pause()
    hidden = _booked_on_the_primary(on_replica)
    assert hidden.reference not in _references(_get(world.reader, "/api/v1/bookings/"))


def test_a_replica_that_is_down_is_left_out_and_read_again_once_it_is_back(on_replica, caplog):
    world = on_replica.world
    booking = _booked_on_the_primary(on_replica)

    # when: the replica stops
    on_replica.stop()
    with caplog.at_level(logging.WARNING, logger="databases.replicas"):
        listed = _get(world.reader, "/api/v1/bookings/")
        tracked = _get(world.reader, f"/api/v1/track/{booking.reference}/")

    # then: the primary answers, and the operator is told why
    assert booking.reference in _references(listed)
    assert tracked.status_code == 200, tracked.content
    assert any("Replica unusable" in record.getMessage() for record in caplog.records)

    # when: it is back, the replica is read again
    on_replica.start()
    on_replica.caught_up()
    on_replica.pause()
    hidden = _booked_on_the_primary(on_replica)
    assert hidden.reference not in _references(_get(world.reader, "/api/v1/bookings/"))
