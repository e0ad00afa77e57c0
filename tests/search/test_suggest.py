"""Autocomplete: /find/suggest answers names and categories as JSON, on both backends."""

import socket

import pytest

from search.suggest import category_suggestions

pytestmark = pytest.mark.django_db


def test_suggest_gives_names_and_categories(indexed, search_backend, client):
    response = client.get("/find/suggest", {"q": "lun"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert "Friern Barnet Lunch Club" in data["suggestions"]
    assert data["categories"] == [
        {"value": "meals", "label": "Meals and lunch clubs", "href": "/find/?category=meals"}
    ]


def test_suggest_completes_any_word_of_a_name_on_both_backends(indexed, search_backend, client):
    data = client.get("/find/suggest", {"q": "Hend"}).json()

    assert "Hendon Day Centre" in data["suggestions"]
    assert "Friern Barnet Lunch Club" not in data["suggestions"]


def test_the_older_address_answers_the_same(indexed, search_backend, client):
    assert client.get("/find/autocomplete", {"q": "lun"}).json() == (
        client.get("/find/suggest", {"q": "lun"}).json()
    )


@pytest.mark.parametrize("q", ["", "l", "  l  "])
def test_fewer_than_two_characters_suggest_nothing(client, embedded_default, q):
    response = client.get("/find/suggest", {"q": q})

    assert response.status_code == 200
    assert response.json() == {"suggestions": [], "categories": []}


def test_more_than_100_characters_is_a_clear_error(client, embedded_default):
    response = client.get("/find/suggest", {"q": "care " * 30})

    assert response.status_code == 400
    assert response.json()["error"] == "Type at most 100 characters to get suggestions."


def test_only_get(client, embedded_default):
    assert client.post("/find/suggest", {"q": "lunch"}).status_code == 405


@pytest.mark.parametrize(
    ("prefix", "values"),
    [
        ("home", ["home_care"]),
        ("resp", ["short_breaks"]),  # people say "respite"
        ("day", ["day_opportunities"]),
        ("lunch", ["meals"]),
        ("zz", []),
    ],
)
def test_categories_match_a_word_of_the_name_or_a_word_people_use(prefix, values):
    assert [category["value"] for category in category_suggestions(prefix=prefix)] == values


def _closed_port() -> int:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        return listener.getsockname()[1]


def test_names_not_working_when_elasticsearch_is_down_is_a_503_with_a_reason(
    settings, client, caplog
):
    settings.ELASTICSEARCH_URL = f"http://127.0.0.1:{_closed_port()}"

    response = client.get("/find/suggest", {"q": "lunch"})

    assert response.status_code == 503
    assert response["Cache-Control"] == "no-store"
    data = response.json()
    assert data["error"] == "Name suggestions are not working at the moment. You can still search."
    assert data["suggestions"] == []
    assert [category["value"] for category in data["categories"]] == ["meals"]
    assert "Elasticsearch search failed" in caplog.text


@pytest.mark.elasticsearch
def test_an_error_answer_from_elasticsearch_is_a_503_too(use_elasticsearch, es_index, client):
    # es_index dropped the alias: Elasticsearch answers 404 index_not_found.
    response = client.get("/find/suggest", {"q": "lun"})

    assert response.status_code == 503
    assert response.json()["suggestions"] == []
