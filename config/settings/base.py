"""Settings shared by every environment.

Every value comes from one ``env`` object. Each integration turns on when its
variable is set: with none set, the site runs on SQLite, the database search
fallback and in-process tasks (the embedded default).
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

SITE_NAME = "Social Care Connect"
COUNCIL_NAME = env.str("COUNCIL_NAME", default="London Borough of Barnet")
WAGTAILADMIN_BASE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
WAGTAIL_SITE_NAME = SITE_NAME

INSTALLED_APPS = [
    # Our apps come first so their templates override the packages'.
    "marketplace.accounts",
    "marketplace.providers",
    "marketplace.reviews",
    "marketplace.budgets",
    "marketplace.payments",
    "commissioning.demand",
    "commissioning.monitoring",
    "commissioning.grants",
    "commissioning.assessments",
    "cms",
    "search",
    # Wagtail
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    # Third party
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_filters",
    "corsheaders",
    "csp",
    # Django
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "marketplace.accounts.middleware.StaffTwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
                "config.context_processors.site",
            ],
            # {% chrome_fragment %} and {% chrome_url %}: the header and footer rendered
            # once per process (config/chrome.py).
            "libraries": {"chrome": "config.chrome"},
        },
    },
]

# Database: SQLite unless DATABASE_URL is set (PostgreSQL in production and CI).
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
# A persistent connection is checked before each request reuses it, so a restarted
# database costs one reconnect, not one failed request per worker.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {"timeout": 20}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # An unreachable database fails a request (and a card decision, which has a
    # 500 ms budget and Stripe's 2 s limit) within seconds instead of hanging on the
    # operating system's TCP timeout.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=3)
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Per process unless production/bench settings name a Redis. Django's default of 300
# entries is too few: the embedded default's ~300 cached provider profiles alone would
# push out the page chrome and search advice.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "social-care-connect",
        "OPTIONS": {"MAX_ENTRIES": 5000},
    }
}

# Accounts
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "cms:signed-out"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login rate limiting (django-axes): 5 failures for one e-mail address from one
# address locks that pair for 15 minutes.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

# Two-factor authentication for staff roles (django-otp, TOTP).
OTP_TOTP_ISSUER = SITE_NAME

# Sessions and CSRF
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 8
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "cms.views.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Content-Security-Policy (django-csp). The GOV.UK template's one inline script
# carries a per-request nonce. Wagtail's admin ships inline scripts and styles,
# so it gets a policy of its own in the admin-only middleware exemption below.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/admin/", "/django-admin/"],
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        # Style attributes only (bar widths in charts); they cannot run script.
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}

# CORS: the Open Referral UK API is open to every origin; nothing else is.
CORS_URLS_REGEX = r"^/api/oruk/.*$"
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_METHODS = ["GET", "OPTIONS"]

# Internationalisation
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

# Static files: GOV.UK Frontend is built from npm into static/dist by bin/build-assets.
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# Wagtail
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "key", "odt", "pdf", "pptx", "rtf", "txt", "xlsx", "zip"]
WAGTAIL_I18N_ENABLED = False
WAGTAIL_MODERATION_ENABLED = True
WAGTAIL_WORKFLOW_ENABLED = True
WAGTAILADMIN_LOGIN_URL = "accounts:login"
WAGTAIL_PASSWORD_RESET_ENABLED = False
WAGTAILIMAGES_IMAGE_MODEL = "wagtailimages.Image"

# Search engine: Elasticsearch when ELASTICSEARCH_URL is set, otherwise the
# database fallback answers the same queries.
ELASTICSEARCH_URL = env.str("ELASTICSEARCH_URL", default="")
SEARCH_INDEX_PREFIX = env.str("SEARCH_INDEX_PREFIX", default="scc_")
# Search log rows are written together (search.services.SearchLogWriter): when this many
# wait, or the oldest has waited this long; at most this many wait after failed writes.
SEARCH_LOG_BATCH_ROWS = env.int("SEARCH_LOG_BATCH_ROWS", default=50)
SEARCH_LOG_BATCH_SECONDS = env.float("SEARCH_LOG_BATCH_SECONDS", default=2.0)
SEARCH_LOG_MAX_WAITING = 10_000

# Background tasks: Celery on Redis when REDIS_URL is set, otherwise tasks run
# in-process, after the surrounding transaction commits.
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "scc"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
# Periodic tasks (celery beat). Each app adds its own entry.
CELERY_BEAT_SCHEDULE = {
    # Search: services confirmed with queryset.update() (no signals) are re-indexed
    # within a minute (search.tasks.CATCH_UP_SECONDS).
    "search-reindex-recently-confirmed": {
        "task": "search.reindex_recently_confirmed",
        "schedule": 60,
    },
    # Reviews whose provider reply window (7 days) has ended are published.
    "reviews-publish-due": {"task": "reviews.publish_due_reviews", "schedule": 15 * 60},
    # Smoothed ratings drift as the borough mean moves; recompute them all nightly.
    "reviews-refresh-ratings": {"task": "reviews.refresh_ratings", "schedule": 24 * 60 * 60},
    # Directory: scheduled go-live/expiry, and records unconfirmed for six months.
    "providers-publish-scheduled": {"task": "providers.publish_scheduled", "schedule": 5 * 60},
    "providers-flag-stale-records": {
        "task": "providers.flag_stale_records",
        "schedule": 24 * 60 * 60,
    },
    # Innovation Fund reports due or overdue, and yearly reassessment reminders.
    "grants-send-reminders": {"task": "grants.send_grant_reminders", "schedule": 24 * 60 * 60},
    "assessments-send-reminders": {
        "task": "assessments.send_reassessment_reminders",
        "schedule": 24 * 60 * 60,
    },
    # Budget loads due today are paid in early, before people shop; a re-run posts nothing twice.
    "budgets-post-due-loads": {
        "task": "budgets.post_due_loads",
        "schedule": crontab(hour=4, minute=30),
    },
    # Monitoring rules after the night's loads and statement imports.
    "monitoring-rules-daily": {
        "task": "monitoring.rules_daily",
        "schedule": crontab(hour=5, minute=30),
    },
}

# Stripe: every call goes through marketplace/payments/stripe_api.py. STRIPE_API_BASE
# points at stripe-mock in tests; the live API is never called from here.
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
# Stripe waits 2 s for a card authorisation answer: each statement of a decision may
# take this long, and a late decision is a recorded decline (marketplace/budgets/services/cards.py).
CARD_DECISION_DEADLINE_MS = env.int("CARD_DECISION_DEADLINE_MS", default=500)

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="Social Care Connect <no-reply@example.org>"
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "axes": {"level": "WARNING"},
        "elastic_transport": {"level": "WARNING"},
        "django_tasks": {"level": "WARNING"},
        "celery": {"level": "WARNING"},
        "kombu": {"level": "ERROR"},
        "wagtail": {"level": "WARNING"},
    },
}

FORM_RENDERER = "cms.forms.GovukFormRenderer"

# Innovation Fund open data (360Giving): grant ids are 360G-<prefix>-<id>; the council
# is the funding organisation, identified per the Organisation Identifier Standard.
GRANTNAV_PREFIX = env.str("GRANTNAV_PREFIX", default="scc")
FUNDER_ORG_ID = env.str("FUNDER_ORG_ID", default="GB-LAE-BNE")
COUNCIL_GSS_CODE = env.str("COUNCIL_GSS_CODE", default="E09000003")

# The card holds index (budgets.Authorization) covers amount_pence on PostgreSQL;
# SQLite, the embedded default, ignores covering columns and Django says so on every
# command. The index still works there, just without the covered column.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
