"""The event + outbox core: the event and its outbox row exist exactly when the change commits."""

import pytest
from django.db import transaction

from intermodal import events
from intermodal.codes import Classifier, EventType
from intermodal.errors import InvalidInput
from intermodal.events import event_record
from intermodal.models import Event, OutboxMessage, PartyKind
from tests import factories

pytestmark = pytest.mark.django_db


def gate_in(**overrides):
    fields = {
        "event_type": EventType.EQUIPMENT, "event_code": "GTIN", "classifier": Classifier.ACTUAL,
        "equipment_reference": "CSQU3054383", "empty_indicator": "LADEN", "facility_kind": "station",
        "facility_code": "YIWU-W", "location_unlocode": "CNYIU", "booking_reference": "BK-2026-000001",
    }
    fields.update(overrides)
    return event_record(**fields)


def test_a_committed_change_has_both_rows():
    station_staff = factories.user(factories.organisation(PartyKind.STATION_OPERATOR, code="yiwu-ops"))

    with transaction.atomic():
        event = gate_in(user=station_staff)

    outbox = OutboxMessage.objects.get()
    assert outbox.event == event
    assert outbox.topic == "equipment.gtin"
    assert outbox.processed_at is None
    stored = Event.objects.get(pk=outbox.event_id)
    assert (stored.event_id, stored.equipment_reference) == (event.event_id, "CSQU3054383")
    assert stored.reported_by_organisation.code == "yiwu-ops"


def test_a_rolled_back_change_leaves_neither_row():
    with pytest.raises(RuntimeError), transaction.atomic():
        gate_in()
        raise RuntimeError("the change that this event records failed")

    assert Event.objects.count() == 0
    assert OutboxMessage.objects.count() == 0


def test_a_failing_outbox_write_leaves_no_event(monkeypatch):
    def broken_create(**kwargs):
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(OutboxMessage.objects, "create", broken_create)

    with pytest.raises(RuntimeError):
        gate_in()

    assert Event.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"event_type": "CARGO"}, "event_type"),
        ({"event_code": "DEPA"}, "event_code"),  # a transport code on an equipment event
        ({"classifier": "GUESS"}, "classifier"),
    ],
)
def test_invalid_events_are_refused_and_nothing_is_written(overrides, field):
    with pytest.raises(InvalidInput) as error:
        gate_in(**overrides)

    assert field in error.value.errors
    assert Event.objects.count() == OutboxMessage.objects.count() == 0


def test_naive_times_are_refused():
    from datetime import datetime

    with pytest.raises(InvalidInput) as error:
        gate_in(event_datetime=datetime(2026, 11, 30, 9, 30))  # noqa: DTZ001 - the point of the test

    assert "event_datetime" in error.value.errors


def test_relay_hooks_run_only_after_commit(django_capture_on_commit_callbacks, outbox_committed_ids):
    seen = outbox_committed_ids

    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        gate_in()
        assert seen == []

    assert sum(isinstance(getattr(c, "__self__", None), events._CommitBatch) for c in callbacks) == 1
    assert seen == [[OutboxMessage.objects.get().pk]]


def test_one_transaction_triggers_the_hooks_once_with_all_its_outbox_rows(django_capture_on_commit_callbacks,
                                                                          outbox_committed_ids):
    seen = outbox_committed_ids

    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        gate_in()
        try:
            with transaction.atomic():
                gate_in()
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        gate_in()

    assert sum(isinstance(getattr(c, "__self__", None), events._CommitBatch) for c in callbacks) == 1
    kept = sorted(OutboxMessage.objects.values_list("pk", flat=True))
    assert len(kept) == 2
    # The rolled-back row's id may be handed over too: the relay finds no such row and skips it.
    assert len(seen) == 1 and set(kept) <= set(seen[0])

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        gate_in()
    assert len(seen) == 2 and seen[1] == [OutboxMessage.objects.order_by("-pk").first().pk]


def test_events_are_append_only_in_order():
    first = gate_in(event_code="GTOT", empty_indicator="EMPTY")
    second = gate_in()

    assert list(Event.objects.values_list("pk", flat=True)) == [first.pk, second.pk]
    assert list(OutboxMessage.objects.values_list("event_id", flat=True)) == [first.pk, second.pk]



@pytest.mark.django_db
def test_the_outbox_is_vacuumed_once_ten_thousand_rows_are_dead_whatever_its_size():
    """A queue table: autovacuum's default (a fifth of the table dead) would leave a week of relayed rows' entries in
    the index the relay's sweep walks (migration 0013)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'intermodal_outboxmessage'")
        [options] = cursor.fetchone()

    assert sorted(options) == ["autovacuum_vacuum_scale_factor=0", "autovacuum_vacuum_threshold=10000"]
