"""A kept connection's health is checked before its first use in a request (CONN_HEALTH_CHECKS) without a round
trip while its socket is quiet, and with Django's `SELECT 1` once the server has said or done something on it
(databases/postgresql/base.py)."""

import select
import time

import pytest
from django.db import connections

pytestmark = pytest.mark.django_db

MARK = "SELECT 'health check: the last statement' AS mark"


@pytest.fixture
def fresh():
    """A connection of the platform's own, in autocommit as a request's is, opened for the test."""
    connection = connections.create_connection("default")
    connection.ensure_connection()
    yield connection
    connection.close()


def last_statement(pid: int) -> str:
    """What the backend ran last, as another session sees it."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0]


def terminate(pid: int) -> None:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        assert cursor.fetchone()[0] is True


def until_readable(connection, seconds: float = 30.0) -> None:
    """Wait until the server's goodbye has reached the socket (a terminated backend exits a moment later)."""
    deadline = time.monotonic() + seconds
    while not select.select([connection.connection], [], [], 0.1)[0]:
        assert time.monotonic() < deadline, "the terminated backend never closed the socket"


def test_an_idle_connection_is_checked_without_a_statement(fresh):
    with fresh.cursor() as cursor:
        cursor.execute(MARK)
    pid = fresh.connection.get_backend_pid()

    assert fresh.is_usable() is True
    assert last_statement(pid) == MARK  # no SELECT 1 was sent


def test_a_terminated_session_is_found_unusable_and_the_next_request_reconnects(fresh):
    pid = fresh.connection.get_backend_pid()
    terminate(pid)
    until_readable(fresh)

    assert fresh.is_usable() is False

    fresh.health_check_done = False  # what the start of a request does (close_if_unusable_or_obsolete)
    with fresh.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid


def test_a_closed_connection_is_unusable(fresh):
    fresh.connection.close()

    assert fresh.is_usable() is False


def test_a_connection_in_a_transaction_is_asked(fresh):
    fresh.set_autocommit(False)
    with fresh.cursor() as cursor:
        cursor.execute(MARK)
    pid = fresh.connection.get_backend_pid()

    assert fresh.is_usable() is True
    assert last_statement(pid) == "SELECT 1"  # Django's check: an open transaction is not judged by its socket
    fresh.rollback()


def test_a_connection_after_a_failed_statement_is_kept_at_the_end_of_the_request(fresh):
    pid = fresh.connection.get_backend_pid()
    with pytest.raises(Exception, match="no_such_column"), fresh.cursor() as cursor:
        cursor.execute("SELECT no_such_column")
    assert fresh.errors_occurred

    fresh.close_if_unusable_or_obsolete()  # what the end of a request does

    assert fresh.connection is not None and not fresh.errors_occurred
    with fresh.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] == pid
