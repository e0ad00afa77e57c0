"""Journey 1 in a real browser: search near N3, filter, open a profile, shortlist, compare.

Run with JavaScript off (every step is a link or a form) and checked with axe-core
on each page.
"""

import pytest

from cms.content import load_starter_content
from search.services import search_index_rebuild
from tests.browser.conftest import assert_no_axe_violations
from tests.search.factories import make_organisation, make_service

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def directory(embedded_default):
    load_starter_content()
    agency = make_organisation(
        "Church End Home Care Ltd", sector="private", slug="church-end-home-care"
    )
    make_service(
        "Church End Morning Visits",
        organisation=agency,
        description="Carers who help you get up, wash and dress in the morning.",
        price_pence=2350,
        card=True,
        vacancies=2,
        cqc_rating="Good",
        postcode="N3 1AA",
        areas=("N3",),
    )
    make_service(
        "Finchley Care at Home",
        organisation=make_organisation(
            "Finchley Carers", sector="voluntary", slug="finchley-carers"
        ),
        price_pence=2200,
        card=True,
        vacancies=1,
        postcode="N3 2SB",
    )
    make_service("Premier Live-in Care", price_pence=3100, card=False, postcode="N3 2SB")
    make_service(
        "Hendon Lunch Club", category="meals", price_pence=600, unit="meal", postcode="NW4 4BE"
    )
    search_index_rebuild()


def _journey(page, check_accessibility):
    page.goto("/find/")
    check_accessibility(page, context="empty search page")

    page.get_by_label("What are you looking for?").fill("help getting up in the morning")
    page.get_by_label("Postcode").fill("N3 2SB")
    page.get_by_role("button", name="Search", exact=True).click()
    assert page.locator("#results-heading").inner_text() == "3 results within 5 miles of N3 2SB"
    check_accessibility(page, context="search results")

    page.get_by_label("Maximum price, in pounds").fill("25")
    page.get_by_label("Takes the prepayment card").check()
    page.get_by_label("Has vacancies now").check()
    page.get_by_role("button", name="Apply filters").click()
    assert page.locator("#results-heading").inner_text() == "2 results within 5 miles of N3 2SB"
    assert "max_price=25" in page.url and "card=1" in page.url
    assert "Premier Live-in Care" not in page.locator("main").inner_text()
    check_accessibility(page, context="filtered results")

    card = page.locator("li.app-provider-card", has_text="Finchley Care at Home")
    card.get_by_role("button", name="Add to shortlist").click()
    assert "Finchley Care at Home is on your shortlist" in page.locator("main").inner_text()

    page.get_by_role("link", name="Church End Morning Visits").click()
    assert page.locator("h1").inner_text() == "Church End Home Care Ltd"
    assert "CQC rating Good Published 1 June 2025" in " ".join(
        page.locator("main").inner_text().split()
    )
    check_accessibility(page, context="provider profile")
    page.locator("section", has_text="Church End Morning Visits").get_by_role(
        "button", name="Add to shortlist"
    ).click()

    page.goto("/shortlist/")
    assert page.locator("h1").inner_text() == "Your shortlist"
    assert "2 services" in page.locator("caption").inner_text()
    assert "/shortlist/shared/?ids=" in page.locator("#share-url").input_value()
    check_accessibility(page, context="shortlist")

    page.get_by_role("link", name="Compare side by side").click()
    table = page.locator("table.app-compare-table")
    assert "£22.00 per hour" in table.inner_text() and "£23.50 per hour" in table.inner_text()
    check_accessibility(page, context="compare")

    page.goto(page.locator("#share-url").input_value())
    assert "Church End Morning Visits" in page.locator("main").inner_text()


def test_find_filter_shortlist_and_compare_with_axe_clean_pages(browser_page, directory):
    _journey(browser_page, assert_no_axe_violations)


def test_the_same_journey_works_without_javascript(no_js_page, directory):
    # axe-core needs JavaScript, so this run checks only that every step is a link or a form.
    _journey(no_js_page, lambda page, context: None)
