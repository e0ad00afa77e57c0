"""Local development: the embedded default unless variables say otherwise."""

from .base import *  # noqa: F403

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# A development-only key; production.py refuses to start without a real one.
SECRET_KEY = SECRET_KEY or "dev-only-insecure-key-not-for-production"  # noqa: S105
ALLOWED_HOSTS = ["*"]

# Serve static files straight from the source folders (no collectstatic needed).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Each search's log row is written at once: the unmet demand page shows it straight away.
SEARCH_LOG_BATCH_ROWS = 1
