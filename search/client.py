"""The Elasticsearch connections the process uses.

``get_client()`` is the official client, for indexing, index management and
commissioning's demand figures. ``search_json()`` sends the directory's visitor
requests (``/find/``'s search and the autocomplete's suggester) as a plain
pooled POST: the client library costs about half a millisecond of CPU a request
over urllib3 (request and response objects, header and serializer layers) for a
request whose body is already plain JSON and whose answer is read as plain JSON.
``search_json()`` raises SearchUnavailable when Elasticsearch cannot answer.
"""

import json
import logging
import os
from functools import cache

import urllib3
from elasticsearch import Elasticsearch

from django.conf import settings

logger = logging.getLogger(__name__)

# As the client: a request gives up after 10 s. Connecting gives up sooner: a server
# that does not accept a connection in 2 s is down for a visitor waiting on a page.
REQUEST_TIMEOUT_S = 10
CONNECT_TIMEOUT_S = 2
# Connections kept per process (gunicorn: one per thread is enough; more are opened,
# and closed after use, if a burst needs them).
POOL_SIZE = 10


class SearchUnavailable(Exception):
    """Elasticsearch could not be reached, timed out or answered with an error."""


@cache
def _client_for(url: str) -> Elasticsearch:
    return Elasticsearch(url, request_timeout=10, retry_on_timeout=True)


def _url() -> str:
    url = settings.ELASTICSEARCH_URL or os.environ.get("ELASTICSEARCH_URL", "")
    if not url:
        raise RuntimeError("ELASTICSEARCH_URL is not set: search uses the database fallback.")
    return url


def get_client() -> Elasticsearch:
    """The client for ELASTICSEARCH_URL.

    Whether search *uses* Elasticsearch is decided by settings.ELASTICSEARCH_URL
    (search.selectors); the environment variable is only a fallback address so
    health checks and index commands can reach a server the settings leave off.
    """
    return _client_for(_url())


def index_name(name: str) -> str:
    """The environment-prefixed name of an index or alias, e.g. ``scc_services``."""
    return f"{settings.SEARCH_INDEX_PREFIX}{name}"


@cache
def _pool_for(url: str) -> tuple[urllib3.connectionpool.HTTPConnectionPool, str, dict]:
    """A thread-safe keep-alive pool for ``url``, the path prefix and the headers.

    The URL may carry a user and password (``https://user:secret@host:9243``) and a
    path prefix (a proxy), as the client accepts; https verifies certificates against
    certifi's bundle when it is installed (as the client does), else the system's.
    """
    parsed = urllib3.util.parse_url(url)
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if parsed.auth:
        headers.update(urllib3.util.make_headers(basic_auth=parsed.auth))
    options: dict = {}
    if parsed.scheme == "https":
        try:
            import certifi

            options["ca_certs"] = certifi.where()
        except ImportError:  # pragma: no cover - certifi comes with the client
            pass
    pool = urllib3.connection_from_url(
        f"{parsed.scheme}://{parsed.netloc}",
        maxsize=POOL_SIZE,
        block=False,
        timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT_S, read=REQUEST_TIMEOUT_S),
        # A search changes nothing, so one whose connection failed or broke (a pooled
        # connection the server closed, a restart, a timeout) is sent once more (the
        # client sends up to three more times); an error answer is not.
        retries=urllib3.Retry(
            total=1, connect=1, read=1, status=0, redirect=0, allowed_methods=None
        ),
        **options,
    )
    return pool, (parsed.path or "").rstrip("/"), headers


def search_json(*, index: str, body: dict) -> dict:
    """POST ``body`` to ``index``'s ``_search`` and return the answer as plain JSON.

    Raises SearchUnavailable when the server cannot be reached in time or answers
    anything but 200 (the reason is logged; the caller tells the visitor).
    """
    pool, prefix, headers = _pool_for(_url())
    try:
        response = pool.urlopen(
            "POST",
            f"{prefix}/{index}/_search",
            body=json.dumps(body).encode(),
            headers=headers,
        )
    except urllib3.exceptions.HTTPError as error:
        logger.error("Elasticsearch search failed: %s", error)
        raise SearchUnavailable(str(error)) from error
    if response.status != 200:
        logger.error(
            "Elasticsearch search answered %s: %s",
            response.status,
            response.data[:500].decode(errors="replace"),
        )
        raise SearchUnavailable(f"Elasticsearch answered {response.status}")
    return json.loads(response.data)
