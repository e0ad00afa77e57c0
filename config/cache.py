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
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            # Django's _get_connection_pool(), for this index (it picks its own).
            pool = self._pools.get(index)
            if pool is None:
                pool = self._pools.setdefault(
                    index,
                    self._pool_class.from_url(self._servers[index], **self._pool_options),
                )
            # Another thread may have made one at the same moment: either will do.
            client = self._clients.setdefault(index, self._client(connection_pool=pool))
        return client


class SharedClientRedisCache(RedisCache):
    """``django.core.cache.backends.redis.RedisCache`` without a new client per call."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _SharedClientRedisCacheClient
