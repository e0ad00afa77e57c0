"""Benchmarks: production behaviour (no debug, real servers) over plain HTTP on loopback."""

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="bench-only-key-" + "x" * 40)
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.urls"
AXES_ENABLED = False  # the load driver signs in many times from one address
LOGGING["root"]["level"] = "WARNING"
