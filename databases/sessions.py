"""What every PostgreSQL session of the platform sets as it opens: JIT compilation off, unless DATABASE_JIT says
otherwise; and generic plans for the prepared statements of the hot reads (databases/prepared.py), the only
statements a session prepares, unless DATABASE_PREPARED_STATEMENTS is off.

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
    statements = []
    if not settings.DATABASE_JIT:
        statements.append("SET jit = off")
    if settings.DATABASE_PREPARED_STATEMENTS:
        # Planned once for any values: a look-up by reference prunes no partition, so a plan made for its values
        # would be the same plan, made again at each run (databases/prepared.py).
        statements.append("SET plan_cache_mode = force_generic_plan")
    if statements:
        with connection.cursor() as cursor:
            cursor.execute("; ".join(statements))
