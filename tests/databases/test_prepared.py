"""Hot reads as prepared statements (databases/prepared.py): the ORM's rows, one round trip a read, planned once
per session, and a session that lost its statements (a pooler, DISCARD ALL) served again."""

import re

import pytest
from django.db import connection
from django.db.models import IntegerField, QuerySet, Value
from django.db.models.functions import Cast
from django.db.models.query import ModelIterable
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from bookings.models import Booking, BookingStatus
from databases import prepared
from databases.prepared import PreparedQuery, shaped, shaped_rows
from tests.bookings.conftest import book
from tests.databases.test_sessions import a_new_session
from tests.statements import prepared_statements

pytestmark = pytest.mark.django_db

ROUTE = ("departure__service__station", "departure__service__terminal", "vessel_call__terminal")


def _booking_by_reference(reference):
    return Booking.objects.select_related(*ROUTE).only(
        "reference", "status", "departure__reference", "departure__service__station__code",
        "departure__service__terminal__name", "vessel_call__vessel_name", "vessel_call__terminal__code",
    ).filter(reference=reference)


@pytest.fixture
def bookings(connecting, shipper):
    return [book(shipper.actor, connecting) for _ in range(2)]


def _held() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {row[0] for row in cursor.fetchall()}


def test_the_rows_are_the_orms_with_their_related_rows_and_deferred_fields(bookings):
    query = PreparedQuery("test_booking_route", _booking_by_reference, reference=("\x01a", "\x01b"))
    for booking in bookings:
        with CaptureQueriesContext(connection) as captured:
            [found] = query.all(reference=booking.reference)
            # Every related row the queryset selects came with it: no query after the one.
            seen = (found.pk, found.reference, found.status, found.departure.reference,
                    found.departure.service.station.code, found.departure.service.terminal.name,
                    found.vessel_call.vessel_name, found.vessel_call.terminal.code)
        assert len(captured.captured_queries) == 1
        [expected] = _booking_by_reference(booking.reference)
        assert seen == (expected.pk, expected.reference, expected.status, expected.departure.reference,
                        expected.departure.service.station.code, expected.departure.service.terminal.name,
                        expected.vessel_call.vessel_name, expected.vessel_call.terminal.code)
        assert found.get_deferred_fields() == expected.get_deferred_fields()
        for path in ("departure", "departure.service.station", "vessel_call.terminal"):
            mine, theirs = found, expected
            for name in path.split("."):
                mine, theirs = getattr(mine, name), getattr(theirs, name)
            # A related row is made as the ORM makes it: its deferred fields, loaded from the database it came from.
            assert mine.get_deferred_fields() == theirs.get_deferred_fields(), path
            assert (mine._state.adding, mine._state.db) == (False, "default"), path
    assert query.first(reference="NO-SUCH-BOOKING") is None


def test_an_annotation_is_set_on_each_instance_as_the_orm_sets_it(bookings):
    def with_annotation(reference):
        return _booking_by_reference(reference).annotate(reference_length=Cast(Value(7), IntegerField()))

    query = PreparedQuery("test_booking_annotated", with_annotation, reference=("\x01a", "\x01b"))
    for booking in bookings:
        [found] = query.all(reference=booking.reference)
        [expected] = with_annotation(booking.reference)

        assert (found.pk, found.reference_length) == (expected.pk, expected.reference_length) == (booking.pk, 7)


def test_prepared_once_per_session_then_executed(bookings):
    query = PreparedQuery("test_booking_once", _booking_by_reference, reference=("\x01a", "\x01b"))
    with CaptureQueriesContext(connection) as captured:
        answers = [query.first(reference=booking.reference).pk for booking in bookings]

    assert answers == [booking.pk for booking in bookings]
    first, second = (query["sql"] for query in captured.captured_queries)
    assert first.startswith("PREPARE test_booking_once AS SELECT") and "EXECUTE test_booking_once(" in first
    assert second == f"EXECUTE test_booking_once('{bookings[1].reference}')"
    assert "test_booking_once" in _held()


def test_a_session_plans_its_prepared_statements_once_for_any_values():
    [mode] = a_new_session(["SHOW plan_cache_mode"])

    assert mode == "force_generic_plan"


@override_settings(DATABASE_PREPARED_STATEMENTS=False)
def test_without_prepared_statements_the_orm_runs_the_query(bookings):
    query = PreparedQuery("test_booking_orm", _booking_by_reference, reference=("\x01a", "\x01b"))
    with CaptureQueriesContext(connection) as captured:
        assert query.first(reference=bookings[0].reference).pk == bookings[0].pk

    [statement] = captured.captured_queries
    assert statement["sql"].startswith("SELECT")
    assert "test_booking_orm" not in _held()
    [mode] = a_new_session(["SHOW plan_cache_mode"])
    assert mode == "auto"  # PostgreSQL's own: behind a pooler, nothing of the kind is asked of the session


def test_a_queryset_whose_sql_changes_with_its_values_runs_through_the_orm(bookings):
    # A list's length is in the SQL (IN (%s, %s)): no statement fits every value.
    query = PreparedQuery("test_booking_list", lambda references: Booking.objects.filter(reference__in=references),
                          references=(["\x01a"], ["\x01b", "\x01c"]))
    with CaptureQueriesContext(connection) as captured:
        found = query.all(references=[booking.reference for booking in bookings])

    assert sorted(booking.pk for booking in found) == sorted(booking.pk for booking in bookings)
    assert [statement["sql"][:6] for statement in captured.captured_queries] == ["SELECT"]
    assert query.compiled("default") is None


def test_a_value_of_another_type_than_its_stand_ins_is_refused_before_the_database(bookings):
    query = PreparedQuery("test_booking_pk", lambda pk: Booking.objects.filter(pk=pk), pk=(-1, -2))
    with pytest.raises(TypeError, match="pk is a int"):
        query.all(pk=str(bookings[0].pk))
    assert query.first(pk=bookings[0].pk).reference == bookings[0].reference


@pytest.mark.django_db(transaction=True)
def test_a_session_that_lost_its_statements_prepares_them_again(connecting, shipper):
    booking = book(shipper.actor, connecting)
    query = PreparedQuery("test_booking_lost", _booking_by_reference, reference=("\x01a", "\x01b"))
    assert query.first(reference=booking.reference).pk == booking.pk
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # what a pooler's DISCARD ALL, or a server connection swapped, leaves

    with CaptureQueriesContext(connection) as captured:
        assert query.first(reference=booking.reference).pk == booking.pk

    assert [statement.split(" ")[0] for statement in (q["sql"] for q in captured.captured_queries)] == [
        "EXECUTE", "PREPARE"]
    assert "test_booking_lost" in _held()


@pytest.mark.django_db(transaction=True)
def test_a_run_that_failed_after_its_prepare_is_not_prepared_twice(connecting, shipper):
    booking = book(shipper.actor, connecting)
    # The value is cast in the database: a string that is no number fails the run, not the PREPARE.
    query = PreparedQuery("test_booking_cast", lambda pk: Booking.objects.filter(pk=Cast(Value(pk), IntegerField())),
                          pk=("-1", "-2"))
    with pytest.raises(Exception, match="invalid input syntax"):
        query.all(pk="not a number")
    assert "test_booking_cast" in _held()
    assert "test_booking_cast" in prepared._sessions[connection.connection].uncertain

    with CaptureQueriesContext(connection) as captured:
        assert query.first(pk=str(booking.pk)).pk == booking.pk
        assert query.first(pk=str(booking.pk)).pk == booking.pk

    assert [q["sql"].split(" ")[0] for q in captured.captured_queries] == ["SELECT", "EXECUTE", "EXECUTE"]


@pytest.mark.django_db(transaction=True)
def test_each_new_connection_prepares_for_itself(connecting, shipper):
    booking = book(shipper.actor, connecting)
    query = PreparedQuery("test_booking_reconnect", _booking_by_reference, reference=("\x01a", "\x01b"))
    assert query.first(reference=booking.reference).pk == booking.pk
    connection.close()

    with CaptureQueriesContext(connection) as captured:
        assert query.first(reference=booking.reference).pk == booking.pk

    assert [q["sql"].split(" ")[0] for q in captured.captured_queries] == ["PREPARE"]


def test_rows_of_a_model_something_listens_to_are_made_through_its_init(bookings):
    from django.db.models.signals import post_init

    made = []

    def listener(sender, instance, **kwargs):
        made.append(instance.reference)

    plain = PreparedQuery("test_booking_plain", _booking_by_reference, reference=("\x01a", "\x01b"))
    assert plain.first(reference=bookings[0].reference).reference == bookings[0].reference
    assert plain.compiled("default").rows.plain and made == []
    post_init.connect(listener, sender=Booking)
    try:
        heard = PreparedQuery("test_booking_heard", _booking_by_reference, reference=("\x01a", "\x01b"))
        found = heard.first(reference=bookings[1].reference)
    finally:
        post_init.disconnect(listener, sender=Booking)

    assert not heard.compiled("default").rows.plain
    assert made == [bookings[1].reference] and found.reference == bookings[1].reference
    assert found._state.db == "default" and not found._state.adding


def test_two_queries_cannot_share_a_name():
    PreparedQuery("test_booking_named", _booking_by_reference, reference=("\x01a", "\x01b"))

    with pytest.raises(ValueError, match="exists already"):
        PreparedQuery("test_booking_named", lambda pk: Booking.objects.filter(pk=pk), pk=(-1, -2))


def _fields(obj) -> dict:
    return {field.attname: getattr(obj, field.attname) for field in obj._meta.concrete_fields}


def test_instances_are_the_rows_iterating_the_queryset_gives(bookings):
    """`instances` makes what iterating the queryset makes (every field, the related rows both ways, annotations,
    the lock), without Model.__init__; with nothing to match, it reads nothing."""
    from django.db import transaction

    from databases.prepared import instances

    queryset = (Booking.objects.select_for_update(of=("self",)).select_related(*ROUTE)
                .annotate(doubled=Cast("teu", IntegerField()) * 2).filter(pk__in=[b.pk for b in bookings])
                .order_by("pk"))
    with transaction.atomic():
        with CaptureQueriesContext(connection) as captured:
            made = instances(queryset)
            related = [(b.departure.service.station.code, b.departure.service.terminal.code,
                        b.vessel_call.terminal.code, b.departure.service.station.name_zh) for b in made]
        expected = list(queryset)
    assert len(captured.captured_queries) == 1 and "FOR UPDATE OF" in captured.captured_queries[0]["sql"]
    assert [_fields(b) for b in made] == [_fields(b) for b in expected]
    assert [b.doubled for b in made] == [b.teu * 2 for b in expected]
    assert related == [(b.departure.service.station.code, b.departure.service.terminal.code,
                        b.vessel_call.terminal.code, b.departure.service.station.name_zh) for b in expected]
    for made_one, expected_one in zip(made, expected, strict=True):
        assert type(made_one) is Booking and not made_one._state.adding and made_one._state.db == "default"
        assert made_one.departure.service.station._state.db == "default"
        assert made_one.get_deferred_fields() == expected_one.get_deferred_fields() == set()
    made[0].commodity = "Lanterns"
    made[0].save(update_fields=["commodity"])  # an instance made so saves as one made by the ORM
    assert Booking.objects.get(pk=made[0].pk).commodity == "Lanterns"

    with CaptureQueriesContext(connection) as captured:
        assert instances(Booking.objects.filter(pk__in=[])) == []
    assert captured.captured_queries == []
    values = Booking.objects.filter(pk=bookings[0].pk).values_list("reference", flat=True)
    assert instances(values) == [bookings[0].reference]  # not instances: read as the queryset reads them
    # Through a related manager, each row knows its parent without a query, as the ORM makes it.
    departure = bookings[0].departure
    [child] = instances(departure.bookings.filter(pk=bookings[0].pk))
    with CaptureQueriesContext(connection) as captured:
        assert child.departure is departure
    assert captured.captured_queries == []


# --- Statements prepared by the shape of their SQL (shaped_rows) ------------------------------------------


def _shapes_held() -> dict[str, str]:
    """The shaped statements the session holds, by name: what each was prepared as."""
    return prepared_statements(like="shape_%")


@pytest.fixture
def fresh_session():
    """A session holding no statement yet: the connection outlives each test, and what an earlier test prepared
    would be run by EXECUTE here."""
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    prepared._sessions.pop(connection.connection, None)


def _by_status(references, status=BookingStatus.CONFIRMED):
    return Booking.objects.select_related(*ROUTE).filter(reference__in=references, status=status).order_by("pk")


def test_shaped_rows_are_what_iterating_the_queryset_gives(bookings):
    references = [booking.reference for booking in bookings]
    for queryset in (_by_status(references), _by_status(references).values_list("reference", "departure__reference"),
                     _by_status(references).values_list("pk", flat=True), _by_status(references[:1])[:1]):
        shaped = shaped_rows(queryset.all())
        expected = list(queryset.all())
        if queryset._iterable_class is ModelIterable:
            assert [_fields(found) for found in shaped] == [_fields(found) for found in expected]
            assert [found.departure.service.station.code for found in shaped] == [
                found.departure.service.station.code for found in expected]
        else:
            assert shaped == expected
        assert expected  # each finds something


def test_a_shape_is_prepared_once_per_session_its_constants_written_in(bookings, fresh_session):
    first, second = bookings
    with CaptureQueriesContext(connection) as captured:
        assert [b.pk for b in shaped_rows(_by_status([first.reference]))] == [first.pk]
        assert [b.pk for b in shaped_rows(_by_status([second.reference]))] == [second.pk]
        assert shaped_rows(_by_status([second.reference], status=BookingStatus.CANCELLED)) == []

    prepared_first, executed, other_constant = (query["sql"] for query in captured.captured_queries)
    assert prepared_first.startswith("PREPARE shape_") and "; EXECUTE shape_" in prepared_first
    name = prepared_first.split(" ")[1]
    assert executed == f"EXECUTE {name}('{second.reference}')"
    # The status is a choice's member: written into the statement, so a plan knows it; another is another shape.
    assert other_constant.startswith("PREPARE shape_") and not other_constant.startswith(f"PREPARE {name} ")
    statement = _shapes_held()[name]
    assert "\"status\" = 'confirmed'" in statement and "IN ($1)" in statement and first.reference not in statement
    # A value from a request is a plain string: a parameter, even when it spells a status.
    assert shaped_rows(Booking.objects.filter(status=str(BookingStatus.CONFIRMED), reference=first.reference)
                       .values_list("pk", flat=True)) == [first.pk]
    assert any(re.search(r'"status" = \$\d', held) for held in _shapes_held().values())


def test_a_shaped_queryset_is_read_by_its_shape_wherever_it_is_evaluated(bookings, fresh_session):
    """DRF's pagination lists a slice of the queryset itself: a shaped one reads it by the shape's statement, and what
    is chained on it stays shaped. A slice past the first row goes through the ORM (an offset is written into the
    SQL: each would be a shape of its own)."""
    references = [booking.reference for booking in bookings]
    queryset = shaped(_by_status(references))
    with CaptureQueriesContext(connection) as captured:
        first_page = list(queryset.filter(pk__gte=bookings[0].pk)[:1])
        again = list(queryset.filter(pk__gte=bookings[1].pk)[:1])
        rest = list(queryset[1:2])
        flat = list(queryset.values_list("pk", flat=True))
    sent = [query["sql"].split(" ")[0] for query in captured.captured_queries]
    assert sent == ["PREPARE", "EXECUTE", "SELECT", "PREPARE"]
    assert [b.pk for b in first_page] == [bookings[0].pk] and [b.pk for b in again] == [bookings[1].pk]
    assert [b.pk for b in rest] == [bookings[1].pk] and flat == [bookings[0].pk, bookings[1].pk]
    assert first_page[0].departure.service.station.code == bookings[0].departure.service.station.code
    # Evaluated once: iterating it again reads nothing.
    page = queryset.filter(pk=bookings[0].pk)
    with CaptureQueriesContext(connection) as captured:
        assert [b.pk for b in page] == [b.pk for b in page] == [bookings[0].pk]
    assert len(captured.captured_queries) == 1
    # A manager's own QuerySet class would lose its methods: refused.
    with pytest.raises(TypeError):
        shaped(type("OwnQuerySet", (QuerySet,), {})(model=Booking))


def test_a_shape_with_nothing_to_match_reads_nothing(bookings):
    with CaptureQueriesContext(connection) as captured:
        assert shaped_rows(Booking.objects.filter(reference__in=[])) == []
    assert captured.captured_queries == []


@override_settings(DATABASE_PREPARED_STATEMENTS=False)
def test_without_prepared_statements_shapes_run_through_the_orm(bookings):
    held = _shapes_held()
    with CaptureQueriesContext(connection) as captured:
        assert [b.pk for b in shaped_rows(_by_status([bookings[0].reference]))] == [bookings[0].pk]
    assert [query["sql"][:6] for query in captured.captured_queries] == ["SELECT"]
    assert _shapes_held() == held


def test_querysets_that_prefetch_or_lock_run_through_the_orm(bookings):
    from django.db import transaction

    held = _shapes_held()
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        [found] = shaped_rows(_by_status([bookings[0].reference]).prefetch_related("lines"))
        assert shaped_rows(_by_status([bookings[0].reference]).select_for_update()) == [found]
    assert [query["sql"][:6] for query in captured.captured_queries] == ["SELECT"] * 3
    assert _shapes_held() == held


@override_settings(DATABASE_SHAPES_PER_SESSION=2)
def test_a_session_keeps_its_shapes_run_last_and_deallocates_the_others(bookings, fresh_session):
    reference = bookings[0].reference
    shapes = [_by_status([reference]), _by_status([reference, "\x01x"]), _by_status([reference, "\x01x", "\x01y"])]
    for queryset in (shapes[0], shapes[1], shapes[0], shapes[2]):
        assert [b.pk for b in shaped_rows(queryset)] == [bookings[0].pk]
    held = _shapes_held()

    # The second shape was run least recently when the third came: it made room.
    assert len(held) == 2 and sum(statement.count("$") for statement in held.values()) == 1 + 3
    with CaptureQueriesContext(connection) as captured:
        assert [b.pk for b in shaped_rows(shapes[1])] == [bookings[0].pk]
    assert [query["sql"].split(" ")[0] for query in captured.captured_queries] == ["DEALLOCATE", "PREPARE"]
    assert len(_shapes_held()) == 2


@pytest.mark.django_db(transaction=True)
@override_settings(DATABASE_SHAPES_PER_SESSION=1)
def test_shapes_a_session_lost_are_prepared_again_and_make_room_quietly(connecting, shipper):
    booking = book(shipper.actor, connecting)
    assert [b.pk for b in shaped_rows(_by_status([booking.reference]))] == [booking.pk]
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # what a pooler's DISCARD ALL leaves

    # Room for another shape: the one lost is gone already.
    assert [b.pk for b in shaped_rows(_by_status([booking.reference, "\x01x"]))] == [booking.pk]
    # The lost one, run again, is prepared again.
    assert [b.pk for b in shaped_rows(_by_status([booking.reference]))] == [booking.pk]
    assert len(_shapes_held()) == 1
