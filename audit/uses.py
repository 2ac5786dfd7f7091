"""Uses worth a record, noted by the requests in Redis and written later by a task: a read stays a read.

An API key's last use (and its `key.used` audit entry) is written at most once a minute. A request that had to
write it was a write transaction, with its wait for the WAL, on the platform's most-called reads (P5,
docs/PERFORMANCE.md), and a read a replica could have answered went to the primary. Now the request notes the
use with its actor (the address it came from) in a Redis hash of its kind, and beat's task takes the hash and
writes each use under that actor, so the trail names the same address as before (intermodal/access.py)."""

import json
from collections.abc import Callable
from datetime import datetime

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

from audit.context import actor_payload

Note = tuple[datetime, dict]  # when, and the actor as actor_payload gave it


def _hash(kind: str) -> str:
    return f"audit:uses:{kind}"


def _redis():
    cache = caches["default"]
    return cache._cache.get_client(None, write=True) if isinstance(cache, RedisCache) else None


def use_note(kind: str, pk: int, at: datetime) -> bool:
    """Note the use of object `pk` of `kind` by this request's actor; False when there is no Redis to note it in
    (the caller then writes it itself)."""
    try:
        client = _redis()
        if client is None:
            return False
        note = {"at": at.isoformat(), "actor": actor_payload()}
        client.hset(_hash(kind), str(pk), json.dumps(note, separators=(",", ":")))
    except (RedisError, OSError):  # Redis down, or its client not to be had
        return False
    return True


def uses_write(kind: str, write: Callable[[dict[int, Note]], int]) -> int:
    """Take the uses of `kind` noted since the last run (read and deleted in one step) and `write` them; if that
    fails they are put back for the next run, where a newer note of the same object wins. What `write` gave."""
    client = _redis()
    if client is None:
        return 0
    pipeline = client.pipeline(transaction=True)
    pipeline.hgetall(_hash(kind))
    pipeline.delete(_hash(kind))
    taken, _deleted = pipeline.execute()
    if not taken:
        return 0
    notes = {int(pk): json.loads(raw) for pk, raw in taken.items()}
    try:
        return write({pk: (datetime.fromisoformat(note["at"]), note["actor"]) for pk, note in notes.items()})
    except Exception:
        for pk, raw in taken.items():
            client.hsetnx(_hash(kind), pk, raw)
        raise
