"""/find/'s own Elasticsearch request (search.client.search_send and search_json): the
same answer as the client library, one kept-alive connection, the answer read after the
request has gone, a broken kept-alive connection asked again, and a page that says so
when the server is down, slow or answers with an error."""

import re
import socket
import ssl
import threading
import time

import pytest

from search import client as search_client
from search.backends.elasticsearch import search_body
from search.client import SearchUnavailable, get_client, search_json, search_send
from search.filters import ServiceSearchFilter
from search.index import alias_name
from search.models import SearchEntry, SearchLog

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def _body(params: dict) -> dict:
    filterset = ServiceSearchFilter(params, queryset=SearchEntry.objects.none())
    assert filterset.is_valid(), filterset.form.errors
    return search_body(filterset.form.cleaned_data)


def _closed_port() -> int:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        return listener.getsockname()[1]


def _serving(on_connection=None) -> tuple[socket.socket, list[socket.socket]]:
    """A listening socket on a free port whose thread accepts every connection (kept in
    the list) and hands each to ``on_connection`` in a thread of its own."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []

    def accept():
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            accepted.append(connection)
            if on_connection is not None:
                threading.Thread(target=on_connection, args=(connection,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return listener, accepted


@pytest.fixture
def silent_server():
    """A server that accepts connections and never answers; counts the connections."""
    listener, accepted = _serving()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", accepted
    listener.close()
    for connection in accepted:
        connection.close()


@pytest.fixture
def es_directory(directory, use_elasticsearch, es_index):
    """The directory, indexed in Elasticsearch only."""
    from search.services import search_index_rebuild

    search_index_rebuild(refresh=True)
    return directory


@pytest.mark.elasticsearch
@pytest.mark.parametrize(
    "params",
    [
        {"q": "help getting up in the morning", "postcode": "N3 2SB"},
        {"category": "home_care", "sort": "price", "card": "1"},
        {"q": "care", "care_group": "older_people"},
    ],
)
def test_search_json_answers_as_the_client_library_does(es_directory, params):
    body = _body(params)

    answer = search_json(index=alias_name(), body=body)
    expected = get_client().search(index=alias_name(), body=body).body

    assert answer["hits"]["total"]["value"] > 0
    for answer_ in (answer, expected):
        answer_.pop("took")
    assert answer == expected


@pytest.fixture
def connections_made(monkeypatch):
    """The connections search.client opens, counted."""
    made = []
    connect = search_client._connect

    def counting(server):
        made.append(server)
        return connect(server)

    monkeypatch.setattr(search_client, "_connect", counting)
    search_client._idle.clear()
    yield made
    search_client._idle.clear()


@pytest.mark.elasticsearch
def test_searches_share_one_kept_alive_connection(es_directory, connections_made):
    answers = [search_json(index=alias_name(), body=_body({"q": "care"})) for _ in range(3)]

    assert len(connections_made) == 1
    assert [len(idle) for idle in search_client._idle.values()] == [1]
    assert answers[0]["hits"]["total"]["value"] > 0
    assert [answer["hits"] for answer in answers[1:]] == [answers[0]["hits"]] * 2


@pytest.mark.elasticsearch
def test_an_answer_left_unread_never_reaches_the_next_search(es_directory, connections_made):
    """A connection whose answer was not read stays out of the pool: the next search
    gets its own answer on a new connection, not the one left in the socket."""
    search_send(index=alias_name(), body=_body({"category": "meals"}))  # never read

    answer = search_json(index=alias_name(), body=_body({"category": "home_care"}))

    assert len(connections_made) == 2
    categories = {hit["_source"]["category_label"] for hit in answer["hits"]["hits"]}
    assert categories == {"Home care"}


@pytest.mark.elasticsearch
def test_several_searches_may_be_under_way_at_once(es_directory, connections_made):
    meals = search_send(index=alias_name(), body=_body({"category": "meals"}))
    home_care = search_send(index=alias_name(), body=_body({"category": "home_care"}))

    labels = [
        {hit["_source"]["category_label"] for hit in pending.json()["hits"]["hits"]}
        for pending in (home_care, meals)
    ]

    assert labels == [{"Home care"}, {"Meals and lunch clubs"}]
    assert len(connections_made) == 2
    assert [len(idle) for idle in search_client._idle.values()] == [2]


def test_a_server_that_is_down_makes_the_page_say_search_is_not_working(settings, client, caplog):
    settings.ELASTICSEARCH_URL = f"http://127.0.0.1:{_closed_port()}"

    response = client.get("/find/", {"q": "home care"})

    assert response.status_code == 503
    text = _text(response)
    assert "Search is not working at the moment" in text
    assert "Try again in a few minutes." in text
    assert '<form id="search-form" method="get"' in response.content.decode()
    assert "0 results" not in text
    assert not SearchLog.objects.exists(), "a search that did not run is not logged"
    assert "Elasticsearch search failed" in caplog.text


@pytest.mark.elasticsearch
def test_an_error_answer_makes_the_page_say_search_is_not_working(
    use_elasticsearch, es_index, client, caplog
):
    # es_index dropped the alias: Elasticsearch answers 404 index_not_found.
    response = client.get("/find/", {"category": "home_care"})

    assert response.status_code == 503
    assert "Search is not working at the moment" in _text(response)
    assert "Elasticsearch search answered 404" in caplog.text
    assert "index_not_found_exception" in caplog.text


def test_a_server_that_does_not_answer_times_out_and_is_asked_once_more(
    settings, silent_server, monkeypatch, caplog
):
    url, accepted = silent_server
    settings.ELASTICSEARCH_URL = url
    monkeypatch.setattr(search_client, "REQUEST_TIMEOUT_S", 0.3)

    started = time.monotonic()
    pending = search_send(index="services", body={"query": {"match_all": {}}})
    sent_in = time.monotonic() - started
    with pytest.raises(SearchUnavailable, match="no answer in time"):
        pending.json()
    took = time.monotonic() - started
    deadline = time.monotonic() + 2
    while len(accepted) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)  # the accepting thread may lag behind the kernel's accept

    assert len(accepted) == 2, "one retry after the timeout, on a new connection"
    assert sent_in < 0.3, "sending does not wait for the answer"
    assert 0.6 <= took < 3
    assert "Elasticsearch search failed: no answer in time" in caplog.text


@pytest.fixture
def closing_server():
    """A server that answers each connection's first request with a kept-alive 200 and
    then closes the connection, as a server does with an idle one; counts the connections."""
    answer = b'{"hits": {"total": {"value": 0}, "hits": []}}'

    def serve(connection):
        with connection:
            request = b""
            while b"\r\n\r\n" not in request:
                request += connection.recv(65536)
            head, _, body = request.partition(b"\r\n\r\n")
            length = int(re.search(rb"content-length: *(\d+)", head, re.I).group(1))
            while len(body) < length:
                body += connection.recv(65536)
            connection.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(answer), answer)
            )

    listener, accepted = _serving(serve)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", accepted
    listener.close()


def test_a_kept_alive_connection_the_server_closed_is_replaced_unseen(
    settings, closing_server, connections_made
):
    url, accepted = closing_server
    settings.ELASTICSEARCH_URL = url

    first = search_json(index="services", body={"query": {"match_all": {}}})
    time.sleep(0.05)  # the server has closed the kept-alive connection by now
    second = search_json(index="services", body={"query": {"match_all": {}}})

    assert first == second == {"hits": {"total": {"value": 0}, "hits": []}}
    assert len(connections_made) == 2
    assert len(accepted) == 2


def test_the_url_may_carry_a_password_and_a_path(settings):
    server = search_client._server_for("https://reader:s3cret@es.example:9243/es/")

    assert (server.scheme, server.host, server.port) == ("https", "es.example", 9243)
    assert server.prefix == "/es"
    assert server.headers["Authorization"] == "Basic cmVhZGVyOnMzY3JldA=="
    assert server.headers["Content-Type"] == "application/json"
    assert server.context.verify_mode == ssl.CERT_REQUIRED
    assert server.context.check_hostname


def test_a_url_without_a_port_uses_the_scheme_s(settings):
    assert search_client._server_for("http://es.internal").port == 80
    assert search_client._server_for("https://es.internal/").port == 443
    assert search_client._server_for("http://es.internal").context is None
    with pytest.raises(ValueError, match="must be an http or https URL"):
        search_client._server_for("es.internal:9200")


def test_a_request_s_head_and_body_go_in_one_write():
    """Elasticsearch then reads the whole request at once, instead of waking for each."""

    class Recording:
        def __init__(self):
            self.writes = []

        def sendall(self, data):
            self.writes.append(bytes(data))

    connection = search_client._HTTPConnection("es.internal", 9200)
    connection.sock = Recording()

    connection.request("POST", "/services/_search", body=b'{"size": 1}', headers={"X": "1"})

    [write] = connection.sock.writes
    assert write.startswith(b"POST /services/_search HTTP/1.1\r\n")
    assert write.endswith(b'\r\n\r\n{"size": 1}')
    assert b"Content-Length: 11\r\n" in write
