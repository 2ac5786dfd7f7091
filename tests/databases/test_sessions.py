"""Every PostgreSQL session the platform opens has JIT compilation off (databases/sessions.py), unless
DATABASE_JIT turns it back on."""

import pytest
from django.db import connections
from django.test import override_settings

pytestmark = pytest.mark.django_db

# A query PostgreSQL compiles when JIT is on: its cost estimate is over jit_above_cost (lowered to 0 here).
COMPILED = "EXPLAIN (ANALYZE, FORMAT TEXT) SELECT sum(n) FROM generate_series(1, 1000) n"


def a_new_session(statements: list[str]) -> list[str]:
    """What `statements` answer on a connection opened for the purpose (the test's own is open already)."""
    fresh = connections.create_connection("default")
    try:
        with fresh.cursor() as cursor:
            answers = []
            for statement in statements:
                cursor.execute(statement)
                answers.append("\n".join(str(row[0]) for row in cursor.fetchall()) if cursor.description else "")
            return answers
    finally:
        fresh.close()


def jit_available() -> bool:
    _on, available = a_new_session(["SET jit = on", "SELECT pg_jit_available()"])  # true only while jit is on
    return available == "True"


def test_a_new_session_compiles_nothing():
    if not jit_available():
        pytest.skip("this PostgreSQL has no JIT compiler: nothing to turn off")
    jit, _lowered, plan = a_new_session(["SHOW jit", "SET jit_above_cost = 0", COMPILED])

    assert jit == "off"
    assert "JIT:" not in plan


@override_settings(DATABASE_JIT=True)
def test_database_jit_leaves_the_servers_setting():
    jit, server, _lowered, plan = a_new_session([
        "SHOW jit", "SELECT reset_val FROM pg_settings WHERE name = 'jit'", "SET jit_above_cost = 0", COMPILED])

    assert jit == server  # the server's own (on, by PostgreSQL's default)
    assert ("JIT:" in plan) == (jit == "on" and jit_available())
