"""The same searches give the same results on the embedded default and on Elasticsearch."""

import pytest

from search.selectors import search_services

CASES = [
    ({"q": "help getting up in the morning"}, {"morning", "premium", "edgware"}),
    ({"q": "lunch club"}, {"lunch"}),
    ({"q": "respite"}, {"enfield"}),
    ({"q": "PA"}, {"pa"}),
    ({"q": "carers", "category": "short_breaks"}, {"enfield"}),
    (
        {"category": "home_care", "max_price": "25", "card": "1", "vacancies": "1"},
        {"morning", "edgware"},
    ),
    ({"postcode": "N3 2SB", "distance": "1"}, {"morning", "premium", "pa"}),
    ({"postcode": "n3", "distance": "3"}, {"morning", "premium", "pa", "day", "lunch"}),
    ({"care_group": "learning_disability"}, {"day", "pa"}),
    ({"cqc_rating": "good"}, {"morning", "premium"}),
    ({"sector": "voluntary"}, {"lunch", "enfield"}),
    ({"language": "Polish"}, {"morning"}),
    ({"day": "saturday"}, {"morning", "enfield"}),
    ({"accessibility": "wheelchair"}, {"lunch", "day"}),
    ({"max_price": "6"}, {"lunch"}),
    ({"q": "transport"}, set()),
    # Typing mistakes: Elasticsearch's fuzziness AUTO, and the same rule in the database.
    ({"q": "Hendn day centr"}, {"day"}),
    ({"q": "moring call"}, {"morning"}),
    ({"q": "lunch clbu"}, {"lunch"}),
    ({"q": "Enfeild"}, {"enfield"}),
    ({"q": "polsh", "category": "home_care"}, {"morning"}),
    ({"q": "hendom"}, {"day"}),
    ({"q": "xqzzyv"}, set()),
    # Two letters allow no mistakes: "pz" is not "pa".
    ({"q": "pz"}, set()),
]


def _names(indexed, keys):
    return {indexed[key].name for key in keys}


@pytest.mark.django_db
@pytest.mark.parametrize(("params", "expected"), CASES, ids=[str(case[0]) for case in CASES])
def test_same_cases_give_the_same_services_on_both_backends(
    indexed, search_backend, params, expected
):
    filterset, result = search_services(params=params)

    assert not result.errors
    assert result.backend == search_backend
    assert {item.name for item in result.items} == _names(indexed, expected)
    assert result.total == len(expected)


def _facet_table(result):
    return {
        name: sorted((value.value, value.count) for value in values)
        for name, values in result.facets.items()
    }


@pytest.mark.django_db
@pytest.mark.elasticsearch
def test_facet_counts_match_between_backends(directory, settings, elasticsearch_url):
    from search.index import index_drop
    from search.services import search_index_rebuild

    params = {"postcode": "N3", "distance": "3"}
    settings.ELASTICSEARCH_URL = ""
    search_index_rebuild()
    _, database_result = search_services(params=params)
    settings.ELASTICSEARCH_URL = elasticsearch_url
    index_drop()
    try:
        search_index_rebuild()
        _, elastic_result = search_services(params=params)
    finally:
        index_drop()

    assert database_result.backend == "database" and elastic_result.backend == "elasticsearch"
    assert _facet_table(database_result) == _facet_table(elastic_result)
    assert _facet_table(database_result)["card"] == [("1", 3)]
    assert ("home_care", 2) in _facet_table(database_result)["category"]


@pytest.mark.django_db
def test_sort_by_price_orders_cheapest_first_on_both_backends(indexed, search_backend):
    _, result = search_services(params={"category": "home_care", "sort": "price"})

    assert [item.name for item in result.items] == [
        indexed["edgware"].name,
        indexed["morning"].name,
        indexed["premium"].name,
    ]
    assert [item.min_price_pence for item in result.items] == [2100, 2350, 2900]


@pytest.mark.django_db
def test_sort_by_distance_puts_the_nearest_first_on_both_backends(indexed, search_backend):
    _, result = search_services(params={"postcode": "NW4 4BE", "distance": "3", "sort": "distance"})

    names = [item.name for item in result.items]
    assert names[0] == indexed["day"].name
    distances = [item.distance_miles for item in result.items if item.distance_miles is not None]
    assert distances == sorted(distances)
    assert result.items[0].distance_miles == 0.0


@pytest.mark.django_db
def test_pages_split_results_twenty_at_a_time(directory, search_backend):
    from search.services import search_index_rebuild
    from tests.search.factories import make_service

    for number in range(23):
        make_service(f"Extra Home Care {number:02d}", price_pence=2000 + number)
    search_index_rebuild()

    _, first = search_services(params={"category": "home_care", "sort": "price"})
    _, second = search_services(params={"category": "home_care", "sort": "price", "page": "2"})

    assert first.total == second.total == 26
    assert len(first.items) == 20 and len(second.items) == 6
    assert not set(first.service_ids) & set(second.service_ids)
    assert second.page == 2 and second.page_count == 2


# Each facet counts every filter but its own: (params, facet, expected {value: count}).
FACET_CASES = [
    # Choosing home care still shows how many meals or day services there are nearby.
    (
        {"postcode": "N3", "distance": "3", "category": "home_care"},
        "category",
        {"home_care": 2, "meals": 1, "day_opportunities": 1, "personal_assistants": 1},
    ),
    # ...while the other facets count only within home care.
    (
        {"postcode": "N3", "distance": "3", "category": "home_care"},
        "sector",
        {"private": 2},
    ),
    # Two chosen facets: each one's counts apply only the other.
    (
        {"category": "home_care", "card": "1"},
        "category",
        {"home_care": 2, "meals": 1, "personal_assistants": 1},
    ),
    ({"category": "home_care", "card": "1"}, "card", {"1": 2}),
    ({"category": "home_care", "card": "1"}, "sector", {"private": 1, "social_enterprise": 1}),
    # The CQC filter is "at least": the chosen minimum still counts the others.
    (
        {"cqc_rating": "outstanding"},
        "cqc_rating",
        {"outstanding": 1, "good": 2, "requires_improvement": 3},
    ),
    ({"cqc_rating": "outstanding"}, "category", {"home_care": 1}),
    # Free text narrows every facet; a chosen value that leaves nothing stays listed with 0.
    ({"q": "lunch club", "category": "home_care"}, "category", {"home_care": 0, "meals": 1}),
    (
        {"day": "saturday", "language": "polish"},
        "day",
        dict.fromkeys(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"), 1
        ),
    ),
    ({"day": "saturday", "language": "polish"}, "language", {"english": 2, "polish": 1}),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "facet", "expected"), FACET_CASES, ids=[f"{c[0]}-{c[1]}" for c in FACET_CASES]
)
def test_each_facet_counts_every_filter_but_its_own_on_both_backends(
    indexed, search_backend, params, facet, expected
):
    _, result = search_services(params=params)

    assert not result.errors
    assert {value.value: value.count for value in result.facets[facet]} == expected
    chosen = params.get(facet)
    if chosen:
        assert [value.value for value in result.facets[facet] if value.selected] == [
            "1" if facet in {"card", "vacancies"} else chosen
        ]
