"""Retention: the rows that only serve for a while (outbox rows once relayed, webhook deliveries and their
attempts once settled, idempotency keys, reporters' event ids, audit entries) are pruned once they are older
than their setting (RETENTION_* in settings, in days; 0 keeps them for ever), by beat's hourly
`retention.tasks.retention_prune`.

Rows go in batches of RETENTION_BATCH_SIZE, each batch one short transaction that locks
only its own rows and skips any another transaction holds (a delivery being sent is pruned on a later run): no
long lock, no table scan held open. With RETENTION_ARCHIVE_DIR set, each batch's rows are written there as JSON
lines (`<policy>-<YYYY-MM-DD>.jsonl.gz`, one gzip member per batch) in the transaction that deletes them, before
it commits: a row is never deleted without its copy, and a copy whose delete failed is written again by the run
that retries it (the archive is append-only; a row's `id` tells duplicates apart).
"""
# ruff: noqa: S608 - the SQL is built from the policies' constant table and column names, never from input.

import gzip
import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from audit.triggers import RETENTION_PERMIT

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Policy:
    name: str  # e.g. "deliveries": RETENTION_DELIVERIES_DAYS, and the archive's file names
    table: str
    age_column: str  # the row's time the retention counts from
    condition: str = ""  # SQL on the table's columns: which old rows may go (e.g. only settled deliveries)
    dependants: tuple[tuple[str, str], ...] = ()  # (table, its column pointing at this table's id): deleted first
    setting: str = ""  # the setting in days; RETENTION_<NAME>_DAYS when empty
    unit: str = "days"  # or "hours"
    prepare: str = ""  # SQL run first in each batch's transaction, with %(cutoff)s (audit.retention's permit)

    @property
    def setting_name(self) -> str:
        return self.setting or f"RETENTION_{self.name.upper()}_DAYS"

    def kept_for(self) -> timedelta | None:
        value = getattr(settings, self.setting_name, 0) or 0
        return timedelta(**{self.unit: value}) if value else None


POLICIES = {policy.name: policy for policy in (
    Policy("outbox", "intermodal_outboxmessage", "processed_at"),
    Policy("idempotency", "intermodal_idempotencyrecord", "created_at", setting="RETENTION_IDEMPOTENCY_HOURS",
           unit="hours"),
    Policy("reported_events", "journey_reportedevent", "created_at"),  # reporters' own event ids
    Policy("attempts", "notifications_deliveryattempt", "started_at"),
    # Settled deliveries only (never one waiting or being sent), with what is left of their attempts.
    Policy("deliveries", "notifications_delivery", "created_at", condition="status IN ('delivered', 'failed')",
           dependants=(("notifications_deliveryattempt", "delivery_id"),)),
    # The audit trail refuses DELETE but of entries older than the cutoff each batch names (audit/triggers.py).
    Policy("audit", "audit_entry", "at", prepare=RETENTION_PERMIT),
)}


def _batch_sql(policy: Policy) -> str:
    """One batch: the oldest rows past the cutoff not locked by anyone, their dependants, then them."""
    condition = f" AND ({policy.condition})" if policy.condition else ""
    dependants = "".join(f", gone_{n} AS (DELETE FROM {table} WHERE {column} IN (SELECT id FROM doomed))"
                         for n, (table, column) in enumerate(policy.dependants))
    return (f"WITH doomed AS (SELECT id FROM {policy.table} WHERE {policy.age_column} < %(cutoff)s{condition} "
            f"ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED){dependants} "
            f"DELETE FROM {policy.table} AS t WHERE t.id IN (SELECT id FROM doomed) RETURNING to_jsonb(t)::text")


def _archive(policy: Policy, rows: list[str], now) -> None:
    folder = Path(settings.RETENTION_ARCHIVE_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{policy.name}-{timezone.localdate(now).isoformat()}.jsonl.gz"
    with gzip.open(path, "at", encoding="utf-8") as archive:
        archive.write("".join(f"{row}\n" for row in rows))


def prune(policy: Policy, *, now=None, batch_size: int | None = None, max_batches: int | None = None) -> int:
    """Delete (and archive, when asked) the policy's rows past their time, batch by batch; how many went."""
    kept_for = policy.kept_for()
    if kept_for is None:
        return 0
    now = now or timezone.now()
    limit = batch_size or settings.RETENTION_BATCH_SIZE
    batches = max_batches or settings.RETENTION_MAX_BATCHES
    sql, params = _batch_sql(policy), {"cutoff": now - kept_for, "limit": limit}
    total = 0
    for _ in range(batches):
        with transaction.atomic(), connection.cursor() as cursor:
            if policy.prepare:
                cursor.execute(policy.prepare, params)
            cursor.execute(sql, params)
            rows = [row for (row,) in cursor.fetchall()]
            if rows and settings.RETENTION_ARCHIVE_DIR:
                _archive(policy, rows, now)
        total += len(rows)
        if len(rows) < limit:
            break
    if total:
        logger.info("Retention: %s rows of %s older than %s pruned", total, policy.name, kept_for)
    return total


def prune_all(now=None) -> dict[str, int]:
    """Every registered policy, one after the other; what each pruned."""
    return {name: prune(policy, now=now) for name, policy in sorted(POLICIES.items())}
