"""Production: refuses to start without its secrets, and sends every security header."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403

DEBUG = False

_required = {
    "DJANGO_SECRET_KEY": SECRET_KEY,
    "DATABASE_URL": env.str("DATABASE_URL", default=""),
    "DJANGO_ALLOWED_HOSTS": env.str("DJANGO_ALLOWED_HOSTS", default=""),
}
if env.str("STRIPE_SECRET_KEY", default=""):
    _required["STRIPE_WEBHOOK_SECRET"] = STRIPE_WEBHOOK_SECRET
_missing = sorted(name for name, value in _required.items() if not value)
if _missing:
    raise ImproperlyConfigured(
        "Production will not start without these settings: " + ", ".join(_missing)
    )
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be at least 50 characters long.")

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"
STORAGES["staticfiles"] = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}

# One cache for every web process (the password reset throttle counts requests in it).
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "config.cache.SharedClientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "scc",
        }
    }
