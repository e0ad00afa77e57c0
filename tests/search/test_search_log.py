"""Every search is logged for the council, without personal data."""

import pytest

from search.models import SearchLog

pytestmark = pytest.mark.django_db


def test_a_search_is_logged_with_the_postcode_district_only(indexed, search_backend, client):
    client.get("/find/", {"q": "Help getting up in the MORNING", "postcode": "n3 2sb", "card": "1"})

    log = SearchLog.objects.get()
    assert log.query == "help getting up in the morning"
    assert log.postcode_district == "N3"
    assert log.result_count == 2
    assert log.backend == search_backend
    assert log.filters == {"card": True, "sort": "relevance"}
    stored = " ".join(str(value) for value in SearchLog.objects.values().get().values())
    assert "2SB" not in stored.upper()


def test_a_search_that_finds_nothing_is_recorded_as_unmet_demand(indexed, search_backend, client):
    client.get("/find/", {"q": "transport", "postcode": "EN5 1AB"})

    log = SearchLog.objects.get()
    assert log.result_count == 0
    assert log.found_nothing
    assert (log.query, log.postcode_district) == ("transport", "EN5")


def test_a_long_query_is_cut_to_one_hundred_characters(indexed, search_backend, client):
    client.get("/find/", {"q": "care " * 60})

    assert len(SearchLog.objects.get().query) <= 100


def test_an_invalid_search_and_an_empty_visit_are_not_logged(indexed, search_backend, client):
    client.get("/find/")
    client.get("/find/", {"postcode": "not a postcode"})

    assert not SearchLog.objects.exists()


@pytest.mark.postgresql
def test_the_log_row_commits_without_waiting_for_the_disk(indexed, search_backend, client):
    """The row's transaction alone runs with synchronous_commit off (a visitor never
    waits for a WAL flush to see results); the test's transaction stands in for the
    request's own, so the setting it leaves can be read."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO on")
        client.get("/find/", {"q": "home care"})
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "off"
    assert SearchLog.objects.get().query == "home care"


def _request(rf):
    from django.contrib.sessions.backends.db import SessionStore

    request = rf.get("/find/", {"q": "home care"})
    request.session = SessionStore()
    return request


def _server_closes(response):
    """What the WSGI server does once the body is sent (as Django's test client does,
    keeping the test's database connection open)."""
    from django.core.signals import request_finished
    from django.db import close_old_connections

    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


def test_the_search_is_logged_once_the_page_has_been_sent(indexed, search_backend, rf):
    """The WSGI server calls close() after sending the body: the row is written then, so
    the visitor does not wait for the INSERT; it is written once."""
    from search.views import search_results

    response = search_results(_request(rf))

    assert response.status_code == 200
    assert b"Find care and support" in response.content
    assert not SearchLog.objects.exists()
    _server_closes(response)
    _server_closes(response)
    assert SearchLog.objects.get().query == "home care"


def test_a_log_row_that_cannot_be_written_does_not_break_the_sent_page(
    indexed, search_backend, rf, monkeypatch, caplog
):
    from search import views

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(views, "search_log_record", broken)
    response = views.search_results(_request(rf))

    _server_closes(response)

    assert response.status_code == 200
    assert "Search log row not written" in caplog.text
    assert "database went away" in caplog.text
    assert not SearchLog.objects.exists()


@pytest.fixture
def batches(settings):
    """Search log rows written together, as production writes them."""
    from search.services import search_log_writer

    settings.SEARCH_LOG_BATCH_ROWS = 3
    settings.SEARCH_LOG_BATCH_SECONDS = 60
    search_log_writer.discard()
    yield search_log_writer
    search_log_writer.discard()


def _inserts(queries) -> list[str]:
    return [query["sql"] for query in queries if query["sql"].startswith("INSERT INTO")]


def test_searches_wait_and_are_written_together_in_one_insert(
    indexed, search_backend, batches, client
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get("/find/", {"q": "home care"})
    client.get("/find/", {"q": "lunch"})

    assert not SearchLog.objects.exists()
    assert batches.waiting == 2
    with CaptureQueriesContext(connection) as queries:
        client.get("/find/", {"q": "transport", "postcode": "EN5 1AB"})

    assert len(_inserts(queries)) == 1
    assert batches.waiting == 0
    assert sorted(SearchLog.objects.values_list("query", "postcode_district")) == [
        ("home care", ""),
        ("lunch", ""),
        ("transport", "EN5"),
    ]


def test_rows_that_waited_too_long_go_at_the_end_of_any_later_request(
    indexed, search_backend, batches, settings, client
):
    client.get("/find/", {"q": "home care"})
    client.get("/healthz")
    assert batches.waiting == 1, "not yet too old"

    settings.SEARCH_LOG_BATCH_SECONDS = 0
    client.get("/healthz")

    assert batches.waiting == 0
    assert SearchLog.objects.get().query == "home care"


def test_a_batch_that_cannot_be_written_is_kept_for_the_next_try(
    indexed, search_backend, batches, client, monkeypatch, caplog
):
    from search import services

    def broken(rows):
        return "INSERT INTO no_such_table VALUES (1)"

    with monkeypatch.context() as patched:
        patched.setattr(services, "_log_insert_sql", broken)
        for query in ("home care", "lunch", "transport"):
            page = client.get("/find/", {"q": query})
            assert page.status_code == 200

    assert "3 search log rows not written; kept for the next try" in caplog.text
    assert "Search log row not written" in caplog.text
    assert batches.waiting == 3
    assert not SearchLog.objects.exists()

    client.get("/find/", {"q": "befriending"})

    assert batches.waiting == 0
    assert SearchLog.objects.count() == 4


def test_at_most_so_many_rows_wait_after_failed_writes(
    indexed, search_backend, batches, settings, client, monkeypatch, caplog
):
    from search import services

    settings.SEARCH_LOG_BATCH_ROWS = 2
    settings.SEARCH_LOG_MAX_WAITING = 3
    monkeypatch.setattr(services, "_log_insert_sql", lambda rows: "INSERT INTO no_such_table")
    for query in ("one", "two", "three", "four", "five"):
        client.get("/find/", {"q": query})

    assert batches.waiting == 3
    assert "search log rows dropped: too many waiting" in caplog.text
    monkeypatch.undo()
    settings.SEARCH_LOG_BATCH_ROWS = 3
    services.search_log_flush()
    assert sorted(SearchLog.objects.values_list("query", flat=True)) == ["five", "four", "three"]
