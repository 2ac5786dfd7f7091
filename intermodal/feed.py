"""Reading events in an order that no later commit can insert into, so a poller that follows a cursor never
misses an event.

Events are stamped with their transaction's id (Event.txid, set by the database). A read returns only the
events of transactions that no transaction it cannot see yet precedes: the lowest id among the transactions
in progress at the read's snapshot (less those running in another database, which cannot write these tables),
or, with none, the first id not yet assigned. Every event that becomes visible later carries a higher id, so
it lands after the cursor. The order is the order of the writing transactions, then of the events in each.

The price: while a transaction that wrote (or will write) in this database runs, the events of transactions
that started after it wait for it; a long transaction holds the feeds back for as long as it runs. A reader's
own transaction sees its own events.
"""

from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

ORDER = ("txid", "id")

_BOUND = """(
    SELECT LEAST(pg_snapshot_xmax(s.snapshot), (
               SELECT min(x) FROM pg_snapshot_xip(s.snapshot) AS x
                WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity AS a
                                   WHERE a.backend_xid = x::xid
                                     AND a.datname IS DISTINCT FROM current_database())))
      FROM (SELECT pg_current_snapshot() AS snapshot) AS s
)::text::bigint"""
_OWN = "pg_current_xact_id_if_assigned()::text::bigint"


def committed_in_order(events: QuerySet) -> QuerySet:
    """`events` less those a later commit could still precede; order them by ORDER."""
    # Constant SQL, no parameters.
    return events.filter(Q(txid__lt=RawSQL(_BOUND, [])) | Q(txid=RawSQL(_OWN, [])))  # noqa: S611
