"""Cached tracking answers, made stale the moment what they show changes.

A look-up (GET /api/v1/track/{key}/) is the most-called read. Its answer is kept per organisation, language and
key, with the versions (intermodal/versions.py) of the references it shows as they were before it was read: the
key itself (a container number or a booking reference) and its route (the booking, its departure and vessel
call). It is given again only while every one of those versions is unchanged. A change that records no event at
all (a cut-off edited in the admin) shows within ANSWER_SECONDS, the longest an entry is kept. With a read
replica, an answer is built on the primary while what it shows changed within the replica's tolerated lag
(databases/replicas.py): a replica behind the change would otherwise have its old answer kept under the new
version.

A look-up's route is known only once it is read, so the first look-up of a key keeps its route alone, and the
next, having read the route's versions before reading the database, keeps its answer. A look-up answered from
the cache costs two round trips to the cache (the key's version with its entry, then the route's versions); one
that is not, the first of those and the write of what it read (P5, docs/PERFORMANCE.md).
"""

import hashlib
import logging

from django.core.cache import cache
from django.utils.translation import get_language

from databases.replicas import primary_reads_after
from intermodal.versions import version_and_entry_keys, versions, versions_and_entries, versions_and_entries_of

ANSWER_SECONDS = 60
logger = logging.getLogger(__name__)


def _entry_key(organisation_id, key: str) -> str:
    digest = hashlib.sha256("\x1f".join((str(organisation_id), get_language() or "", key)).encode()).hexdigest()
    return "track:e:" + digest[:32]


def first_keys(*, organisation_id, key: str) -> list[str]:
    """What a look-up of the key reads of the cache first (the key's version and its entry): the API's rate limit
    reads them in its own round trip (guard/ratelimit.py `read_ahead_keys`), and `answer` takes them from it."""
    key = key.strip().upper()
    return version_and_entry_keys([key], [_entry_key(organisation_id, key)])


def answer(*, organisation_id, key: str, build, read_ahead: tuple | None = None) -> dict:
    """The cached answer for the key, or `build()`'s: (data, route), route being the references the answer shows
    (booking reference, departure reference, vessel call reference). Without a cache (an outage), `build()`'s.
    `read_ahead`: (the keys asked, what the cache held of them), `first_keys` read by the caller."""
    try:
        return _answer(organisation_id=organisation_id, key=key, build=build, read_ahead=read_ahead)
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


def _answer(*, organisation_id, key: str, build, read_ahead: tuple | None) -> dict:
    key = key.strip().upper()
    entry_key = _entry_key(organisation_id, key)
    # Versions are read before the database is: a change after this point gives a newer version.
    if read_ahead is not None and read_ahead[0] == tuple(version_and_entry_keys([key], [entry_key])):
        key_version, found = versions_and_entries_of(read_ahead[1], [key], [entry_key])
    else:
        key_version, found = _cached(versions_and_entries, [key], [entry_key])
    # An entry: (the key's version, the route, the route's versions or None, the answer or None).
    entry = found.get(entry_key)
    route, route_versions = None, None
    if entry is not None and entry[0] == key_version:
        route = tuple(entry[1])
        route_versions = _cached(versions, route)
        if entry[2] == route_versions:
            return entry[3]
    # An answer built from a replica that may not have the newest change yet would be kept under its version.
    stamps = key_version.split(".") + (route_versions.split(".") if route_versions else [])
    with primary_reads_after(max(int(stamp) for stamp in stamps)):
        data, built_route = build()
    built_route = tuple(built_route)
    # The route's versions were read before the answer only if the route was known: else keep the route alone.
    kept = (key_version, built_route, route_versions, data) if route == built_route else (
        key_version, built_route, None, None)
    try:
        cache.set(entry_key, kept, ANSWER_SECONDS)
    except Exception:  # noqa: BLE001 - the answer is right; only the next one is not saved
        logger.warning("tracking cache: could not keep an answer", exc_info=True)
    return data
