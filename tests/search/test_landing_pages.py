"""Wagtail landing pages per category and per area show live search results."""

import re

import pytest

from cms.content import load_starter_content
from cms.directory_pages import AreaLandingPage, CategoryLandingPage
from cms.models import HomePage

pytestmark = pytest.mark.django_db


def _home():
    load_starter_content()
    return HomePage.objects.get()


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_a_category_page_shows_its_editable_intro_over_live_results(
    indexed, search_backend, client
):
    page = _home().add_child(
        instance=CategoryLandingPage(
            title="Home care in Barnet",
            slug="home-care",
            category="home_care",
            intro="<p>Help at home, your way.</p>",
        )
    )

    response = client.get(page.url)

    text = _text(response)
    assert response.status_code == 200
    assert "Help at home, your way." in text
    assert "3 services" in text
    assert "Morning Call Home Care" in text and "Friern Barnet Lunch Club" not in text
    assert "/find/?category=home_care&amp;sort=rating" in response.content.decode()


def test_an_area_page_lists_nearby_services_and_their_types(indexed, search_backend, client):
    page = _home().add_child(
        instance=AreaLandingPage(
            title="Care and support in Hendon",
            slug="hendon",
            postcode_district="NW4",
            place_name="Hendon",
            distance_miles=1,
            intro="<p>Services in and around Hendon.</p>",
        )
    )

    response = client.get(page.url)

    text = _text(response)
    assert "Services in and around Hendon." in text
    assert "Hendon Day Centre" in text
    assert "Day opportunities (1)" in text
    assert "Enfield Short Breaks" not in text
