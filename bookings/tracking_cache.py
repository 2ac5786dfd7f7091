"""Cached tracking answers, made stale the moment what they show changes.

A look-up (GET /api/v1/track/{key}/) is the most-called read; building it is four queries and a timeline,
about three times the cost of a bare API request. Its answer is cached per organisation, language and key,
under the versions of the references it shows: the booking, its departure and vessel call, and the key itself
(a container number). A version is a time stamp in the cache, set whenever something shown under that reference
changes: every recorded event sets those of its booking, transport and equipment references (through the event
core's hooks), and container assignments, which record no event, set their booking's and number's. It is set
when the change is written and again when it commits, so neither a reader inside the writing transaction nor
one between the write and the commit keeps an old answer under the new version. A change that records no event
at all (a cut-off edited in the admin) shows within ANSWER_SECONDS, the longest an answer is kept.
"""

import hashlib
import logging
import time
from collections.abc import Iterable

from django.core.cache import cache
from django.db import transaction
from django.utils.translation import get_language

ANSWER_SECONDS = 60
VERSION_SECONDS = 24 * 3600  # far beyond ANSWER_SECONDS: an answer never outlives the version it was made under
_VERSION = "track:v:"
logger = logging.getLogger(__name__)


def _version_keys(references: Iterable[str]) -> list[str]:
    return [_VERSION + reference.upper() for reference in references if reference]


def versions(references: Iterable[str]) -> str:
    """The current versions of the references, as one string for a cache key."""
    keys = _version_keys(references)
    found = cache.get_many(keys)
    return ".".join(str(found.get(key, 0)) for key in keys)


def _touch(keys: list[str]) -> None:
    stamp = time.time_ns()  # unique whatever the cache forgot: a version is never reused
    try:
        cache.set_many(dict.fromkeys(keys, stamp), timeout=VERSION_SECONDS)
    except Exception:  # noqa: BLE001 - a cache outage must not fail the change; answers expire in ANSWER_SECONDS
        logger.warning("tracking cache: could not stamp %d references", len(keys), exc_info=True)


def forget(references: Iterable[str]) -> None:
    """Something shown under these references changed: now, and again when the transaction commits."""
    keys = sorted(set(_version_keys(references)))
    if not keys:
        return
    _touch(keys)
    transaction.on_commit(lambda: _touch(keys))


def forget_events(events) -> None:
    """The event core's hook: what the events are about changed."""
    forget(
        reference
        for event in events
        for reference in (event.booking_reference, event.transport_reference, event.equipment_reference)
    )


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def _route_key(organisation_id, key: str, key_version: str) -> str:
    return "track:r:" + _digest(str(organisation_id), key, key_version)


def _answer_key(organisation_id, key: str, route: tuple[str, ...], route_versions: str) -> str:
    return "track:a:" + _digest(str(organisation_id), get_language() or "", key, *route, route_versions)


def answer(*, organisation_id, key: str, build) -> dict:
    """The cached answer for the key, or `build()`'s: (data, route), route being the references the answer shows
    (booking reference, departure reference, vessel call reference). Without a cache (an outage), `build()`'s."""
    try:
        return _answer(organisation_id=organisation_id, key=key, build=build)
    except _CacheDown:
        return build()[0]


class _CacheDown(Exception):
    pass


def _cached(call, *args, **kwargs):
    try:
        return call(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - any cache error: answer from the database
        logger.warning("tracking cache unavailable", exc_info=True)
        raise _CacheDown from exc


def _answer(*, organisation_id, key: str, build) -> dict:
    key = key.strip().upper()
    route_key = _route_key(organisation_id, key, _cached(versions, [key]))
    route = _cached(cache.get, route_key)
    if route is not None:
        # Versions read before the database is: a change after this point gives a newer version.
        route_versions = _cached(versions, [key, *route])
        answer_key = _answer_key(organisation_id, key, route, route_versions)
        data = _cached(cache.get, answer_key)
        if data is not None:
            return data
    data, built_route = build()
    built_route = tuple(built_route)
    try:
        if route is not None and built_route == tuple(route):
            cache.set(answer_key, data, ANSWER_SECONDS)
        else:
            # The route was not known before the read, so neither were its versions: cache the route only, and
            # the answer from the next look-up on.
            cache.set(route_key, built_route, ANSWER_SECONDS)
    except Exception:  # noqa: BLE001 - the answer is right; only the next one is not saved
        logger.warning("tracking cache: could not keep an answer", exc_info=True)
    return data
