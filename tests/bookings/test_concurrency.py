"""Real concurrent clients against PostgreSQL: the platform never overbooks, and idempotent POSTs create once."""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier, Event

import pytest
from django.db import connection
from django.db.models import Sum
from rest_framework.test import APIClient

from bookings.models import Booking, BookingStatus
from intermodal.models import Scope
from stations.models import Departure
from tests import factories
from tests.bookings.test_api import body
from tests.notifications.conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def run_concurrently(count: int, threads: int, attempt):
    barrier = Barrier(threads)

    def worker(index: int):
        try:
            if index < threads:
                barrier.wait(timeout=30)  # start the first wave together
            return attempt(index)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(worker, range(count)))


def test_fifty_threads_never_overbook_a_departure(shipper, connecting):
    Departure.objects.filter(pk=connecting.departure.pk).update(capacity_teu=50)
    _key, raw = factories.api_key(shipper.org, scopes=[Scope.BOOKINGS_WRITE, Scope.BOOKINGS_READ])
    payload = body(connecting, containers=[{"size_type": "22G1", "quantity": 1}], confirm=True)

    def attempt(_index):
        client = APIClient()
        return client.post("/api/v1/bookings/", payload, format="json", HTTP_AUTHORIZATION=f"Bearer {raw}")

    responses = run_concurrently(200, 50, attempt)

    statuses = [r.status_code for r in responses]
    departure = Departure.objects.get(pk=connecting.departure.pk)
    assert statuses.count(201) == 50
    assert statuses.count(409) == 150
    assert not [s for s in statuses if s >= 500]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"capacity_short"}
    assert departure.booked_teu == departure.capacity_teu == 50
    confirmed = Booking.objects.filter(departure=departure, status=BookingStatus.CONFIRMED)
    assert confirmed.count() == 50
    assert confirmed.aggregate(teu=Sum("teu"))["teu"] == 50
    assert Booking.objects.count() == 50  # refused attempts left no drafts behind


def test_twenty_concurrent_posts_with_one_idempotency_key_create_one_booking(shipper, connecting):
    _key, raw = factories.api_key(shipper.org, scopes=[Scope.BOOKINGS_WRITE, Scope.BOOKINGS_READ])
    payload = body(connecting, confirm=True)

    def attempt(_index):
        return APIClient().post("/api/v1/bookings/", payload, format="json", HTTP_AUTHORIZATION=f"Bearer {raw}",
                                HTTP_IDEMPOTENCY_KEY="po-2026-000815")

    responses = run_concurrently(20, 20, attempt)

    created = [r for r in responses if r.status_code == 201]
    in_progress = [r for r in responses if r.status_code == 409]
    assert len(created) + len(in_progress) == 20
    assert created
    assert len({r.content for r in created}) == 1  # every success is the same response
    assert {r.json()["code"] for r in in_progress} <= {"in_progress"}
    assert Booking.objects.count() == 1
    assert Departure.objects.get(pk=connecting.departure.pk).booked_teu == 4


def test_concurrent_assignment_of_one_container_number(shipper, other_shipper, connecting):
    from bookings import services
    from tests.bookings.conftest import book

    first = book(shipper.actor, connecting, lines={"22G1": 1})
    second = book(other_shipper.actor, connecting, lines={"22G1": 1})

    def attempt(index):
        actor, booking = (shipper.actor, first) if index % 2 == 0 else (other_shipper.actor, second)
        try:
            services.container_assign(actor=actor, booking=booking, number="TOLU4734787", size_type="22G1")
            return "assigned"
        except services.StateConflict:
            return "refused"

    outcomes = run_concurrently(10, 10, attempt)

    assert outcomes.count("assigned") == 1
    assert outcomes.count("refused") == 9


def test_a_retry_waits_for_the_first_request_with_its_key_and_gets_its_answer(shipper, connecting, monkeypatch,
                                                                              settings):
    from bookings import services

    _key, raw = factories.api_key(shipper.org, scopes=[Scope.BOOKINGS_WRITE, Scope.BOOKINGS_READ])
    payload = body(connecting, confirm=True)
    # given: the first request holds its booking, uncommitted, until the test lets it go on
    written, release, real = Event(), Event(), services.booking_create

    def held(**kwargs):
        booking = real(**kwargs)
        written.set()
        assert release.wait(120), "the test never let the first request go on"
        return booking

    monkeypatch.setattr(services, "booking_create", held)

    def post():
        try:
            return APIClient().post("/api/v1/bookings/", payload, format="json", HTTP_AUTHORIZATION=f"Bearer {raw}",
                                    HTTP_IDEMPOTENCY_KEY="po-held")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=3) as pool:
        first = pool.submit(post)
        assert written.wait(120), "the first request never wrote its booking"

        # when: a retry that may wait only a moment, then one that may wait long enough
        settings.IDEMPOTENCY_WAIT_SECONDS = 0.2
        impatient = pool.submit(post).result(timeout=120)
        settings.IDEMPOTENCY_WAIT_SECONDS = 120
        patient = pool.submit(post)
        wait_for(_a_claim_waits, timeout=120, what="the retry to wait on the first request's claim")
        release.set()

        # then: the impatient retry was told the key is in use; the patient one got the first answer
        assert impatient.status_code == 409 and impatient.json()["code"] == "in_progress"
        created, replayed = first.result(timeout=120), patient.result(timeout=120)
    assert created.status_code == 201, created.content
    assert replayed.status_code == 201 and replayed["Idempotent-Replayed"] == "true"
    assert replayed.content == created.content
    assert Booking.objects.count() == 1


def _a_claim_waits() -> bool:
    """Some backend of this database waits on a lock (the retry's claim, on the first request's)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND wait_event_type = 'Lock'")
        return cursor.fetchone()[0] > 0
