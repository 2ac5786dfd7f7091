"""Who acted, as the audit trail records it: the actor rides inside each write statement (no round trip of its
own), stays within its transaction, survives a rolled-back savepoint, and names the task or command that wrote."""

import csv
import io

import psycopg2.extensions
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command, get_commands, load_command_class
from django.db import connection, transaction
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from audit.context import SETTING, ActingCommand, AuditContextMiddleware, acting_as
from audit.models import AuditAction, AuditEntry
from bookings.imports import booking_import_task
from bookings.models import Booking, BookingImport, BookingStatus, EmptyRequest, EmptyRequestStatus, ImportStatus
from intermodal.celery import app as celery_app
from intermodal.models import PartyKind
from tests import factories
from tests.bookings.conftest import book
from tests.notifications.conftest import private_redis, wait_for, worker_factory  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def changes(**filters):
    return list(AuditEntry.objects.filter(action=AuditAction.STATUS_CHANGE, **filters).order_by("at", "id"))


def setting_now() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(current_setting(%s, true), '')", [SETTING])
        return cursor.fetchone()[0]


class CountingCursor(psycopg2.extensions.cursor):
    """Every statement the connection sends to PostgreSQL, Django's or not (the raw cursor is below Django)."""

    sent: list[str] = []

    def execute(self, query, vars=None):
        CountingCursor.sent.append(query if isinstance(query, str) else query.decode())
        return super().execute(query, vars)


@pytest.fixture
def sent_statements():
    connection.ensure_connection()
    raw = connection.connection
    CountingCursor.sent = []
    raw.cursor_factory = CountingCursor
    yield CountingCursor.sent
    raw.cursor_factory = psycopg2.extensions.cursor


# --- No round trip of its own ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)  # the request's own transactions, as in production
def test_a_booking_request_sends_nothing_but_the_statements_django_counts(api_client, shipper, connecting,
                                                                         sent_statements):
    key, raw = factories.api_key(shipper.org)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    api_client.get("/api/v1/me/")  # the key's use is written once a minute: not part of what is counted
    body = {"departure": connecting.departure.reference, "vessel_call": connecting.vessel_call.reference,
            "destination": "NLRTM", "containers": [{"size_type": "42G1", "quantity": 2}], "commodity": "Toys",
            "cargo_weight_kg": "9000"}
    sent_statements.clear()

    with CaptureQueriesContext(connection) as counted:
        response = api_client.post("/api/v1/bookings/", body, format="json")

    assert response.status_code == 201
    statements = [q["sql"] for q in counted.captured_queries if q["sql"] not in ("BEGIN", "COMMIT")]
    # 20 statements (7 of them writes) and BEGIN / COMMIT; before, each write had a set_config of its own
    # and the request ended with one more: 28 statements instead of 20.
    assert len(sent_statements) == len(statements)
    writes = [s for s in sent_statements if s.startswith("SELECT set_config")]
    assert len(writes) >= 5 and all(f"'{SETTING}'" in w and ", true); " in w for w in writes)
    assert not any(s.lstrip().startswith(("INSERT", "UPDATE", "DELETE")) for s in sent_statements)
    created, = changes(object_type="booking", object_ref=response.json()["reference"])
    assert (created.api_key_prefix, created.organisation_code, created.ip_address) == (key.prefix, "shipper-a",
                                                                                     "127.0.0.1")
    assert setting_now() == ""  # the request's transaction took the setting with it


def test_returning_rowcounts_percent_signs_named_parameters_and_executemany_work_as_before(shipper, connecting):
    booking = book(shipper.actor, connecting, confirm=False)

    with acting_as(username="ops-script", organisation_code="demo-admin"):
        made = EmptyRequest.objects.bulk_create(
            [EmptyRequest(booking=booking, size_type="42G1", quantity=1) for _ in range(3)])
        updated = EmptyRequest.objects.filter(booking=booking).update(status=EmptyRequestStatus.READY)
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE bookings_booking SET commodity = 'wool 100%' WHERE id = {booking.pk}")  # noqa: S608
            unnamed = cursor.rowcount
            cursor.execute("UPDATE bookings_booking SET status = %(status)s WHERE id = %(id)s",
                           {"status": BookingStatus.CONFIRMED, "id": booking.pk})
            cursor.executemany("UPDATE bookings_emptyrequest SET status = %s WHERE id = %s",
                               [(EmptyRequestStatus.CANCELLED, made[0].pk), (EmptyRequestStatus.CANCELLED, made[1].pk)])
            cursor.executemany("UPDATE bookings_emptyrequest SET status = %(status)s WHERE id = %(id)s",
                               [{"status": EmptyRequestStatus.PICKED_UP, "id": made[2].pk}])
            cursor.execute("INSERT INTO bookings_bookingline (booking_id, size_type, quantity, teu, unit_price, "
                           "unit_road_price) VALUES (%s, '22G1', 1, 1, 10, 0) RETURNING id", [booking.pk])
            line_id = cursor.fetchone()[0]
        deleted, _ = EmptyRequest.objects.filter(pk=made[2].pk).delete()

    assert all(request.pk for request in made)  # bulk_create's RETURNING still answers
    assert (updated, unnamed, deleted) == (3, 1, 1)
    assert line_id and Booking.objects.get(pk=booking.pk).commodity == "wool 100%"
    statuses = {(e.object_type, e.object_ref, e.after["status"]): (e.actor_username, e.organisation_code)
                for e in changes(actor_username="ops-script")}
    assert {key[2] for key in statuses if key[0] == "empty_request"} == {
        "requested", "ready", "cancelled", "picked_up"}
    assert ("booking", booking.reference, "confirmed") in statuses
    assert set(statuses.values()) == {("ops-script", "demo-admin")}


@pytest.mark.django_db(transaction=True)
def test_an_autocommit_write_carries_its_actor_and_leaves_nothing_on_the_connection(shipper, connecting):
    booking = book(shipper.actor, connecting)
    assert connection.get_autocommit() and not connection.in_atomic_block

    with acting_as(username="ops-script"):
        Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.CANCELLED)  # its own transaction
        assert setting_now() == ""
    Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.CONFIRMED)

    by_script, by_system = changes(object_ref=booking.reference)[-2:]
    assert (by_script.after, by_script.actor_username) == ({"status": "cancelled"}, "ops-script")
    assert (by_system.after, by_system.actor_username) == ({"status": "confirmed"}, "")
    assert connection.execute_wrappers == []


# --- Requests --------------------------------------------------------------------------------------------


def as_request(user, view):
    request = RequestFactory().post("/", REMOTE_ADDR="10.0.0.8")
    request.user = user
    return AuditContextMiddleware(view)(request)


def test_a_rolled_back_savepoint_does_not_lose_the_actor_of_the_writes_after_it(shipper, connecting):
    booking = book(shipper.actor, connecting)

    def view(request):
        with transaction.atomic():
            try:
                with transaction.atomic():  # the first write of the transaction, in a savepoint that fails
                    Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.IN_TRANSIT)
                    raise RuntimeError("changed its mind")
            except RuntimeError:
                pass
            Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.CANCELLED)
        return "done"

    assert as_request(shipper.user, view) == "done"

    last = changes(object_ref=booking.reference)[-1]
    assert last.after == {"status": "cancelled"}  # the rolled-back change left no entry
    assert (last.actor_user_id, last.actor_username, last.organisation_code, last.ip_address) == (
        shipper.user.pk, "alice", "shipper-a", "10.0.0.8")


@pytest.mark.django_db(transaction=True)
def test_a_request_leaves_no_actor_for_the_next_transaction_on_its_connection(shipper, connecting):
    booking = book(shipper.actor, connecting, confirm=False)
    client = Client()
    client.force_login(shipper.user)

    client.post(f"/bookings/{booking.reference}/confirm/")
    connection_before = connection.connection
    with transaction.atomic():
        Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.CANCELLED)

    assert connection.connection is connection_before  # the same connection the request used
    confirmed, cancelled = changes(object_ref=booking.reference)[-2:]
    assert (confirmed.after, confirmed.actor_username) == ({"status": "confirmed"}, "alice")
    assert (cancelled.after, cancelled.actor_username, cancelled.actor_user_id) == (
        {"status": "cancelled"}, "", None)


def test_a_context_that_ends_inside_a_transaction_takes_its_actor_with_it(shipper, connecting):
    booking = book(shipper.actor, connecting)

    with transaction.atomic():
        with acting_as(username="ops-script"):
            Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.CANCELLED)
            assert "ops-script" in setting_now()
        assert setting_now() == ""
        Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.CONFIRMED)

    assert [e.actor_username for e in changes(object_ref=booking.reference)[-2:]] == ["ops-script", ""]


# --- Tasks and commands ----------------------------------------------------------------------------------


def import_file(connecting, rows: int) -> SimpleUploadedFile:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["departure", "vessel_call", "destination", "containers", "commodity", "cargo_weight_kg",
                     "confirm"])
    for _ in range(rows):
        writer.writerow([connecting.departure.reference, connecting.vessel_call.reference, "NLRTM", "42G1:1",
                         "Toys", "9000", "yes"])
    return SimpleUploadedFile("bookings.csv", buffer.getvalue().encode(), content_type="text/csv")


def test_a_task_applied_in_process_writes_in_its_own_name(client, shipper, connecting,
                                                          django_capture_on_commit_callbacks):
    client.force_login(shipper.user)
    with django_capture_on_commit_callbacks(execute=False):  # not queued: the test runs it itself
        client.post("/bookings/import/", {"file": import_file(connecting, 2)})
    job = BookingImport.objects.latest("id")

    result = booking_import_task.apply(args=[job.pk])

    assert result.get() == ImportStatus.DONE
    job.refresh_from_db()
    for reference in job.created_references:
        assert {e.actor_username for e in changes(object_ref=reference)} == {"task:bookings.tasks.booking_import_run"}
    Booking.objects.filter(reference=job.created_references[0]).update(status=BookingStatus.CANCELLED)
    assert changes(object_ref=job.created_references[0])[-1].actor_username == ""  # the task's name ended with it


@celery_app.task(name="tests.audit.cancel_then_fail")
def cancel_then_fail(booking_id: int) -> None:
    Booking.objects.filter(pk=booking_id).update(status=BookingStatus.CANCELLED)
    raise RuntimeError("failed after writing")


def test_a_failing_task_wrote_in_its_name_and_the_name_ends_with_it(shipper, connecting):
    booking = book(shipper.actor, connecting)

    result = cancel_then_fail.apply(args=[booking.pk])

    assert result.failed()
    assert changes(object_ref=booking.reference)[-1].actor_username == "task:tests.audit.cancel_then_fail"
    assert connection.execute_wrappers == [] and setting_now() == ""


@celery_app.task(name="tests.audit.retry_once", bind=True, max_retries=1)
def retry_once(self, booking_id: int) -> int:
    if not self.request.retries:
        raise self.retry(countdown=0)  # in process, the retry runs at once, under the same task id
    return Booking.objects.filter(pk=booking_id).update(status=BookingStatus.CANCELLED)


def test_a_task_retried_in_process_leaves_no_actor_behind(shipper, connecting):
    booking = book(shipper.actor, connecting)

    retry_once.apply(args=[booking.pk])
    Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.CONFIRMED)

    cancelled, confirmed = changes(object_ref=booking.reference)[-2:]
    assert (cancelled.after, cancelled.actor_username) == ({"status": "cancelled"}, "task:tests.audit.retry_once")
    assert (confirmed.after, confirmed.actor_username) == ({"status": "confirmed"}, "")
    assert connection.execute_wrappers == []


@pytest.fixture
def own_broker(private_redis):  # noqa: F811
    """private_redis points the app at a server of the test's own, but Celery's app.close() keeps the producers
    pooled for the first broker (only a fork drops them): drop them too, so the upload's task goes there."""
    celery_app.amqp._producer_pool = None
    yield private_redis
    celery_app.amqp._producer_pool = None


@pytest.mark.django_db(transaction=True)
def test_a_task_in_a_real_worker_writes_in_its_own_name(shipper, connecting, own_broker, worker_factory):  # noqa: F811
    worker_factory(own_broker.url, beat=False, concurrency=1)
    client = Client()
    client.force_login(shipper.user)

    client.post("/bookings/import/", {"file": import_file(connecting, 1)})  # queued once the upload commits

    job = wait_for(lambda: BookingImport.objects.filter(status=ImportStatus.DONE).first(), timeout=90,
                   what="the worker to run the import")
    reference, = job.created_references
    created, confirmed = changes(object_ref=reference)
    assert (created.after, confirmed.after) == ({"status": "draft"}, {"status": "confirmed"})
    assert {created.actor_username, confirmed.actor_username} == {"task:bookings.tasks.booking_import_run"}


def test_a_management_command_writes_in_its_own_name(capsys):
    factories.organisation(PartyKind.RAILWAY, code="rail-x")

    call_command("create_api_key", "--org", "rail-x")

    created, = AuditEntry.objects.filter(action=AuditAction.KEY_CREATED)
    assert (created.actor_username, created.organisation_code) == ("command:create_api_key", "rail-x")
    assert connection.execute_wrappers == [] and setting_now() == ""


# The one command that is not an ActingCommand writes nothing itself: it runs the others (which name
# themselves) and starts the web server, worker and beat.
NOT_WRITING = {"run_platform"}


def test_every_command_of_the_project_names_itself():
    project = ("intermodal", "stations", "bookings", "customs", "tracking", "journey", "documents", "figures",
               "notifications")
    ours = {name: app for name, app in get_commands().items() if app.split(".")[0] in project}

    assert {"seed_demo", "seed_demo_history", "figures_refresh", "generate_departures", "create_api_key",
            "seed_risk_rules"} <= set(ours)
    for name, app in ours.items():
        assert name in NOT_WRITING or isinstance(load_command_class(app, name), ActingCommand), name
