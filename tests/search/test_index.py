"""Elasticsearch index lifecycle: alias swaps, indexing after commit, typos, autocomplete."""

import threading

import pytest

from search.client import get_client
from search.index import alias_name, indexes_behind
from search.selectors import search_services, search_suggestions
from search.services import search_index_rebuild, services_index_catch_up
from tests.search.factories import make_service

pytestmark = [pytest.mark.elasticsearch, pytest.mark.django_db]


def _refresh():
    get_client().indices.refresh(index=alias_name())


def test_rebuild_swaps_the_alias_to_a_new_index_and_deletes_the_old(directory, es_index):
    search_index_rebuild()
    first = indexes_behind(alias_name())

    search_index_rebuild()
    second = indexes_behind(alias_name())

    assert len(first) == len(second) == 1
    assert first != second
    assert not get_client().indices.exists(index=first[0])
    _, result = search_services(params={"q": "lunch club"})
    assert [item.name for item in result.items] == ["Friern Barnet Lunch Club"]


def test_search_keeps_answering_while_the_index_is_rebuilt(directory, es_index):
    search_index_rebuild()
    totals, failures = [], []
    stop = threading.Event()

    def keep_searching():
        while not stop.is_set():
            try:
                _, result = search_services(params={"q": "lunch club"})
                totals.append(result.total)
            except Exception as error:  # noqa: BLE001 - the test reports any failure
                failures.append(error)

    searcher = threading.Thread(target=keep_searching)
    searcher.start()
    try:
        for _ in range(3):
            search_index_rebuild()
    finally:
        stop.set()
        searcher.join(timeout=30)

    assert failures == []
    assert len(totals) > 3
    assert set(totals) == {1}


def test_a_published_service_is_indexed_after_the_transaction_commits(
    directory, es_index, django_capture_on_commit_callbacks
):
    search_index_rebuild()
    service = make_service(
        "Whetstone Night Sitting", description="Someone to sit with you overnight."
    )
    service.live = False
    service.save()
    _refresh()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        service.save_revision().publish()
    _refresh()
    _, before_commit = search_services(params={"q": "night sitting"})

    for callback in callbacks:
        callback()
    _refresh()
    _, after_commit = search_services(params={"q": "night sitting"})

    assert before_commit.total == 0
    assert [item.name for item in after_commit.items] == ["Whetstone Night Sitting"]


def test_an_unpublished_service_leaves_the_index(
    indexed, search_backend, django_capture_on_commit_callbacks
):
    lunch = indexed["lunch"]

    with django_capture_on_commit_callbacks(execute=True):
        lunch.unpublish()
    if search_backend == "elasticsearch":
        _refresh()
    _, result = search_services(params={"q": "lunch club"})

    assert result.total == 0


def test_a_vacancy_confirmation_reaches_search_in_the_catch_up_sweep(indexed, search_backend):
    from marketplace.providers.models import Service

    premium = indexed["premium"]
    Service.objects.filter(pk=premium.pk).update(
        vacancies=4
    )  # as service_vacancies_update writes it
    services_index_catch_up(within_seconds=180)
    if search_backend == "elasticsearch":
        _refresh()

    _, result = search_services(params={"category": "home_care", "vacancies": "1"})

    assert premium.name in {item.name for item in result.items}


def test_typing_mistakes_still_find_the_service_on_elasticsearch(directory, es_index):
    search_index_rebuild()

    _, result = search_services(params={"q": "Hendn day centr"})

    assert [item.name for item in result.items] == ["Hendon Day Centre"]


def test_autocomplete_completes_any_word_of_a_name(indexed, search_backend):
    assert "Friern Barnet Lunch Club" in search_suggestions(prefix="lunch")
    assert "Hendon Day Centre" in search_suggestions(prefix="Hend")
    assert search_suggestions(prefix="x") == []


def test_the_rebuild_command_reports_and_swaps(directory, es_index):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("search_index", "--rebuild", stdout=out)
    call_command("search_index", "--status", stdout=out)

    assert "Indexed 7 live services." in out.getvalue()
    assert "Database fallback: 7 services." in out.getvalue()
    assert f"alias {alias_name()} -> {alias_name()}_" in out.getvalue()
