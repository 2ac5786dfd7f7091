"""The Redis cache, keeping its client objects.

Django's RedisCache makes a new `redis.Redis` client, over its kept connection pool, for every cache operation:
about a tenth of a tracking look-up answered from the cache (P5, docs/PERFORMANCE.md: 3.05 -> 2.75 ms in-process).
A client holds nothing but its pool and may be shared between threads (redis-py), so one is kept for each pool.

`set_many` with a time to live sends one command (a script setting each key with its expiry), where Django sends
MSET and then one EXPIRE per key: a list of a thousand events stamps about two thousand references' versions,
twice (intermodal/versions.py), which cost a list of container steps a twentieth of its time (P1).
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient

# KEYS: the keys; ARGV: their values, then the time to live in seconds.
_SET_MANY = "for i, key in ipairs(KEYS) do redis.call('SET', key, ARGV[i], 'EX', ARGV[#ARGV]) end"


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

    def set_many(self, data, timeout):
        if timeout is None or timeout <= 0 or len(data) < 2:
            return super().set_many(data, timeout)  # no expiry (MSET), or removed at once, or one key
        keys = list(data)
        self.get_client(None, write=True).eval(
            _SET_MANY, len(keys), *keys, *(self._serializer.dumps(data[key]) for key in keys), int(timeout))
        return None


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = KeptClients
