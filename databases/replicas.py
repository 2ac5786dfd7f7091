"""Reads that may be slightly stale go to a streaming replica; everything else stays on the primary.

With DATABASE_REPLICA_URL set (settings: the `replica` database), the views that read what may be a moment old -
tracking, lists, the figures, the event and DCSA feeds - read from the replica:

- only safe requests (GET, HEAD); a write, and every read of a request that is not marked, goes to the primary
  (`ReplicaRouter.db_for_write` always names the primary, so an object read from the replica is saved there);
- a writer's own next reads go to the primary: a request that wrote (any unsafe method) pins its person or API key
  to the primary for REPLICA_MAX_LAG_SECONDS (a cache entry every web process sees), so whoever just booked a slot
  sees it on the next page, while everyone else may read the replica;
- a replica that lags by more than REPLICA_MAX_LAG_SECONDS, is down, or is no longer a replica (promoted) is left
  out: reads fall back to the primary. Each process checks at most every REPLICA_CHECK_SECONDS, by comparing the
  primary's WAL position with what the replica has replayed (a replica that has replayed it is not behind at all,
  however long ago its last transaction was); a failed check is logged;
- what the replica does not find yet (a 404: a booking made a moment ago, named in a webhook) is asked of the
  primary before the answer says not found; the event feed's `after` anchor likewise (tracking/api.py).

Without DATABASE_REPLICA_URL nothing changes: the router answers None and every read goes to the primary.
"""

import contextlib
import logging
import math
import threading
import time
from contextvars import ContextVar
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.http import Http404

logger = logging.getLogger(__name__)

REPLICA = "replica"
SAFE_METHODS = ("GET", "HEAD")

# The database the current request's stale-tolerant reads go to (None: the primary, as Django decides).
_reads_from: ContextVar[str | None] = ContextVar("replica_reads_from", default=None)


def configured() -> bool:
    return REPLICA in connections.settings


class ReplicaRouter:
    """DATABASE_ROUTERS' one router: the replica only inside `stale_reads`, writes always to the primary."""

    def db_for_read(self, model, **hints):
        return _reads_from.get()

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the same rows on both

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return False if db == REPLICA else None  # a replica follows the primary's schema by itself


# --- Whose reads may be stale ------------------------------------------------------------------------------

def _writer(request) -> str | None:
    """The person or API key a request acts for (an API request's user is set on Django's request by DRF)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    api_key = getattr(user, "api_key", None)
    return f"key:{api_key.pk}" if api_key is not None else f"user:{user.pk}"


def _pin_key(writer: str) -> str:
    return f"replica:pin:{writer}"


def _pin_seconds() -> int:
    return max(1, math.ceil(settings.REPLICA_MAX_LAG_SECONDS))


class ReplicaPinMiddleware:
    """After a request that may have written, its writer reads from the primary until the replica has it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method not in SAFE_METHODS and configured():
            writer = _writer(request)
            if writer is not None:
                cache.set(_pin_key(writer), 1, timeout=_pin_seconds())
        return response


def _pinned(request) -> bool:
    writer = _writer(request)
    return writer is not None and cache.get(_pin_key(writer)) is not None


# --- Is the replica fit to read ----------------------------------------------------------------------------

_health_lock = threading.Lock()
_health = {"checked": -math.inf, "usable": False}

# What the replica has replayed of the primary's WAL position (passed in), and how long ago its last replayed
# transaction committed on the primary: its lag when it has not replayed that position yet.
_REPLAY_SQL = """
    SELECT pg_is_in_recovery(),
           COALESCE(pg_last_wal_replay_lsn() >= %s::pg_lsn, false),
           EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())
"""


def lag_seconds() -> float:
    """The replica's lag behind the primary now: 0 when it has replayed everything the primary had written at the
    start of the check. Raises DatabaseError when either cannot be asked, ValueError when it is not a replica."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_insert_lsn()::text")
        (position,) = cursor.fetchone()
    with connections[REPLICA].cursor() as cursor:
        cursor.execute(_REPLAY_SQL, [position])
        in_recovery, caught_up, since_last = cursor.fetchone()
    if not in_recovery:
        raise ValueError("the replica is not in recovery (promoted?): it may not follow the primary")
    if caught_up:
        return 0.0
    return math.inf if since_last is None else max(0.0, float(since_last))


def _usable() -> bool:
    with _health_lock:
        now = time.monotonic()
        if now - _health["checked"] < settings.REPLICA_CHECK_SECONDS:
            return _health["usable"]
        try:
            lag = lag_seconds()
            usable = lag <= settings.REPLICA_MAX_LAG_SECONDS
            if not usable:
                logger.warning("Replica lags %.1f s (more than %s s): reads go to the primary.", lag,
                               settings.REPLICA_MAX_LAG_SECONDS)
        except (DatabaseError, ValueError) as error:
            usable = False
            logger.warning("Replica unusable, reads go to the primary: %s", error)
            connections[REPLICA].close()  # a broken connection is not kept for the next check
        _health.update(checked=time.monotonic(), usable=usable)
        return usable


def reads_for(request) -> str | None:
    """Where this request's stale-tolerant reads go: the replica, or None for the primary."""
    if request.method not in SAFE_METHODS or not configured() or _pinned(request) or not _usable():
        return None
    return REPLICA


@contextlib.contextmanager
def stale_reads(request):
    token = _reads_from.set(reads_for(request))
    try:
        yield
    finally:
        _reads_from.reset(token)


@contextlib.contextmanager
def primary_reads_after(stamp_ns: int):
    """Reads on the primary when something changed (at `stamp_ns`, time.time_ns()) more recently than the replica
    may lag: for an answer kept in a cache, which must not keep what a lagging replica still shows."""
    recent = time.time_ns() - stamp_ns < settings.REPLICA_MAX_LAG_SECONDS * 1e9
    token = _reads_from.set(None) if recent and _reads_from.get() is not None else None
    try:
        yield
    finally:
        if token is not None:
            _reads_from.reset(token)


def reads_from_replica(view):
    """For a page view (below login_required, so the person is known): its reads may come from the replica."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        with stale_reads(request):
            try:
                response = view(request, *args, **kwargs)
                if response.status_code != 404 or _reads_from.get() != REPLICA:
                    return response
            except Http404:
                if _reads_from.get() != REPLICA:
                    raise
            _reads_from.set(None)  # not there yet, perhaps: the primary says (reset as the block ends)
            return view(request, *args, **kwargs)

    return wrapped


def _is_not_found(exc: Exception) -> bool:
    """Django's Http404, DRF's NotFound and the platform's own (each says its status)."""
    return isinstance(exc, Http404) or 404 in (getattr(exc, "status_code", None), getattr(exc, "status", None))


class ReplicaReadsMixin:
    """For a DRF view whose safe requests may read from the replica: chosen after authentication (an API key is
    known only then), for the handler and the serializing of its answer."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self._replica_token = _reads_from.set(reads_for(request))

    def handle_exception(self, exc):
        """Not found on the replica may be not replayed yet (a webhook names a booking made a moment ago): the
        primary is asked before the answer is 404."""
        if _is_not_found(exc) and _reads_from.get() == REPLICA:
            _reads_from.set(None)  # reset to the request's start in finalize_response
            handler = getattr(self, self.request.method.lower(), self.http_method_not_allowed)
            try:
                return handler(self.request, *self.args, **self.kwargs)
            except Exception as again:  # noqa: BLE001 - answered as any error of the view
                exc = again
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        token = getattr(self, "_replica_token", None)
        if token is not None:
            _reads_from.reset(token)
            self._replica_token = None
        return super().finalize_response(request, response, *args, **kwargs)
