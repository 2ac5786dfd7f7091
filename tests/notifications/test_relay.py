"""The relay: which subscriptions get which events (filters and who may see what), exactly once."""

import json

import pytest
from django.core import mail
from django.utils import translation

from bookings import services as booking_services
from bookings import services as bookings_services
from intermodal.access import Actor
from intermodal.models import OutboxMessage, PartyKind
from journey import services as journey
from notifications.models import Delivery, EmailPreference, Notification, NotificationKind
from notifications.people import notification_email, title
from notifications.relay import outbox_relay, outbox_sweep
from tests import factories
from tests.bookings.conftest import book
from tests.notifications.conftest import subscribe

pytestmark = pytest.mark.django_db


def relay_all():
    """What the workers do after the commits: relay every outbox row."""
    return outbox_sweep()


def topics(subscription) -> list[str]:
    return sorted(Delivery.objects.filter(subscription=subscription).values_list("topic", flat=True))


def test_a_relay_takes_its_own_rows_first_then_the_rows_waiting_after_them(shipper, connecting):
    """When the relay is behind, its tasks wait in the broker, one for each commit: the first to run takes the
    rows of those queued behind it with its own - one batch instead of many, and no row waits for its own task -
    and those tasks find nothing left. It looks from its own oldest row on, not at the rows before it (their own
    tasks', or the sweep's), and a task whose rows were taken stops there."""
    subscription = subscribe(shipper.org, "https://a.example/hook").subscription
    for _ in range(4):
        book(shipper.actor, connecting)  # each: DRFT and CONF, two outbox rows
    older, middle, newer, newest = (list(OutboxMessage.objects.order_by("id").values_list("pk", flat=True)[n:n + 2])
                                    for n in (0, 2, 4, 6))

    assert outbox_relay(ids=[]) == 0  # no rows of its own: nothing, not the oldest waiting
    assert outbox_relay(ids=middle, batch=3) == 3  # its own two first, then the next waiting after them
    assert set(OutboxMessage.objects.filter(processed_at__isnull=True).values_list("pk", flat=True)) == {
        *older, newer[1], *newest}
    assert outbox_relay(ids=newer) == 3  # its own one left, and the two after it
    assert outbox_relay(ids=newest) == 0  # the newest rows' own task: taken, it stops
    assert set(OutboxMessage.objects.filter(processed_at__isnull=True).values_list("pk", flat=True)) == {*older}
    assert outbox_relay(ids=older) == 2  # the oldest rows' own task
    assert not OutboxMessage.objects.filter(processed_at__isnull=True).exists()
    assert Delivery.objects.filter(subscription=subscription).count() == 8


def test_a_task_whose_rows_were_taken_leaves_the_older_rows_to_the_sweep(shipper, connecting):
    """A row whose trigger was lost and that is older than every task's rows is relayed by the sweep."""
    subscribe(shipper.org, "https://a.example/hook")
    for _ in range(2):
        book(shipper.actor, connecting)
    lost, *rest = OutboxMessage.objects.order_by("id").values_list("pk", flat=True)

    assert outbox_relay(ids=rest) == 3
    assert list(OutboxMessage.objects.filter(processed_at__isnull=True).values_list("pk", flat=True)) == [lost]
    assert outbox_sweep() == 1
    assert Delivery.objects.filter(event_id__in=OutboxMessage.objects.values("event_id")).count() == 4


def test_the_events_are_read_within_their_rows_times_and_by_id_when_made_long_before(shipper, connecting):
    """The relay reads a batch's events within the month their outbox rows give (the table is partitioned by
    month: PostgreSQL plans the read over those months only); an event made more than an hour before its outbox
    row is read by its id and relayed all the same."""
    from datetime import timedelta

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from intermodal.models import Event

    subscription = subscribe(shipper.org, "https://a.example/hook").subscription
    book(shipper.actor, connecting)
    first, second = OutboxMessage.objects.order_by("id")
    Event.objects.filter(pk=first.event_id).update(created_at=first.created_at - timedelta(hours=3))

    with CaptureQueriesContext(connection) as captured:
        assert outbox_relay(ids=[first.pk, second.pk]) == 2

    reads = [q["sql"] for q in captured.captured_queries if q["sql"].startswith('SELECT "intermodal_event"')]
    assert len(reads) == 2 and '"created_at" >=' in reads[0] and '"created_at"' not in reads[1].split("WHERE")[1]
    assert sorted(Delivery.objects.filter(subscription=subscription).values_list("event_id", flat=True)) == sorted(
        [first.event_id, second.event_id])


def test_each_event_reaches_the_subscriptions_that_may_see_it_once(shipper, other_shipper, connecting):
    mine = subscribe(shipper.org, "https://a.example/hook").subscription
    theirs = subscribe(other_shipper.org, "https://b.example/hook").subscription
    railway = subscribe(connecting.network.railway, "https://rail.example/hook").subscription
    government = factories.organisation(PartyKind.LOCAL_GOVERNMENT, code="gov")
    # Made directly: the services refuse local government a subscription (it sees aggregates only).
    from notifications.models import Subscription

    nothing = Subscription.objects.create(organisation=government, url="https://gov.example/", event_kinds=["*"],
                                          secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")

    booking = book(shipper.actor, connecting)
    assert relay_all() == 2  # DRFT and CONF

    assert topics(mine) == ["shipment.conf", "shipment.drft"]
    assert topics(theirs) == []
    assert topics(railway) == ["shipment.conf", "shipment.drft"]  # the booking is on its service
    assert topics(nothing) == []
    assert OutboxMessage.objects.filter(processed_at__isnull=True).count() == 0
    body = json.loads(Delivery.objects.filter(subscription=mine).first().body)
    assert body["data"]["booking_reference"] == booking.reference

    # Relaying again (a trigger and the sweep both running) adds nothing.
    assert relay_all() == 0
    assert outbox_relay(ids=list(OutboxMessage.objects.values_list("pk", flat=True))) == 0
    assert Delivery.objects.count() == 4


def test_filters_by_kind_station_booking_and_container(shipper, connecting):
    first = book(shipper.actor, connecting)
    second = book(shipper.actor, connecting)
    relay_all()
    by_booking = subscribe(shipper.org, "https://x.example/1", booking_reference=second.reference).subscription
    by_kind = subscribe(shipper.org, "https://x.example/2", kinds=["shipment.canc"]).subscription
    elsewhere = subscribe(shipper.org, "https://x.example/3", station_code=connecting.network.jinhua.code).subscription
    here = subscribe(shipper.org, "https://x.example/4", station_code=connecting.network.yiwu.code,
                     kinds=["equipment.*"]).subscription

    booking_services.booking_cancel(actor=shipper.actor, booking=first, reason="No longer needed")
    bookings_services.empty_request_create(actor=shipper.actor, booking=second, size_type="42G1", quantity=1)
    relay_all()

    assert topics(by_booking) == ["shipment.reqs"]
    assert topics(by_kind) == ["shipment.canc"]
    assert topics(elsewhere) == []
    assert topics(here) == []  # no equipment event yet


def test_an_inspection_office_receives_the_declarations_at_its_stations(shipper, connecting):
    from tests.factories import declaration_released, inspection_offices

    booking = book(shipper.actor, connecting)
    staff = Actor(organisation=connecting.network.operator, user=factories.user(connecting.network.operator))
    request = bookings_services.empty_request_create(actor=shipper.actor, booking=booking, size_type="42G1", quantity=2)
    journey.empty_request_ready(actor=staff, request=request)
    for number in ("CSQU3054383", "TCNU7200794"):
        journey.empty_hand_out(actor=staff, request=request, number=number)
    customs, _border = inspection_offices(connecting.departure.service.station)
    elsewhere = factories.organisation(PartyKind.CUSTOMS, code="customs-elsewhere")
    office = subscribe(customs, "https://customs.example/hook").subscription
    other_office = subscribe(elsewhere, "https://elsewhere.example/hook").subscription
    relay_all()
    declaration_released(booking)
    relay_all()

    received = topics(office)
    assert "shipment.subm" in received and "shipment.rels" in received
    assert all(t.startswith("shipment.") for t in received)
    assert topics(other_office) == []


def test_people_are_told_once_and_emailed_as_they_chose(shipper, connecting):
    shipper.user.email = "alice@shipper.example"
    shipper.user.save()
    colleague = factories.user(shipper.org, username="carol", email="carol@shipper.example")
    EmailPreference.objects.create(user=colleague, kind=NotificationKind.BOOKING_CONFIRMED, by_email=True)
    EmailPreference.objects.create(user=shipper.user, kind=NotificationKind.BOOKING_CONFIRMED, by_email=False)

    booking = book(shipper.actor, connecting)
    relay_all()
    relay_all()

    told = Notification.objects.filter(kind=NotificationKind.BOOKING_CONFIRMED)
    assert sorted(told.values_list("user__username", flat=True)) == ["alice", "carol"]
    for notification in told:
        notification_email(notification.pk)
        notification_email(notification.pk)  # a task run twice emails once
    assert [m.to for m in mail.outbox] == [["carol@shipper.example"]]
    assert booking.reference in mail.outbox[0].subject
    assert f"/bookings/{booking.reference}/" in mail.outbox[0].body


def test_the_email_is_in_the_readers_language(shipper, connecting):
    shipper.user.email, shipper.user.language = "alice@shipper.example", "zh-hans"
    shipper.user.save()
    EmailPreference.objects.create(user=shipper.user, kind=NotificationKind.BOOKING_CONFIRMED, by_email=True)
    book(shipper.actor, connecting)
    relay_all()
    notification_email(Notification.objects.get(user=shipper.user, kind=NotificationKind.BOOKING_CONFIRMED).pk)
    assert "已确认" in mail.outbox[0].subject


def test_a_roll_and_ready_empties_are_told_to_the_shipper(shipper, connecting):
    booking = book(shipper.actor, connecting)
    request = bookings_services.empty_request_create(actor=shipper.actor, booking=booking, size_type="42G1", quantity=2)
    staff = factories.user(connecting.network.operator, username="yiwu-staff")
    journey.empty_request_ready(actor=Actor(organisation=connecting.network.operator, user=staff), request=request)
    relay_all()
    ready = Notification.objects.get(user=shipper.user, kind=NotificationKind.EMPTIES_READY)
    assert ready.params["quantity"] == 2 and ready.params["booking"] == booking.reference
    station = connecting.network.yiwu
    with translation.override("zh-hans"):
        assert station.name_zh in title(ready) and station.name not in title(ready)
    with translation.override("en"):
        assert station.name in title(ready)


def test_a_batchs_facts_are_told_in_three_statements_each_to_its_own_people(shipper, other_shipper, connecting):
    """The relay tells a batch's facts for people together (notifications.people.notify_many): the statements do
    not grow with the facts, each booking's people hear of their own, and each one's email choice is kept."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from intermodal.models import Event
    from notifications.people import notifications_from_events

    shipper.user.email, other_shipper.user.email = "alice@shipper.example", "bob@other.example"
    shipper.user.save()
    other_shipper.user.save()
    EmailPreference.objects.create(user=shipper.user, kind=NotificationKind.BOOKING_CONFIRMED, by_email=True)
    EmailPreference.objects.create(user=other_shipper.user, kind=NotificationKind.BOOKING_CONFIRMED, by_email=False)
    mine = [book(shipper.actor, connecting) for _ in range(3)]
    theirs = book(other_shipper.actor, connecting)
    confirmations = list(Event.objects.filter(event_code="CONF").order_by("id"))
    assert len(confirmations) == 4

    with CaptureQueriesContext(connection) as two:
        notifications_from_events(confirmations[:2])
    with CaptureQueriesContext(connection) as four:
        emails = notifications_from_events(confirmations)

    notifying = [q for q in four.captured_queries if "notifications_" in q["sql"]]
    assert len(notifying) == 3
    assert len([q for q in two.captured_queries if "notifications_" in q["sql"]]) == 3
    told = Notification.objects.filter(kind=NotificationKind.BOOKING_CONFIRMED)
    assert sorted(told.filter(user=shipper.user).values_list("params__booking", flat=True)) == sorted(
        b.reference for b in mine)
    assert list(told.filter(user=other_shipper.user).values_list("params__booking", flat=True)) == [theirs.reference]
    # Alice chose email, Bob did not. Alice's first two, told before and not emailed yet, go again to the email
    # task, which sends each once (test_people_are_told_once_and_emailed_as_they_chose).
    assert sorted(emails) == sorted(told.filter(user=shipper.user).values_list("pk", flat=True))
    assert told.count() == 4


def test_a_task_relays_the_backlog_behind_its_rows_from_where_it_got_to(shipper, connecting, monkeypatch):
    """A task whose batch was full relays on after the last row it took (not again from the first waiting), so the
    backlog of tasks queued behind it is relayed in full batches by the first to run; the sweep goes on the same
    way. Rows before its own are left to their own tasks and to the sweep."""
    from notifications import relay

    subscribe(shipper.org, "https://a.example/hook")
    for _ in range(5):
        book(shipper.actor, connecting)  # ten outbox rows
    rows = list(OutboxMessage.objects.order_by("id").values_list("pk", flat=True))
    monkeypatch.setattr(relay, "BATCH", 3)

    assert relay.outbox_relay_task(ids=rows[2:4]) == 8  # its two, then the six after them, three at a time
    assert list(OutboxMessage.objects.filter(processed_at__isnull=True).values_list("pk", flat=True)) == rows[:2]
    assert relay.outbox_relay_task(ids=rows[8:]) == 0  # taken: it stops
    assert relay.outbox_sweep() == 2
    assert not OutboxMessage.objects.filter(processed_at__isnull=True).exists()
