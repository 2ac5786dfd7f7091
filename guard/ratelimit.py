"""Rate limits counted in sliding windows: one atomic increment a request, whatever the rate.

A limit "N/period" is kept as a sliding window over two fixed ones: a request is let through when this window's
count, plus the last window's weighted by the share of it still within one period back, stays within N. On Redis
the increment and the read of the last window's count are one round trip. DRF's own counting
(SimpleRateThrottle) kept a list of every request's time within the period, read and written whole by each
request: at a key's 12,000 a minute, 100 kB moved twice a request, and two requests at once each wrote the list
without the other's entry, so processes side by side let more through than the limit
(tests/security/test_throttling.py). The callers and their rates are the platform's (intermodal/throttling.py).
"""

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.throttling import SimpleRateThrottle


def window_keys(key: str, duration: int, now: float) -> tuple[str, str]:
    window = int(now // duration)
    return f"{key}:{window}", f"{key}:{window - 1}"


def window_count(key: str, duration: int, now: float, also: list[str] | tuple = ()) -> tuple[int, int, dict]:
    """Count a request under `key` in the window of `now`: (this window's count with it, the last window's, and the
    cache's entries under the keys `also` that it holds, as `cache.get_many` gives them, read in the same round
    trip)."""
    current, previous = window_keys(key, duration, now)
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        # One round trip; INCR is atomic. The values are plain integers, as Django's Redis cache keeps them.
        current, previous = cache.make_and_validate_key(current), cache.make_and_validate_key(previous)
        pipeline = cache._cache.get_client(current, write=True).pipeline(transaction=False)
        pipeline.set(current, 0, ex=2 * duration, nx=True)
        pipeline.incr(current)
        pipeline.get(previous)
        stored = [cache.make_and_validate_key(name) for name in also]
        if stored:
            pipeline.mget(stored)
        _created, count, before, *read = pipeline.execute()
        loads = cache._cache._serializer.loads
        found = {name: loads(value) for name, value in zip(also, read[0] if read else [], strict=True)
                 if value is not None}
        return count, int(before or 0), found
    cache.add(current, 0, 2 * duration)
    return cache.incr(current), cache.get(previous, 0), cache.get_many(also) if also else {}


def window_uncount(key: str, duration: int, now: float) -> None:
    """Take back a request counted by window_count (one that was refused: refusals do not count)."""
    caches["default"].decr(window_keys(key, duration, now)[0])


class WindowRateThrottle(SimpleRateThrottle):
    """DRF's SimpleRateThrottle (its rates, cache keys and reading of the address), counted in sliding windows."""

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        # A view may name cache entries it reads first thing (`read_ahead_keys`): they come in the count's round
        # trip, kept on the request as `read_ahead` (the keys asked, and what the cache held of them).
        ahead = getattr(view, "read_ahead_keys", None)
        also = ahead(request) if ahead is not None else ()
        self.count, self.before, found = window_count(self.key, self.duration, self.now, also)
        if also:
            request.read_ahead = (tuple(also), found)
        if self._estimate(self.count) <= self.num_requests:
            return True
        window_uncount(self.key, self.duration, self.now)
        self.count -= 1
        return False

    def _elapsed(self) -> float:
        """The share of this window gone."""
        return (self.now % self.duration) / self.duration

    def _estimate(self, count: int) -> float:
        return self.before * (1 - self._elapsed()) + count

    def wait(self) -> float:
        """Seconds until one more request would be let through."""
        room = self.num_requests - 1 - self.count  # what the last window may still weigh for one more
        if room >= 0:
            # Within this window, once enough of the last one has slid out.
            share = 1 - room / self.before if self.before else 0
            return max(share - self._elapsed(), 0) * self.duration
        # The next window, once enough of this one has slid out.
        share = max(1 - (self.num_requests - 1) / self.count, 0) if self.count else 0
        return (1 - self._elapsed() + share) * self.duration
