"""Versions of references: a stamp in the cache per booking, transport or container reference, set whenever
something shown under that reference changes.

Caches of answers built from several references (tracking's, tracking/cache.py) key their answers under the
versions they were built from, so an answer goes stale the moment what it shows changes. Every recorded event
sets the versions of its booking, transport and equipment references (intermodal/events.py); changes that
record no event (a container assigned to a booking) set theirs where they are made. A version is set when the
change is written and again when it commits, so neither a reader inside the writing transaction nor one between
the write and the commit keeps an old answer under the new version.
"""

import logging
import time
from collections.abc import Iterable

from django.core.cache import cache
from django.db import transaction

VERSION_SECONDS = 24 * 3600  # far beyond any answer cached under a version: an answer never outlives its version
_VERSION = "track:v:"
logger = logging.getLogger(__name__)


def _version_keys(references: Iterable[str]) -> list[str]:
    return [_VERSION + reference.upper() for reference in references if reference]


def versions(references: Iterable[str]) -> str:
    """The current versions of the references, as one string for a cache key."""
    return versions_and_entries(references, [])[0]


def versions_and_entries(references: Iterable[str], entries: list[str]) -> tuple[str, dict]:
    """The references' versions (as `versions` says them) and the cache's entries under `entries` that it holds,
    read in one round trip."""
    references = list(references)  # used twice: a generator would give nothing the second time
    keys = version_and_entry_keys(references, entries)
    return versions_and_entries_of(cache.get_many(keys), references, entries)


def version_and_entry_keys(references: Iterable[str], entries: list[str]) -> list[str]:
    """The cache keys `versions_and_entries` reads, for a caller that reads them in a round trip of its own."""
    return [*_version_keys(references), *entries]


def versions_and_entries_of(found: dict, references: Iterable[str], entries: list[str]) -> tuple[str, dict]:
    """What `versions_and_entries` answers, from what the cache held of `version_and_entry_keys`."""
    keys = _version_keys(references)
    return ".".join(str(found.get(key, 0)) for key in keys), {key: found[key] for key in entries if key in found}


def _touch(keys: list[str]) -> None:
    stamp = time.time_ns()  # unique whatever the cache forgot: a version is never reused
    try:
        cache.set_many(dict.fromkeys(keys, stamp), timeout=VERSION_SECONDS)
    except Exception:  # noqa: BLE001 - a cache outage must not fail the change; cached answers expire on their own
        logger.warning("reference versions: could not stamp %d references", len(keys), exc_info=True)


def forget(references: Iterable[str]) -> None:
    """Something shown under these references changed: now, and again when the transaction commits."""
    keys = sorted(set(_version_keys(references)))
    if not keys:
        return
    _touch(keys)
    transaction.on_commit(lambda: _touch(keys))


def forget_events(events) -> None:
    """What the events are about changed."""
    forget(
        reference
        for event in events
        for reference in (event.booking_reference, event.transport_reference, event.equipment_reference)
    )
