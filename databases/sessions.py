"""What every PostgreSQL session of the platform sets as it opens: JIT compilation off, unless DATABASE_JIT says
otherwise.

PostgreSQL compiles a query to machine code when its estimated cost passes jit_above_cost (100,000). The
platform's queries are short ones over indexes, and an estimate is at its worst when a table's statistics lag
behind it (a month's events partition filling before autovacuum has analysed it): in P6 (docs/PERFORMANCE.md) the
relay's visibility query over a batch of 100 events, estimated at 8,500 rows instead of 100, spent 170 ms of its
204 compiling, and the relay fell a minute behind. Off, such a query costs what its plan costs."""

from django.conf import settings
from django.db.backends.signals import connection_created
from django.dispatch import receiver


@receiver(connection_created)
def session_settings(sender, connection, **kwargs) -> None:
    if settings.DATABASE_JIT:
        return
    with connection.cursor() as cursor:
        cursor.execute("SET jit = off")
