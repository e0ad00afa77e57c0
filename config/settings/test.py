"""Test settings: the real servers when their variables are set (CI sets them all)."""

import os

from .base import *  # noqa: F403

SECRET_KEY = "test-only-key"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tasks run in the test process so a test sees their effect; one test drives a
# real Celery worker on Redis to prove the production path.
CELERY_TASK_ALWAYS_EAGER = True
# Each test process gets its own indexes (runs side by side on one shared server
# must not see each other's); tests/conftest.py deletes them when the run ends.
SEARCH_INDEX_PREFIX = f"test_{os.getpid()}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_"
MEDIA_ROOT = BASE_DIR / "var" / "test-media"
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

if (
    env.bool("CI", default=False)
    and DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql"
):
    raise RuntimeError("CI runs the tests on PostgreSQL: set DATABASE_URL (make test does).")

# Search runs on the database fallback unless a test asks for Elasticsearch with
# the `use_elasticsearch` fixture, which reads ELASTICSEARCH_URL from the environment.
ELASTICSEARCH_URL = ""
REDIS_URL = ""

# Serve static files straight from the source folders (no collectstatic needed).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Several test runs may share one PostgreSQL server (developers working side by
# side): each run gets its own test database.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["TEST"] = {"NAME": f"test_scc_{os.getpid()}"}

# Each search's log row is written at once, so a test sees it after the page;
# tests/search/test_search_log.py sets batches up as production runs them.
SEARCH_LOG_BATCH_ROWS = 1
