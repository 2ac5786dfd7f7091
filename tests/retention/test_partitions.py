"""The events table partitioned by month (issue 21, item 2; intermodal migration 0011, retention/partitions.py):
partitions made ahead of time, back-dated rows moved out of the default partition into their month's, look-ups,
the feed and the relay working across partitions, and a past month detached only when nothing names its events."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from intermodal.codes import Classifier, EventType
from intermodal.events import event_build, events_append
from intermodal.models import Event, OutboxMessage
from notifications import relay
from notifications.models import Delivery
from retention import partitions as event_partitions
from retention.partitions import PartitionRefused, partition_detach, partition_name, partitions_ensure
from retention.tasks import event_partitions_ensure_task
from tests.bookings.conftest import book
from tests.notifications.conftest import subscribe

pytestmark = pytest.mark.django_db

NUMBER = "CSQU3054383"


def _recorded_at(moment: datetime, booking_reference: str = "BK-2026-000001", code: str = "GTIN") -> Event:
    event = event_build(event_type=EventType.EQUIPMENT, event_code=code, classifier=Classifier.ACTUAL,
                        event_datetime=moment, equipment_reference=NUMBER, empty_indicator="LADEN",
                        facility_kind="station", facility_code="YIWU-W", location_unlocode="CNYIU",
                        booking_reference=booking_reference)
    event.created_at = moment
    return events_append([event])[0]


def _partition_of(event: Event) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM intermodal_event WHERE id = %s", [event.pk])
        return cursor.fetchone()[0]


def _attached() -> set[str]:
    return {partition.name for partition in event_partitions.partitions()}


def test_the_migration_made_this_months_partition_and_the_next_ones_and_new_events_go_there():
    this_month = timezone.now().date().replace(day=1)
    ahead = {partition_name(this_month.replace(year=this_month.year + (this_month.month + n - 1) // 12,
                                               month=(this_month.month + n - 1) % 12 + 1)) for n in range(4)}
    assert ahead <= _attached()

    event = _recorded_at(timezone.now())

    assert _partition_of(event) == partition_name(this_month)


def test_partitions_are_made_ahead_of_time_once():
    # when: beat's daily run, on a day in May 2031
    made = partitions_ensure(today=date(2031, 5, 17))

    # then: May to August, and nothing twice
    assert made == [f"intermodal_event_p2031{month:02d}" for month in (5, 6, 7, 8)]
    assert partitions_ensure(today=date(2031, 5, 17)) == []
    assert {"intermodal_event_p203105", "intermodal_event_p203108"} <= _attached()
    # and an event recorded in June 2031 is kept in June's partition, not the default one
    assert _partition_of(_recorded_at(datetime(2031, 6, 3, 8, 0, tzinfo=UTC))) == "intermodal_event_p203106"


def test_the_beat_task_makes_the_months_ahead(settings):
    settings.EVENT_PARTITIONS_AHEAD_MONTHS = 14
    far = timezone.now().date().replace(day=1) + timedelta(days=14 * 31)

    made = event_partitions_ensure_task.apply().get()

    assert partition_name(far.replace(day=1)) in made
    assert partition_name(far.replace(day=1)) in _attached()


def test_back_dated_rows_wait_in_the_default_partition_until_their_month_has_one():
    # given: a bulk of history from March 2020, a month without a partition
    old = [_recorded_at(datetime(2020, 3, day, 10, 0, tzinfo=UTC)) for day in (2, 30)]
    assert {_partition_of(event) for event in old} == {"intermodal_event_default"}

    # when
    made = partitions_ensure()

    # then: March 2020 has its partition, with both rows moved into it, still found by their ids
    assert "intermodal_event_p202003" in made
    assert {_partition_of(event) for event in old} == {"intermodal_event_p202003"}
    assert Event.objects.filter(event_id__in=[event.event_id for event in old]).count() == 2
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM intermodal_event_default")
        assert cursor.fetchone()[0] == 0


def test_look_ups_the_feed_and_the_relay_work_across_partitions(shipper, connecting, api_client):
    booking = book(shipper.actor, connecting, lines={"22G1": 1})
    subscription = subscribe(shipper.org, "http://127.0.0.1:9/hook", booking_reference=booking.reference).subscription
    relay.outbox_relay()
    this_month = timezone.now().replace(day=1, hour=12, minute=0, second=0, microsecond=0)
    # given: a container's events in three partitions: two months back (its own, made now), last month, this one
    partitions_ensure(since=(this_month - timedelta(days=45)).date())
    moments = [this_month - timedelta(days=45), this_month - timedelta(days=10), this_month]
    events = [_recorded_at(moment, booking.reference, code) for moment, code in zip(
        moments, ("GTOT", "GTIN", "LOAD"), strict=True)]
    assert len({_partition_of(event) for event in events}) == 3

    # then: the relay delivers each of them once
    relay.outbox_relay()
    delivered = set(Delivery.objects.filter(subscription=subscription).values_list("event_id", flat=True))
    assert {event.pk for event in events} <= delivered
    # and the events feed reads them in the order they were written, from every partition
    api_client.force_authenticate(shipper.user)
    listed = api_client.get("/api/v1/events/", {"container": NUMBER})
    assert listed.status_code == 200, listed.content
    assert [row["event_id"] for row in listed.json()["results"]] == [str(event.event_id) for event in events]
    # and a look-up by event id finds the oldest
    assert api_client.get(f"/api/dcsa/tnt/v2/events/{events[0].event_id}").status_code == 200


def test_a_past_month_is_detached_only_once_nothing_names_its_events(settings):
    partitions_ensure(today=date(2019, 1, 10))
    event = _recorded_at(datetime(2019, 1, 20, 6, 0, tzinfo=UTC))
    assert _partition_of(event) == "intermodal_event_p201901"

    # then: refused while its outbox row is kept (retention prunes it after RETENTION_OUTBOX_DAYS)
    with pytest.raises(PartitionRefused, match="intermodal_outboxmessage"):
        partition_detach(date(2019, 1, 1))
    # and this month is never detached
    with pytest.raises(PartitionRefused, match="only a past month"):
        partition_detach(timezone.now().date())

    # when: its outbox row is gone
    OutboxMessage.objects.filter(event=event).delete()
    call_command("event_partitions", detach="2019-01")

    # then: its events are no longer read; the table stays for archiving
    assert "intermodal_event_p201901" not in _attached()
    assert not Event.objects.filter(pk=event.pk).exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM intermodal_event_p201901")
        assert cursor.fetchone()[0] == 1


def test_the_partitioned_table_keeps_its_other_foreign_keys():
    # An event of an organisation that does not exist is refused, as before the table was partitioned.
    with pytest.raises(Exception, match="foreign key"), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO intermodal_event (event_id, event_type, event_code, classifier, event_datetime, created_at,"
            " location_unlocode, facility_kind, facility_code, mode_of_transport, transport_reference,"
            " equipment_reference, empty_indicator, booking_reference, document_type, document_reference, reason,"
            " details, reported_by_organisation_id) VALUES (gen_random_uuid(), 'EQUIPMENT', 'GTIN', 'ACT', now(),"
            " now(), '', '', '', '', '', '', '', '', '', '', '', '{}', -1)")
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def _index_columns(table: str) -> dict[str, tuple[tuple[str, ...], str, bool]]:
    """Each index of `table`: (its columns, its definition, whether it is partial)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT c.relname, array_agg(a.attname ORDER BY k.n), pg_get_indexdef(i.indexrelid),
                      i.indpred IS NOT NULL
                 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                 CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                WHERE i.indrelid = %s::regclass GROUP BY c.relname, i.indexrelid, i.indpred""",
            [table])
        return {name: (tuple(columns), definition, partial) for name, columns, definition, partial in cursor.fetchall()}


@pytest.mark.parametrize("table", ["intermodal_event", "intermodal_event_default", "a month made later"])
def test_no_index_of_the_events_is_one_another_index_already_answers(table):
    """Every index is on every monthly partition, weighed by the planner of each look-up over them and updated by
    every event written (migration 0012): none is the leading columns of another, none a LIKE copy - on the
    table, its partitions, and a month's partition made after the migration."""
    if table == "a month made later":
        partitions_ensure(today=date(2031, 1, 1))
        table = partition_name(date(2031, 1, 1))
    indexes = _index_columns(table)
    assert len(indexes) == 13
    assert not [name for name, (_columns, definition, _special) in indexes.items() if "pattern_ops" in definition]
    whole = {name: columns for name, (columns, _definition, partial) in indexes.items() if not partial}
    covered = [(name, other) for name, columns in whole.items() for other, longer in whole.items()
               if other != name and len(longer) > len(columns) and longer[:len(columns)] == columns]
    assert covered == []
