"""The production cache backend: Django's Redis cache with one client per pool."""

import threading
import uuid

import pytest

from django.core.cache.backends.redis import RedisCache

from config.cache import SharedClientRedisCache


def _caches(redis_url):
    prefix = f"test-shared-client-{uuid.uuid4().hex}"
    params = {"KEY_PREFIX": prefix, "TIMEOUT": 60}
    return SharedClientRedisCache(redis_url, params), RedisCache(redis_url, params)


@pytest.mark.redis
def test_it_reads_and_writes_what_djangos_redis_cache_does(redis_url):
    ours, djangos = _caches(redis_url)
    try:
        ours.set("settings", {"council": "Barnet", "phone": "020 8359 2000"})
        assert djangos.get("settings") == {"council": "Barnet", "phone": "020 8359 2000"}
        djangos.set("count", 1)
        assert ours.incr("count") == 2
        assert djangos.get("count") == 2
        assert ours.add("count", 9) is False
        ours.set_many({"a": 1, "b": "two"})
        assert djangos.get_many(["a", "b", "missing"]) == {"a": 1, "b": "two"}
        ours.delete("a")
        assert djangos.get("a", "gone") == "gone"
        assert ours.get("missing") is None
    finally:
        djangos.delete_many(["settings", "count", "a", "b"])


@pytest.mark.redis
def test_one_client_per_pool_shared_by_threads(redis_url):
    ours, _ = _caches(redis_url)
    client = ours._cache.get_client("key")
    assert ours._cache.get_client("other", write=True) is client
    assert client.connection_pool is ours._cache._pools[0]

    errors = []

    def work(number):
        try:
            for step in range(50):
                ours.set(f"thread-{number}", step)
                assert ours.get(f"thread-{number}") == step
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=work, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ours.delete_many([f"thread-{number}" for number in range(8)])
    assert errors == []
    assert ours._cache.get_client("key") is client


def test_production_and_bench_use_it():
    from pathlib import Path

    settings_folder = Path(__file__).resolve().parents[2] / "config" / "settings"
    for name in ("production.py", "bench.py"):
        text = (settings_folder / name).read_text()
        assert '"BACKEND": "config.cache.SharedClientRedisCache"' in text, name
        assert "django.core.cache.backends.redis.RedisCache" not in text, name
