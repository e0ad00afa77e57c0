"""Journey 1 in a real browser: search near N3, filter, open a profile, shortlist, compare.

Run with JavaScript off (every step is a link or a form) and checked with axe-core
on each page.
"""

import re

import pytest
from playwright.sync_api import expect

from cms.content import load_starter_content
from search.services import search_index_rebuild
from tests.browser.conftest import assert_no_axe_violations, click_through, follow, submit
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
    submit(page, "Search", exact=True)
    expect(page.locator("#results-heading")).to_have_text("3 results within 5 miles of N3 2SB")
    check_accessibility(page, context="search results")

    page.get_by_label("Maximum price, in pounds").fill("25")
    page.get_by_label("Takes the prepayment card").check()
    page.get_by_label("Has vacancies now").check()
    submit(page, "Apply filters")
    expect(page.locator("#results-heading")).to_have_text("2 results within 5 miles of N3 2SB")
    expect(page).to_have_url(re.compile("max_price=25"))
    expect(page).to_have_url(re.compile("card=1"))
    expect(page.locator("main")).not_to_contain_text("Premier Live-in Care")
    check_accessibility(page, context="filtered results")

    card = page.locator("li.app-provider-card", has_text="Finchley Care at Home")
    click_through(card.get_by_role("button", name="Add to shortlist"))
    expect(page.locator("main")).to_contain_text("Finchley Care at Home is on your shortlist")

    follow(page, "Church End Morning Visits")
    expect(page.locator("h1")).to_have_text("Church End Home Care Ltd")
    # The words sit in separate cells: compare the text as laid out, whitespace collapsed.
    expect(page.locator("main")).to_contain_text(
        "CQC rating Good Published 1 June 2025", use_inner_text=True
    )
    check_accessibility(page, context="provider profile")
    # Waits for the shortlist's answer: going on before it arrives would cancel the POST.
    click_through(
        page.locator("section", has_text="Church End Morning Visits").get_by_role(
            "button", name="Add to shortlist"
        )
    )

    page.goto("/shortlist/")
    expect(page.locator("h1")).to_have_text("Your shortlist")
    expect(page.locator("caption")).to_contain_text("2 services")
    expect(page.locator("#share-url")).to_have_value(
        re.compile(re.escape("/shortlist/shared/?ids="))
    )
    check_accessibility(page, context="shortlist")

    follow(page, "Compare side by side")
    expect(page.locator("h1")).to_have_text("Compare services")
    table = page.locator("table.app-compare-table")
    expect(table).to_contain_text("£22.00 per hour")
    expect(table).to_contain_text("£23.50 per hour")
    check_accessibility(page, context="compare")

    page.goto(page.locator("#share-url").input_value())
    expect(page.locator("main")).to_contain_text("Church End Morning Visits")


def test_find_filter_shortlist_and_compare_with_axe_clean_pages(browser_page, directory):
    _journey(browser_page, assert_no_axe_violations)


def test_the_same_journey_works_without_javascript(no_js_page, directory):
    # axe-core needs JavaScript, so this run checks only that every step is a link or a form.
    _journey(no_js_page, lambda page, context: None)
