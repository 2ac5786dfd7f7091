"""The SQL a block of code had PostgreSQL run, as it ran it: a prepared statement's EXECUTE read as the statement
with its parameters written in (databases/prepared.py), so that a test can check what a read asked for whether its
statement was prepared in that block or before it."""

import re
from contextlib import contextmanager

from django.db import connections

_EXECUTE = re.compile(r"(?:^|; )EXECUTE (\w+)")
_PREPARE = re.compile(r"^PREPARE (\w+) AS (.*); EXECUTE \1", re.DOTALL)
_PARAMETER = re.compile(r"\$(\d+)\b")


def prepared_statements(using: str = "default", like: str = "%") -> dict[str, str]:
    """The statements the session holds whose names are `like` (SQL LIKE), by name: the SQL each was prepared as."""
    held = {}
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT name, statement FROM pg_prepared_statements WHERE name LIKE %s", [like])
        for name, text in cursor.fetchall():
            # The text of the round trip that prepared it (PREPARE ... AS ...; EXECUTE ...), or of a PREPARE alone.
            prepared = _PREPARE.match(text)
            held[name] = prepared.group(2) if prepared else text.split(" AS ", 1)[1]
    return held


@contextmanager
def statements_run(using: str = "default"):
    """Yields a list that, once the block is left, holds the SQL of each statement run in it, in order."""
    connection = connections[using]
    sent: list[tuple[str, tuple]] = []

    def wrapper(execute, sql, params, many, context):
        sent.append((sql, tuple(params or ())))
        return execute(sql, params, many, context)

    ran: list[str] = []
    with connection.execute_wrapper(wrapper):
        yield ran
    held = prepared_statements(using)
    for sql, params in sent:
        executed = _EXECUTE.search(sql)
        if executed is None:
            ran.append(connection.ops.compose_sql(sql, params) if params else sql)
            continue
        prepared = _PREPARE.match(sql)
        statement = prepared.group(2) if prepared else held[executed.group(1)]
        values = [connection.ops.compose_sql("%s", [value]) for value in params]
        ran.append(_PARAMETER.sub(lambda found, values=values: values[int(found.group(1)) - 1], statement))
