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
