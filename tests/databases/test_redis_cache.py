"""The Redis cache keeps one client object per connection pool (databases/redis_cache.py), shared by threads."""

import threading
from concurrent.futures import ThreadPoolExecutor

from django.core.cache import caches

from databases.redis_cache import RedisCache


def test_the_cache_is_redis_keeping_its_client_for_every_operation():
    cache = caches["default"]
    assert isinstance(cache, RedisCache)
    first = cache._cache.get_client("a", write=True)

    cache.set("kept-client", "one", 30)

    assert cache.get("kept-client") == "one"
    assert cache._cache.get_client("b") is first
    assert cache._cache.get_client("c", write=True) is first


def test_threads_share_the_client_and_each_gets_its_own_answers():
    cache = caches["default"]
    cache.delete("kept-client-count")
    cache.add("kept-client-count", 0, 30)
    clients, start = set(), threading.Barrier(8)

    def work(n: int) -> str:
        start.wait()
        clients.add(id(cache._cache.get_client()))
        for step in range(50):
            cache.set(f"kept-client-{n}", f"{n}-{step}", 30)
            cache.incr("kept-client-count")
        return cache.get(f"kept-client-{n}")

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(work, range(8)))

    assert answers == [f"{n}-49" for n in range(8)]
    assert cache.get("kept-client-count") == 8 * 50
    assert len(clients) == 1
