"""Cached tracking answers, made stale the moment what they show changes.

A look-up (GET /api/v1/track/{key}/) is the most-called read; building it is four queries and a timeline,
about three times the cost of a bare API request. Its answer is cached per organisation, language and key,
under the versions (intermodal/versions.py) of the references it shows: the booking, its departure and vessel
call, and the key itself (a container number). A change that records no event at all (a cut-off edited in the
admin) shows within ANSWER_SECONDS, the longest an answer is kept. With a read replica, an answer is built on the
primary while what it shows changed within the replica's tolerated lag (databases/replicas.py): a replica behind
the change would otherwise have its old answer kept under the new version.
"""

import hashlib
import logging

from django.core.cache import cache
from django.utils.translation import get_language

from databases.replicas import primary_reads_after
from intermodal.versions import versions

ANSWER_SECONDS = 60
logger = logging.getLogger(__name__)


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
    key_version = _cached(versions, [key])
    route_key = _route_key(organisation_id, key, key_version)
    newest = key_version
    route = _cached(cache.get, route_key)
    if route is not None:
        # Versions read before the database is: a change after this point gives a newer version.
        route_versions = _cached(versions, [key, *route])
        newest = route_versions
        answer_key = _answer_key(organisation_id, key, route, route_versions)
        data = _cached(cache.get, answer_key)
        if data is not None:
            return data
    # An answer built from a replica that may not have the newest change yet would be kept under its version.
    with primary_reads_after(max(int(stamp) for stamp in newest.split("."))):
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
