"""Benchmarks: production behaviour (no debug, real servers) over plain HTTP on loopback."""

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="bench-only-key-" + "x" * 40)
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.urls"
AXES_ENABLED = False  # the load driver signs in many times from one address
LOGGING["root"]["level"] = "WARNING"

# As in production, one cache for every web process (the provider profile's body, page
# chrome) when BENCH_CACHE_URL names a Redis. Opt-in rather than REDIS_URL, so a bench
# server started from the shared services' environment does not depend on their Redis.
# CACHE_KEY_PREFIX keeps runs sharing one Redis apart.
BENCH_CACHE_URL = env.str("BENCH_CACHE_URL", default="")  # noqa: F405
if BENCH_CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "config.cache.SharedClientRedisCache",
            "LOCATION": BENCH_CACHE_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="bench"),  # noqa: F405
        }
    }
