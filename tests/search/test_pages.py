"""The public directory pages, used as a visitor without JavaScript would: links and forms."""

import json
import re

import pytest

from search.shortlist import SESSION_KEY

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_search_results_page_filters_with_a_plain_get_form(indexed, search_backend, client):
    response = client.get(
        "/find/",
        {
            "q": "help getting up in the morning",
            "postcode": "N3 2SB",
            "max_price": "25",
            "card": "1",
        },
    )

    assert response.status_code == 200
    text = _text(response)
    assert "2 results within 5 miles of N3 2SB" in text
    assert "Morning Call Home Care" in text and "Edgware Carers Co-operative" in text
    assert "Premier Live-in Care" not in text
    assert "From £23.50 per hour" in text
    assert "Takes the prepayment card" in text
    assert "Vacancies: 3" in text
    assert "CQC rating: Good" in text
    content = response.content.decode()
    assert '<form id="search-form" method="get"' in content
    assert '<option value="home_care" selected' not in content
    assert "Home care (2)" in text


def test_results_show_related_advice_for_card_searches(embedded_default, client):
    from wagtail.models import Page

    from cms.models import HomePage, InformationPage

    home = HomePage.objects.first() or Page.objects.get(depth=1).add_child(
        instance=HomePage(title="Home", slug="home-test", intro="Welcome")
    )
    home.add_child(
        instance=InformationPage(
            title="Using your personal budget card",
            slug="card-guide",
            summary="Paying with your prepayment card.",
            body=[("paragraph", "<p>Your card works like a debit card.</p>")],
        )
    )

    response = client.get("/find/", {"q": "card"})

    assert "Related advice" in _text(response)
    assert "Using your personal budget card" in _text(response)


def test_pagination_links_keep_the_search(directory, embedded_default, client):
    from search.services import search_index_rebuild
    from tests.search.factories import make_service

    for number in range(21):
        make_service(f"Extra Home Care {number:02d}")
    search_index_rebuild()

    response = client.get("/find/", {"category": "home_care"})

    content = response.content.decode()
    assert 'class="govuk-pagination' in content
    assert 'href="?category=home_care&amp;page=2"' in content


def test_autocomplete_answers_json(indexed, search_backend, client):
    response = client.get("/find/autocomplete", {"q": "lun"})

    assert response.status_code == 200
    assert "Friern Barnet Lunch Club" in json.loads(response.content)["suggestions"]


def test_profile_shows_services_prices_vacancies_and_cqc_dates(indexed, search_backend, client):
    response = client.get("/providers/barnet-homecare/")

    assert response.status_code == 200
    text = _text(response)
    assert "Barnet Homecare Partners" in text
    assert "Morning Call Home Care" in text and "Premier Live-in Care" in text
    assert "£23.50 per hour" in text
    assert "3 places free Confirmed 1 November 2026" in text
    assert "Good Published 1 June 2025" in text
    assert "Last checked" in text
    assert "Personalisation Impact Assessment" in text


def test_an_unpublished_provider_has_no_profile(indexed, search_backend, client):
    organisation = indexed["lunch"].organisation
    organisation.live = False
    organisation.save()

    assert client.get(f"/providers/{organisation.slug}/").status_code == 404
    assert client.get("/providers/no-such-provider/").status_code == 404


def test_shortlist_add_remove_and_compare_without_signing_in(indexed, search_backend, client):
    morning, lunch = indexed["morning"], indexed["lunch"]

    client.post("/shortlist/change", {"service": morning.pk, "action": "add", "next": "/find/"})
    response = client.post("/shortlist/change", {"service": lunch.pk, "action": "add"}, follow=True)

    assert client.session[SESSION_KEY] == [morning.pk, lunch.pk]
    text = _text(response)
    assert "Friern Barnet Lunch Club is on your shortlist" in text
    assert "Morning Call Home Care" in text
    share = re.search(
        r'id="share-url" type="text" value="([^"]+)"', response.content.decode()
    ).group(1)
    assert share.endswith(f"/shortlist/shared/?ids={morning.pk},{lunch.pk}")

    compare = client.get("/compare/")
    compare_text = _text(compare)
    assert "2 services side by side" in compare_text
    assert "£23.50 per hour" in compare_text and "£6.00 per meal" in compare_text
    assert "app-compare-table" in compare.content.decode()

    client.post("/shortlist/change", {"service": morning.pk, "action": "remove"})
    assert client.session[SESSION_KEY] == [lunch.pk]


def test_a_shared_shortlist_opens_for_someone_else(indexed, search_backend, client):
    morning, day = indexed["morning"], indexed["day"]

    response = client.get("/shortlist/shared/", {"ids": f"{morning.pk},{day.pk},999999,abc"})

    text = _text(response)
    assert "A shared shortlist" in text
    assert "Morning Call Home Care" in text and "Hendon Day Centre" in text
    assert "2 services" in text


def test_adding_an_unknown_service_to_the_shortlist_is_a_404(embedded_default, client):
    assert (
        client.post("/shortlist/change", {"service": "424242", "action": "add"}).status_code == 404
    )


def test_shortlist_redirect_stays_on_this_site(indexed, search_backend, client):
    response = client.post(
        "/shortlist/change",
        {"service": indexed["lunch"].pk, "action": "add", "next": "https://evil.example/"},
    )

    assert response["Location"] == "/shortlist/"
