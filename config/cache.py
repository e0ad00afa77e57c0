"""Django's Redis cache with one redis-py client per connection pool, kept for the process.

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` around the
pooled connections for every cache call, and redis-py fills a ~150-entry table of
response callbacks in each one: about 75 us of CPU per ``cache.get``, as much as the
round trip itself. A ``redis.Redis`` holds no connection of its own (each command
takes one from the pool and gives it back, and the pool starts afresh in a forked
process), and redis-py documents it as safe to share between threads, so one per pool
does the same work. Same servers, options, serialiser, keys and errors as Django's.
"""

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class _SharedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, servers, **options):
        super().__init__(servers, **options)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            # Another thread may have made one at the same moment: either will do.
            client = self._clients.setdefault(pool, self._client(connection_pool=pool))
        return client


class SharedClientRedisCache(RedisCache):
    """``django.core.cache.backends.redis.RedisCache`` without a new client per call."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _SharedClientRedisCacheClient
