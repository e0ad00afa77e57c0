"""Shared fixtures. Tests that need a server use the real one and fail, never skip, without it."""

import os

import pytest
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from django.conf import settings
from django.test import Client

from marketplace.accounts.roles import Role
from tests.factories import user_with_role


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
    return url


@pytest.fixture(scope="session")
def redis_url():
    return _require_env("REDIS_URL", "Redis")


@pytest.fixture(scope="session")
def stripe_mock_url():
    return _require_env("STRIPE_API_BASE", "stripe-mock")


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


def pytest_collection_modifyitems(config, items):
    """Transactional tests (live server, real Celery worker) restore the migrations' data after them.

    Django empties every table after a transactional test; without this, the
    tests that follow on the same worker would lose what migrations create:
    Wagtail's root page, default site and moderation workflow, and the role groups.
    """
    for item in items:
        marker = item.get_closest_marker("django_db")
        transactional = "live_server" in item.fixturenames or "transactional_db" in item.fixturenames
        if marker is not None and marker.kwargs.get("transaction"):
            transactional = True
        if transactional:
            kwargs = dict(marker.kwargs) if marker is not None else {}
            kwargs.update(transaction=True, serialized_rollback=True)
            item.add_marker(pytest.mark.django_db(**kwargs))


def pytest_report_header(config):
    db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    return [
        f"database: {db}; elasticsearch: {os.environ.get('ELASTICSEARCH_URL') or 'not set'}; "
        f"redis: {os.environ.get('REDIS_URL') or 'not set'}; stripe-mock: {os.environ.get('STRIPE_API_BASE') or 'not set'}"
    ]
