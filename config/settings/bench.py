"""Benchmarks: production behaviour (no debug, real servers) over plain HTTP on loopback."""

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="bench-only-key-" + "x" * 40)
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.urls"
AXES_ENABLED = False  # the load driver signs in many times from one address
LOGGING["root"]["level"] = "WARNING"

# As in production: one cache for every web process (the provider profile's body,
# page chrome). CACHE_KEY_PREFIX keeps concurrent benchmark runs on a shared Redis apart.
if REDIS_URL:  # noqa: F405
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,  # noqa: F405
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="bench"),  # noqa: F405
        }
    }
