"""The Elasticsearch connections the process uses.

``get_client()`` is the official client, for indexing, index management and
commissioning's demand figures.

``search_send()`` sends the directory's visitor requests (``/find/``'s search and
the autocomplete's suggester) as a plain POST on a kept-alive connection and
returns at once, with the answer still to be read (``PendingSearch.json()``). The
results page uses the time Elasticsearch takes to answer (about 3 ms) for the
parts of the page that do not depend on the answer, instead of waiting idle. The
client library costs about half a millisecond of CPU a request more (request and
response objects, header and serializer layers) for a request whose body is
already plain JSON and whose answer is read as plain JSON, and it cannot leave an
answer unread. ``search_json()`` sends and reads in one call. Both raise
SearchUnavailable when Elasticsearch cannot answer.

The HTTP is the standard library's (http.client: keep-alive, chunked answers,
TLS with certificate checks). A connection is used by one request at a time:
idle ones wait in a per-process list. A request whose connection fails (refused,
reset, a kept-alive connection the server closed, no answer in time) is sent
once more on a new connection; an answer with an error status is not.
"""

import base64
import collections
import http.client
import logging
import os
import ssl
from dataclasses import dataclass
from functools import cache
from urllib.parse import unquote, urlsplit

import orjson
from elastic_transport import OrjsonSerializer
from elasticsearch import Elasticsearch

from django.conf import settings

logger = logging.getLogger(__name__)

# As the client: a request gives up after 10 s. Connecting gives up sooner: a server
# that does not accept a connection in 2 s is down for a visitor waiting on a page.
REQUEST_TIMEOUT_S = 10
CONNECT_TIMEOUT_S = 2
# Idle connections kept per process (gunicorn: one per thread is enough; more are
# opened, and closed after use, if a burst needs them).
POOL_SIZE = 10


class SearchUnavailable(Exception):
    """Elasticsearch could not be reached, timed out or answered with an error."""


@cache
def _client_for(url: str) -> Elasticsearch:
    # orjson reads and writes JSON faster than the standard library (a 30 KB search answer
    # in 42 against 92 microseconds here; an analysts' demand grid is 5.5 MB of it).
    return Elasticsearch(
        url, request_timeout=10, retry_on_timeout=True, serializer=OrjsonSerializer()
    )


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


@dataclass(frozen=True, eq=False)
class _Server:
    """Where ``search_send`` connects, and what every request carries (one per URL:
    ``_server_for`` keeps it, so it is its own key among the idle connections)."""

    scheme: str
    host: str
    port: int
    prefix: str
    headers: dict
    context: ssl.SSLContext | None


@cache
def _server_for(url: str) -> _Server:
    """The server, path prefix and headers for ``url``.

    The URL may carry a user and password (``https://user:secret@host:9243``) and a
    path prefix (a proxy), as the client accepts; https verifies certificates against
    certifi's bundle when it is installed (as the client does), else the system's.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"ELASTICSEARCH_URL must be an http or https URL, not {url!r}")
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if parts.username is not None:
        credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        headers["Authorization"] = "Basic " + base64.b64encode(credentials.encode()).decode()
    context = None
    if parts.scheme == "https":
        try:
            import certifi

            context = ssl.create_default_context(cafile=certifi.where())
        except ImportError:  # pragma: no cover - certifi comes with the client
            context = ssl.create_default_context()
    return _Server(
        scheme=parts.scheme,
        host=parts.hostname,
        port=parts.port or (443 if parts.scheme == "https" else 80),
        prefix=parts.path.rstrip("/"),
        headers=headers,
        context=context,
    )


# Idle kept-alive connections by server. A deque's append and pop are atomic, so
# threads (gunicorn gthread workers) share it without a lock; each connection is used
# by one request at a time. Emptied in a forked child: its parent's sockets are not its own.
_idle: dict[_Server, collections.deque] = collections.defaultdict(collections.deque)
os.register_at_fork(after_in_child=_idle.clear)


class _OneWrite:
    """A request's head and body sent in one write.

    http.client sends the head, then the body. Elasticsearch then wakes for each; sent
    together, it reads the whole request at once: 0.11-0.21 ms less a search at p50 (two
    runs of 1,450 searches each way, alternating, /find/'s bodies, quiet machine)."""

    _gathered: list | None = None

    def request(self, *args, **kwargs):
        self._gathered = []
        try:
            super().request(*args, **kwargs)
            data = b"".join(self._gathered)
        finally:
            self._gathered = None
        self.sock.sendall(data)

    def send(self, data):
        if self._gathered is None:
            super().send(data)
        elif isinstance(data, bytes | bytearray):
            self._gathered.append(data)
        else:  # pragma: no cover - refused rather than sent out of order
            raise TypeError("search.client sends bytes bodies only")


class _HTTPConnection(_OneWrite, http.client.HTTPConnection):
    pass


class _HTTPSConnection(_OneWrite, http.client.HTTPSConnection):
    pass


def _connect(server: _Server) -> http.client.HTTPConnection:
    if server.scheme == "https":
        connection = _HTTPSConnection(
            server.host, server.port, timeout=CONNECT_TIMEOUT_S, context=server.context
        )
    else:
        connection = _HTTPConnection(server.host, server.port, timeout=CONNECT_TIMEOUT_S)
    connection.connect()
    # Connecting gives up after CONNECT_TIMEOUT_S; waiting for an answer after
    # REQUEST_TIMEOUT_S (read at call time, so a test may shorten it).
    connection.sock.settimeout(REQUEST_TIMEOUT_S)
    return connection


def _release(server: _Server, connection: http.client.HTTPConnection) -> None:
    idle = _idle[server]
    if len(idle) < POOL_SIZE:
        idle.append(connection)
    else:
        connection.close()


def _failure(error: Exception) -> str:
    if isinstance(error, TimeoutError):
        return f"no answer in time ({error})"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


class PendingSearch:
    """A search sent to Elasticsearch, its answer not read yet.

    ``json()`` reads it (waiting if it has not come yet) and gives the connection back
    for the next request. A PendingSearch that is never read keeps its connection out of
    the pool, and the connection closes with it: nothing half-read is ever reused.
    """

    __slots__ = ("_server", "_path", "_payload", "_connection", "_tries", "_error")

    # Sent at most this often: once, and once more on a new connection if the first
    # connection fails before the whole answer is read.
    TRIES = 2

    def __init__(self, server: _Server, path: str, payload: bytes):
        self._server = server
        self._path = path
        self._payload = payload
        self._tries = 0
        self._error: Exception | None = None
        try:
            self._connection = _idle[server].pop()
        except IndexError:
            self._connection = None
        self._send()

    def _send(self) -> None:
        """Send the request, on a new connection the second time; a failure is kept
        for ``json()`` to report."""
        while self._tries < self.TRIES:
            self._tries += 1
            try:
                if self._connection is None:
                    self._connection = _connect(self._server)
                self._connection.request(
                    "POST", self._path, body=self._payload, headers=self._server.headers
                )
            except (OSError, http.client.HTTPException) as error:
                self._close()
                self._error = error
            else:
                self._error = None
                return

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _read(self) -> tuple[int, bytes]:
        response = self._connection.getresponse()
        data = response.read()
        if response.will_close:
            self._close()
        else:
            _release(self._server, self._connection)
            self._connection = None
        return response.status, data

    def json(self) -> dict:
        """Elasticsearch's answer as plain JSON.

        Raises SearchUnavailable when the server could not be reached, did not answer
        in time or answered anything but 200 (the reason is logged; the caller tells
        the visitor).
        """
        while True:
            if self._error is None:
                try:
                    status, data = self._read()
                    break
                except (OSError, http.client.HTTPException) as error:
                    # A broken connection or no answer in time.
                    self._close()
                    self._error = error
            if self._tries >= self.TRIES:
                logger.error("Elasticsearch search failed: %s", _failure(self._error))
                raise SearchUnavailable(_failure(self._error)) from self._error
            self._send()
        if status != 200:
            logger.error(
                "Elasticsearch search answered %s: %s",
                status,
                data[:500].decode(errors="replace"),
            )
            raise SearchUnavailable(f"Elasticsearch answered {status}")
        return orjson.loads(data)


def search_send(*, index: str, body: dict) -> PendingSearch:
    """POST ``body`` to ``index``'s ``_search`` and return without waiting for the answer."""
    server = _server_for(_url())
    # orjson, as the client above; keys that are not text are written as text, as
    # json.dumps writes them.
    payload = orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)
    return PendingSearch(server, f"{server.prefix}/{index}/_search", payload)


def search_json(*, index: str, body: dict) -> dict:
    """POST ``body`` to ``index``'s ``_search`` and return the answer as plain JSON.

    Raises SearchUnavailable when the server cannot be reached in time or answers
    anything but 200 (the reason is logged; the caller tells the visitor).
    """
    return search_send(index=index, body=body).json()
