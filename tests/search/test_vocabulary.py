"""The database fallback's typo rule: Elasticsearch's fuzziness AUTO, in Python."""

import pytest

from search.vocabulary import corrections, edit_budget, edit_distance


@pytest.mark.parametrize(
    ("word", "budget"), [("pa", 0), ("day", 1), ("hendn", 1), ("moring", 2), ("respite", 2)]
)
def test_edit_budget_follows_elasticsearch_auto(word, budget):
    assert edit_budget(word) == budget


@pytest.mark.parametrize(
    ("left", "right", "distance"),
    [
        ("hendon", "hendon", 0),
        ("hendn", "hendon", 1),  # a letter left out
        ("clbu", "club", 1),  # two letters swapped count once, as in Elasticsearch
        ("enfeild", "enfield", 1),
        ("moring", "morning", 1),
        ("centr", "centre", 1),
        ("kitten", "sitting", 3),
    ],
)
def test_edit_distance(left, right, distance):
    assert edit_distance(left, right, 5) == distance


def test_edit_distance_stops_at_the_limit():
    assert edit_distance("abcdef", "uvwxyz", 2) == 3
    assert edit_distance("a", "abcdefgh", 2) == 3


@pytest.mark.django_db
def test_corrections_come_from_the_indexed_words(directory, embedded_default):
    from search.services import search_index_rebuild

    search_index_rebuild()

    assert "hendon" in corrections("hendn")
    assert "hendon" not in corrections("hendon")  # the word itself is matched anyway
    assert corrections("pz") == ()  # two letters: no mistakes allowed
    assert corrections("xqzzyv") == ()


@pytest.mark.django_db
def test_a_rebuild_forgets_words_no_service_uses(directory, embedded_default):
    from search.models import SearchTerm
    from search.services import search_index_rebuild

    search_index_rebuild()
    assert SearchTerm.objects.filter(term="hendon").exists()
    directory["day"].unpublish()
    search_index_rebuild()

    assert not SearchTerm.objects.filter(term="hendon").exists()
    assert "hendon" not in corrections("hendn")
