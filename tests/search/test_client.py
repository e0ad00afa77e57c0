"""/find/'s own Elasticsearch request (search.client.search_json): the same answer as the
client library, one pooled connection, and a page that says so when the server is down,
slow or answers with an error."""

import re
import socket
import threading
import time

import pytest

from search import client as search_client
from search.backends.elasticsearch import search_body
from search.client import SearchUnavailable, get_client, search_json
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


@pytest.fixture
def silent_server():
    """A server that accepts connections and never answers; counts the connections."""
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

    threading.Thread(target=accept, daemon=True).start()
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


@pytest.mark.elasticsearch
def test_searches_share_one_pooled_connection(es_directory, use_elasticsearch):
    for _ in range(3):
        search_json(index=alias_name(), body=_body({"q": "care"}))

    pool, _, _ = search_client._pool_for(use_elasticsearch)
    assert pool.num_connections == 1
    assert pool.num_requests >= 3


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
    settings, silent_server, monkeypatch
):
    url, accepted = silent_server
    settings.ELASTICSEARCH_URL = url
    monkeypatch.setattr(search_client, "REQUEST_TIMEOUT_S", 0.3)
    search_client._pool_for.cache_clear()

    started = time.monotonic()
    with pytest.raises(SearchUnavailable, match="Read timed out"):
        search_json(index="services", body={"query": {"match_all": {}}})
    took = time.monotonic() - started
    deadline = time.monotonic() + 2
    while len(accepted) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)  # the accepting thread may lag behind the kernel's accept

    assert len(accepted) == 2, "one retry after the timeout, on a new connection"
    assert 0.6 <= took < 3
    search_client._pool_for.cache_clear()


def test_the_url_may_carry_a_password_and_a_path(settings):
    pool, prefix, headers = search_client._pool_for("https://reader:s3cret@es.example:9243/es/")

    assert pool.scheme == "https" and pool.host == "es.example" and pool.port == 9243
    assert prefix == "/es"
    assert headers["authorization"] == "Basic cmVhZGVyOnMzY3JldA=="
    assert headers["Content-Type"] == "application/json"
    assert pool.timeout.connect_timeout == search_client.CONNECT_TIMEOUT_S
    assert pool.timeout.read_timeout == search_client.REQUEST_TIMEOUT_S
