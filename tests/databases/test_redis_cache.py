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


def test_set_many_sets_every_key_with_its_time_to_live_in_one_command():
    cache = caches["default"]
    client = cache._cache.get_client(write=True)
    values = {f"set-many-{n}": {"n": n, "text": "装箱"} for n in range(300)}
    sent = []
    execute = client.execute_command

    def counting(*args, **kwargs):
        sent.append(args[0])
        return execute(*args, **kwargs)

    client.execute_command = counting
    try:
        cache.set_many(values, timeout=120)
    finally:
        del client.execute_command

    assert sent == ["EVAL"]
    assert cache.get_many(list(values)) == values
    ttls = {client.ttl(cache.make_and_validate_key(key)) for key in values}
    assert ttls and all(100 < ttl <= 120 for ttl in ttls)

    cache.set_many({"set-many-forever": 1, "set-many-forever-2": 2}, timeout=None)
    assert client.ttl(cache.make_and_validate_key("set-many-forever")) == -1  # no expiry: MSET, as Django
    cache.set_many({"set-many-0": 1, "set-many-1": 2}, timeout=0)
    assert cache.get_many(["set-many-0", "set-many-1"]) == {}  # a time to live of 0: not kept, as Django
