"""The audit trail: logins, key use, status changes and customs decisions, with actor, organisation, time,
before and after; written by database triggers (so QuerySet.update() is covered) and append-only."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client

from audit.context import acting_as
from audit.models import AuditAction, AuditEntry
from bookings.models import Booking, BookingStatus, Container
from intermodal.access import api_key_revoke, api_key_uses_write
from intermodal.models import PartyKind
from tests import factories
from tests.bookings.conftest import book
from tests.customs.conftest import declared, draft  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


def entries(action, **filters):
    return list(AuditEntry.objects.filter(action=action, **filters).order_by("at", "id"))


def bearer(raw):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_logins_failures_and_logouts_are_recorded_without_the_password(shipper):
    client = Client()
    client.post("/login/", {"username": "alice", "password": "secret-wrong-pw"}, REMOTE_ADDR="10.0.0.7")
    client.post("/login/", {"username": "alice", "password": "pw-Strong-123"}, REMOTE_ADDR="10.0.0.7")
    client.post("/logout/", REMOTE_ADDR="10.0.0.7")

    failure, = entries(AuditAction.LOGIN_FAILURE)
    success, = entries(AuditAction.LOGIN_SUCCESS)
    logout, = entries(AuditAction.LOGOUT)
    assert (failure.actor_username, failure.ip_address) == ("alice", "10.0.0.7")
    assert (success.actor_user_id, success.organisation_code, success.ip_address) == (
        shipper.user.pk, "shipper-a", "10.0.0.7")
    assert logout.actor_username == "alice"
    dump = str(list(AuditEntry.objects.values()))
    assert "secret-wrong-pw" not in dump and "pw-Strong-123" not in dump


def test_a_lock_out_is_recorded(shipper):
    for n in range(6):
        Client().post("/login/", {"username": "alice", "password": f"wrong-{n}"})

    assert len(entries(AuditAction.LOGIN_FAILURE, actor_username="alice")) == 6
    assert entries(AuditAction.LOGIN_LOCKED_OUT)[0].actor_username == "alice"


def test_a_booking_made_with_a_key_records_its_status_with_the_key_and_organisation(api_client, shipper, connecting):
    key, raw = factories.api_key(shipper.org)
    body = {"departure": connecting.departure.reference, "vessel_call": connecting.vessel_call.reference,
            "destination": "NLRTM", "containers": [{"size_type": "42G1", "quantity": 1}], "commodity": "Toys",
            "cargo_weight_kg": "9000"}

    reference = api_client.post("/api/v1/bookings/", body, format="json", REMOTE_ADDR="10.0.0.9",
                                **bearer(raw)).json()["reference"]
    api_client.post(f"/api/v1/bookings/{reference}/confirm/", REMOTE_ADDR="10.0.0.9", **bearer(raw))

    created, confirmed = entries(AuditAction.STATUS_CHANGE, object_type="booking", object_ref=reference)
    assert (created.before, created.after) == (None, {"status": "draft"})
    assert (confirmed.before, confirmed.after) == ({"status": "draft"}, {"status": "confirmed"})
    for entry in (created, confirmed):
        assert (entry.api_key_prefix, entry.organisation_code, entry.ip_address) == (key.prefix, "shipper-a",
                                                                                   "10.0.0.9")
        assert entry.actor_user_id is None and entry.field == "status"
    assert confirmed.at >= created.at
    api_key_uses_write()  # beat's task, every minute: the key's use, with the address it came from
    used, = entries(AuditAction.KEY_USED, object_ref=key.prefix)
    assert (used.organisation_code, used.ip_address) == ("shipper-a", "10.0.0.9")


def test_a_page_action_records_the_person(shipper, connecting):
    booking = book(shipper.actor, connecting, confirm=False)
    client = Client()
    client.force_login(shipper.user)

    client.post(f"/bookings/{booking.reference}/confirm/")

    change = entries(AuditAction.STATUS_CHANGE, object_ref=booking.reference)[-1]
    assert change.after == {"status": "confirmed"}
    assert (change.actor_user_id, change.actor_username, change.organisation_code) == (
        shipper.user.pk, "alice", "shipper-a")


def test_a_queryset_update_is_recorded_too(shipper, connecting):
    booking = book(shipper.actor, connecting)

    with acting_as(username="ops-script", organisation_code="demo-admin"):
        Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.CANCELLED)
    Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.CONFIRMED)  # no actor: a system change

    by_script, by_system = entries(AuditAction.STATUS_CHANGE, object_ref=booking.reference)[-2:]
    assert (by_script.before, by_script.after) == ({"status": "confirmed"}, {"status": "cancelled"})
    assert (by_script.actor_username, by_script.organisation_code) == ("ops-script", "demo-admin")
    assert (by_system.after, by_system.actor_username) == ({"status": "confirmed"}, "")


def test_an_update_that_leaves_the_status_alone_records_nothing(shipper, connecting):
    booking = book(shipper.actor, connecting)
    before = AuditEntry.objects.count()

    Booking.objects.filter(pk=booking.pk).update(commodity="Other things")

    assert AuditEntry.objects.count() == before


def test_a_statement_changing_many_rows_records_each_changed_one_with_one_insert(shipper, connecting):
    """The triggers run once per statement over the rows it wrote (their transition tables): each row whose
    status changed gets its entry, with its own before and the statement's actor; a row left alone gets none;
    the entries are written by one INSERT, not one per row (P1, docs/PERFORMANCE.md)."""
    from bookings import services

    booking = book(shipper.actor, connecting, lines={"42G1": 3})
    numbers = ["CSQU3054383", "TCNU7200794", "TOLU4734787"]
    for number in numbers:
        services.container_assign(actor=shipper.actor, booking=booking, number=number, size_type="42G1")
    Container.objects.filter(number=numbers[2]).update(status="gated_in")
    before = AuditEntry.objects.count()

    with acting_as(username="gate-clerk", organisation_code="yiwu-op"):
        written = Container.objects.filter(number__in=numbers).update(status="gated_in")

    assert written == 3
    changed = entries(AuditAction.STATUS_CHANGE, object_type="container", pk__gt=0)[-2:]
    assert AuditEntry.objects.count() == before + 2  # the third was gated in already
    assert sorted(e.object_ref for e in changed) == numbers[:2]
    assert all(e.before != e.after and e.after == {"status": "gated_in"} for e in changed)
    assert {(e.actor_username, e.organisation_code) for e in changed} == {("gate-clerk", "yiwu-op")}
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgname, tgtype & 1 FROM pg_trigger WHERE tgrelid = 'bookings_container'::regclass "
                       "AND tgname LIKE 'audit%' ORDER BY tgname")
        # tgtype's first bit: 1 for a row trigger, 0 for a statement trigger.
        assert cursor.fetchall() == [("audit_bookings_container_status", 0),
                                     ("audit_bookings_container_status_insert", 0)]


def test_container_and_departure_status_changes_are_recorded(shipper, connecting):
    booking = book(shipper.actor, connecting)
    from bookings import services

    container = services.container_assign(actor=shipper.actor, booking=booking, number="CSQU3054383",
                                          size_type="42G1")
    Container.objects.filter(pk=container.pk).update(status="gated_in")
    connecting.departure.__class__.objects.filter(pk=connecting.departure.pk).update(status="closed")

    assert entries(AuditAction.STATUS_CHANGE, object_type="container", object_ref="CSQU3054383")[-1].after == {
        "status": "gated_in"}
    assert entries(AuditAction.STATUS_CHANGE, object_type="departure",
                   object_ref=connecting.departure.reference)[-1].after == {"status": "closed"}


def test_every_customs_decision_is_recorded_with_agency_reason_and_officer(declared):  # noqa: F811
    from customs import services

    declaration = draft(declared)
    services.declaration_submit(actor=declared.shipper.actor, declaration=declaration)
    services.declaration_decide(actor=declared.customs, declaration=declaration, kind="reject",
                                reason="Value looks low")

    decision, = entries(AuditAction.CUSTOMS_DECISION, object_ref=declaration.reference)
    assert decision.after == {"agency": "customs", "decision": "reject", "reason": "Value looks low"}
    assert decision.organisation_code == declared.customs.organisation.code
    assert decision.details == {"officer_id": declared.customs.user.pk}
    statuses = [e.after["status"] for e in entries(AuditAction.STATUS_CHANGE, object_type="declaration",
                                                   object_ref=declaration.reference)]
    assert statuses[0] == "draft" and statuses[-1] == "rejected"


def test_key_creation_revocation_and_refusal_are_recorded(api_client):
    org = factories.organisation(PartyKind.RAILWAY, code="rail-x")
    key, raw = factories.api_key(org)
    api_key_revoke(key=key)

    api_client.get("/api/v1/me/", REMOTE_ADDR="10.0.0.5", **bearer(raw))
    api_client.get("/api/v1/me/", **bearer(f"imk_{key.prefix}_forged"))

    assert entries(AuditAction.KEY_CREATED, object_ref=key.prefix)[0].organisation_code == "rail-x"
    revoked, = entries(AuditAction.KEY_REVOKED, object_ref=key.prefix)
    assert revoked.before == {"revoked_at": None} and revoked.after["revoked_at"]
    refusals = entries(AuditAction.KEY_REFUSED, object_ref=key.prefix)
    assert [r.details["reason"] for r in refusals] == ["revoked", "wrong_secret"]
    assert refusals[0].ip_address == "10.0.0.5"
    assert raw.split("_", 2)[2] not in str(list(AuditEntry.objects.values()))


@pytest.mark.parametrize("statement", [
    "UPDATE audit_entry SET action = 'x'",
    "DELETE FROM audit_entry",
])
def test_the_database_refuses_to_change_or_delete_entries(statement):
    AuditEntry.objects.create(action=AuditAction.LOGIN_FAILURE, actor_username="mallory")

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.all().delete()

    assert AuditEntry.objects.filter(actor_username="mallory", action=AuditAction.LOGIN_FAILURE).count() == 1


def test_admins_read_and_filter_the_trail_but_cannot_change_it(shipper, connecting):
    booking = book(shipper.actor, connecting)
    staff = factories.user(factories.organisation(PartyKind.PLATFORM_ADMIN), is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    entry = entries(AuditAction.STATUS_CHANGE, object_ref=booking.reference)[0]

    listing = client.get("/admin/audit/auditentry/", {"action__exact": "status.change", "q": booking.reference})
    other = client.get("/admin/audit/auditentry/", {"action__exact": "login.success", "q": booking.reference})
    change = client.post(f"/admin/audit/auditentry/{entry.pk}/change/", {"action": "x"})
    delete = client.post(f"/admin/audit/auditentry/{entry.pk}/delete/", {"post": "yes"})
    add = client.get("/admin/audit/auditentry/add/")

    assert listing.status_code == 200
    assert {e.object_ref for e in listing.context["cl"].result_list} == {booking.reference}
    assert other.context["cl"].result_count == 0
    assert change.status_code == 403 and delete.status_code == 403 and add.status_code == 403
    assert AuditEntry.objects.get(pk=entry.pk).action == "status.change"
