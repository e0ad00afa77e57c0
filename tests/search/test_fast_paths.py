"""The results and profile pages' fast paths say what the shared templates say, and the
related-advice cache forgets its answers when an editor changes the advice pages."""

import re

import pytest

from django.core.cache import cache
from django.template.loader import render_to_string
from django.test import RequestFactory

pytestmark = pytest.mark.django_db


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def _cards(html: str) -> list[str]:
    return [
        _text(card) for card in re.findall(r'<li class="app-provider-card">.*?</form>', html, re.S)
    ]


def test_result_cards_read_as_the_shared_card_template_does(directory, embedded_default, client):
    from search.selectors import search_services
    from search.services import search_index_rebuild

    search_index_rebuild()
    params = {"q": "care", "postcode": "N3 2SB", "distance": "25"}
    _, result = search_services(params=params)
    assert result.items, "the directory fixture should give some results"
    request = RequestFactory().get("/find/", params)
    expected = [
        _text(
            render_to_string(
                "search/includes/result_card.html",
                {"hit": hit, "shortlist": set(), "request": request},
            )
        )
        for hit in result.items
    ]

    shown = _cards(client.get("/find/", params).content.decode())

    assert shown == expected
    assert any("miles away" in card for card in shown)
    assert any("Vacancies: 3 (confirmed 1 November 2026)" in card for card in shown)


def test_a_shortlisted_service_offers_removal_on_results_and_profile(
    directory, embedded_default, client
):
    from search.services import search_index_rebuild

    search_index_rebuild()
    service = directory["morning"]
    client.post("/shortlist/change", {"service": service.pk, "action": "add"})

    results = client.get("/find/", {"q": "Morning Call"}).content.decode()
    profile = client.get(f"/providers/{service.organisation.slug}/").content.decode()

    for page in (results, profile):
        assert f'Remove from shortlist<span class="govuk-visually-hidden">: {service.name}' in page
        assert 'name="next" value="/' in page


def test_profile_shows_category_and_temporary_closure(directory, embedded_default, client):
    service = directory["morning"]
    service.status = "temporarily closed"
    service.save()

    text = _text(client.get(f"/providers/{service.organisation.slug}/").content.decode())

    assert "Type of support Home care" in text
    assert "Temporarily closed" in text


def _advice_page(title: str, slug: str):
    from wagtail.models import Page

    from cms.models import HomePage, InformationPage

    home = HomePage.objects.first() or Page.objects.get(depth=1).add_child(
        instance=HomePage(title="Home", slug="home-advice-test", intro="Welcome")
    )
    return home.add_child(
        instance=InformationPage(
            title=title,
            slug=slug,
            summary="About paying for care.",
            body=[("paragraph", "<p>Paying with your prepayment card.</p>")],
        )
    )


def test_related_advice_is_read_once_then_served_from_the_cache(
    embedded_default, django_assert_num_queries
):
    from search.advice import related_advice_for

    cache.clear()
    _advice_page("Paying with your card", "card-pay")
    first = related_advice_for(query="card")

    with django_assert_num_queries(0):
        again = related_advice_for(query="card")

    assert again == first
    assert [page["title"] for page in first] == ["Paying with your card"]
    assert first[0]["summary"] == "About paying for care."


def test_related_advice_forgets_pages_that_are_unpublished_renamed_or_deleted(
    embedded_default,
):
    from search.advice import related_advice_for

    cache.clear()
    page = _advice_page("Paying with your card", "card-pay")
    assert [p["title"] for p in related_advice_for(query="card")] == ["Paying with your card"]

    page.title = "Using your prepayment card"
    page.save_revision().publish()
    assert [p["title"] for p in related_advice_for(query="card")] == ["Using your prepayment card"]

    page.unpublish()
    assert related_advice_for(query="card") == []

    page.refresh_from_db()
    page.save_revision().publish()
    assert len(related_advice_for(query="card")) == 1
    page.delete()
    assert related_advice_for(query="card") == []


def test_related_advice_on_the_results_page_follows_a_new_page(embedded_default, client):
    cache.clear()
    assert "Related advice" not in _text(client.get("/find/", {"q": "card"}).content.decode())

    _advice_page("Paying with your card", "card-pay")

    assert "Paying with your card" in _text(client.get("/find/", {"q": "card"}).content.decode())


def test_facet_options_are_escaped_and_marked_as_the_template_loop_did():
    from django.template import engines

    from search.presenters import facet_options_html
    from search.results import FacetValue

    facets = {
        "language": [
            FacetValue("polish", "Polish", 12, True),
            FacetValue("a&b", '<Sign> & "language"', 1200, False),
        ],
        "sector": [],
    }
    loop = engines["django"].from_string(
        '{% for option in options %}<option value="{{ option.value }}"{% if option.selected %}'
        " selected{% endif %}>{{ option.label }} ({{ option.count }})</option>{% endfor %}"
    )

    html = facet_options_html(facets)

    assert html["language"] == loop.render({"options": facets["language"]})
    assert "&lt;Sign&gt; &amp; &quot;language&quot; (1200)" in html["language"]
    assert html["sector"] == ""


@pytest.mark.parametrize(
    "query",
    [
        "",
        "page=3",
        "q=home+care&page=2&postcode=N3+2SB",
        "q=caf%C3%A9+%26+more&day=monday&day=friday",
        "page=2&page=4&sort=price",
        "q=%3Cb%3E&card=1&vacancies=",
    ],
)
def test_page_links_are_the_query_strings_query_transform_wrote(query):
    """The links written once per parameter are what QueryDict.urlencode writes for the
    query with ``page`` changed (as the query_transform tag did before it shared them)."""
    from cms.templatetags.govuk import query_link_maker, query_transform

    request = RequestFactory().get(f"/find/?{query}")
    link = query_link_maker(request.GET, "page")

    for number in (1, 2, 3, 17):
        params = request.GET.copy()
        if number > 1:
            params["page"] = number
        else:
            params.pop("page", None)
        expected = f"?{params.urlencode()}"
        assert link(number if number > 1 else None) == expected
        tag = query_transform({"request": request}, page=number if number > 1 else None)
        assert tag == expected


def test_pagination_marks_the_current_page_and_escapes_its_links():
    from search.presenters import pagination_html

    html = pagination_html(
        {
            "items": [
                {"number": 1, "href": "?q=a%26b", "current": False},
                {"ellipsis": True},
                {"number": 7, "href": "?q=a%26b&page=7", "current": True},
                {"number": 8, "href": "?q=a%26b&page=8", "current": False},
            ],
            "previous": "?q=a%26b&page=6",
            "next": "?q=a%26b&page=8",
        }
    )

    assert html.startswith('\n<nav class="govuk-pagination app-print-hide"')
    assert 'href="?q=a%26b&amp;page=6" rel="prev"' in html
    assert 'href="?q=a%26b&amp;page=8" rel="next"' in html
    assert (
        '<li class="govuk-pagination__item govuk-pagination__item--current">'
        '<a class="govuk-link govuk-pagination__link" href="?q=a%26b&amp;page=7" '
        'aria-label="Page 7" aria-current="page">7</a></li>'
    ) in html
    assert html.count('aria-current="page"') == 1
    assert html.count("govuk-pagination__item--ellipses") == 1
    assert _text(html).split() == ["Previous", "page", "1", "&ctdot;", "7", "8", "Next", "page"]
    assert pagination_html(None) == "\n"
