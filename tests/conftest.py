"""Shared fixtures. Tests that need a server use the real one and fail, never skip, without it."""

import os

import pytest
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from django.conf import settings
from django.test import Client

from marketplace.accounts.roles import Role
from tests.factories import user_with_role


def pytest_configure(config):
    """The tests drop and create search indexes, clear caches and flush tables, so they
    run with config.settings.test only, whose index prefix and databases are their own.
    DJANGO_SETTINGS_MODULE in the environment overrides pyproject.toml's: a shell set up
    for a benchmark or a server would otherwise point the tests at its data."""
    if settings.SETTINGS_MODULE != "config.settings.test":
        raise pytest.UsageError(
            f"The tests run with config.settings.test, not {settings.SETTINGS_MODULE}. "
            "Unset DJANGO_SETTINGS_MODULE (it overrides pyproject.toml) or pass "
            "--ds config.settings.test."
        )


def sign_in(client: Client, user) -> Client:
    """Sign ``user`` in on ``client``, completing the second factor when their role needs one."""
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


@pytest.fixture
def make_user(db):
    return user_with_role


@pytest.fixture
def client_for(db):
    """``client_for(Role.COMMISSIONER)`` -> (client signed in as a new commissioner, user)."""

    def build(role: Role | None, **fields):
        client = Client()
        if role is None:
            return client, None
        user = user_with_role(role, **fields)
        return sign_in(client, user), user

    return build


def _require_env(name: str, what: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        pytest.fail(
            f"{name} is not set, so {what} is not available. Run the suite with `make test`, "
            "which starts every server the tests need.",
            pytrace=False,
        )
    return value


@pytest.fixture(scope="session")
def elasticsearch_url():
    url = _require_env("ELASTICSEARCH_URL", "Elasticsearch")
    from search.client import get_client

    try:
        get_client().cluster.health(timeout="5s")
    except Exception as error:  # noqa: BLE001
        pytest.fail(f"Elasticsearch at {url} is not answering: {error}", pytrace=False)
    yield url
    # This process's indexes (the prefix carries its pid) go when the run ends, so
    # runs side by side on one server neither meet nor leave indexes behind.
    get_client().indices.delete(
        index=f"{settings.SEARCH_INDEX_PREFIX}*", ignore_unavailable=True, allow_no_indices=True
    )


@pytest.fixture(scope="session")
def redis_url():
    return _require_env("REDIS_URL", "Redis")


@pytest.fixture(scope="session")
def stripe_mock_url():
    return _require_env("STRIPE_API_BASE", "stripe-mock")


@pytest.fixture
def stripe_settings(settings, stripe_mock_url):
    """Stripe calls go to stripe-mock (the cached client is rebuilt on each side of the test)."""
    from marketplace.payments.stripe_api import client

    settings.STRIPE_SECRET_KEY = "sk_test_123"
    settings.STRIPE_API_BASE = stripe_mock_url
    client.cache_clear()
    yield settings
    client.cache_clear()


@pytest.fixture
def use_elasticsearch(settings, elasticsearch_url):
    """Point search at the real Elasticsearch server for this test."""
    settings.ELASTICSEARCH_URL = elasticsearch_url
    return elasticsearch_url


@pytest.fixture
def embedded_default(settings):
    """The embedded default: database search and in-process tasks, whatever the environment."""
    settings.ELASTICSEARCH_URL = ""
    settings.REDIS_URL = ""
    return settings


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with empty caches: a rolled-back database sends no signals, so
    cached copies of rows (site settings, related advice, content types) must not
    outlive their test."""
    from django.contrib.contenttypes.models import ContentType
    from django.core.cache import cache

    from cms.chrome import chrome_local_forget

    cache.clear()
    chrome_local_forget()  # and the process's own copy of the site settings
    # The content type cache lives in the process: an id remembered from a rolled-back
    # test (or from before a transactional test's flush, reload and sequence reset) may
    # name another model's row by now.
    ContentType.objects.clear_cache()
    yield
    cache.clear()
    chrome_local_forget()


def _is_transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    if marker is not None and (
        marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")
    ):
        return True
    return "live_server" in item.fixturenames or "transactional_db" in item.fixturenames


# Keyed by database alias, not stored on the connection: Django's connections are
# context-local, and Playwright's sync API runs tests in a different context.
_MIGRATION_DATA: dict[str, str] = {}


@pytest.fixture(scope="session", autouse=True)
def _migration_data_snapshot(django_db_setup, django_db_blocker):
    """Keep what the migrations put in the test database (Wagtail's root page, site and
    workflows, the role groups and permissions), to put back after transactional tests."""
    from django.db import connections

    # pytest-django sets up test databases only when a collected test uses one; a run
    # of database-free tests must not read (or end sessions on) the real database.
    test_databases = [
        connection
        for connection in connections.all()
        if connection.settings_dict["NAME"] == connection.creation._get_test_db_name()
    ]
    with django_db_blocker.unblock():
        for connection in test_databases:
            _MIGRATION_DATA.setdefault(
                connection.alias, connection.creation.serialize_db_to_string()
            )
    yield
    # Before pytest-django drops the test database. Code run while Playwright's event
    # loop counted as running in this thread kept its connections per context, where
    # nothing closes them; one left open makes the DROP DATABASE fail ("being accessed
    # by other users") and leaves the database behind. End whatever this run left.
    with django_db_blocker.unblock():
        for connection in test_databases:
            connection.close()
            if connection.vendor != "postgresql":
                continue
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            connection.close()


def _reset_sequences(connection) -> None:
    """Loaded rows keep their ids; move each id sequence past them."""
    from django.apps import apps
    from django.core.management.color import no_style

    statements = connection.ops.sequence_reset_sql(no_style(), apps.get_models())
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """Django empties every table after a transactional test (live server, real Celery
    worker); put the migrations' data back so the tests after it on this worker have it."""
    yield
    # With no next test the session is ending and the test database is gone.
    if nextitem is None or not _is_transactional(item):
        return
    from pytest_django.plugin import blocking_manager_key

    from django.core.management import call_command
    from django.db import connections

    with item.config.stash[blocking_manager_key].unblock():
        for connection in connections.all():
            contents = _MIGRATION_DATA.get(connection.alias)
            if contents:
                # Empty again without the post-migrate signal, which would recreate
                # content types and permissions that the snapshot holds too.
                call_command(
                    "flush",
                    interactive=False,
                    database=connection.alias,
                    inhibit_post_migrate=True,
                    verbosity=0,
                )
                connection.creation.deserialize_db_from_string(contents)
                _reset_sequences(connection)
            # Close what this hook opened. Once a browser test has started Playwright,
            # its event loop counts as running in this thread and Django keeps
            # connections per context instead of per thread, so nothing else closes
            # this one: left open, it stops pytest-django from dropping the test
            # database at the end of the run ("1 other session using the database").
            connection.close()
        from django.contrib.contenttypes.models import ContentType

        ContentType.objects.clear_cache()


def pytest_report_header(config):
    db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    return [
        f"database: {db}; elasticsearch: {os.environ.get('ELASTICSEARCH_URL') or 'not set'}; "
        f"redis: {os.environ.get('REDIS_URL') or 'not set'}; stripe-mock: {os.environ.get('STRIPE_API_BASE') or 'not set'}"
    ]
