"""The Redis cache, keeping its client objects.

Django's RedisCache makes a new `redis.Redis` client, over its kept connection pool, for every cache operation:
about a tenth of a tracking look-up answered from the cache (P5, docs/PERFORMANCE.md: 3.05 -> 2.75 ms in-process).
A client holds nothing but its pool and may be shared between threads (redis-py), so one is kept for each pool.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class KeptClients(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)  # kept for the life of the process: its id stays its own
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients.setdefault(id(pool), self._client(connection_pool=pool))
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = KeptClients
