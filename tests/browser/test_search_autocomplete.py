"""The search box's suggestions in headless Chromium: GOV.UK accessible autocomplete.

With JavaScript the box offers categories and names as someone types (axe-clean
with the list open) and a choice goes into the ordinary GET form; without
JavaScript the same box is a plain search input.
"""

import re

import pytest
from playwright.sync_api import expect

from search.services import search_index_rebuild
from tests.browser.conftest import assert_no_axe_violations, submit
from tests.search.factories import make_organisation, make_service

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def directory(embedded_default):
    make_service(
        "Hendon Lunch Club",
        organisation=make_organisation("Hendon Community Association", slug="hendon-ca"),
        category="meals",
        price_pence=600,
        unit="meal",
        postcode="NW4 4BE",
    )
    make_service("Church End Morning Visits", price_pence=2350, postcode="N3 1AA")
    search_index_rebuild()


def test_typing_offers_suggestions_and_a_choice_searches(browser_page, directory):
    page = browser_page
    page.goto("/find/")
    box = page.get_by_role("combobox", name="What are you looking for?")
    box.press_sequentially("lunc", delay=40)

    options = page.get_by_role("listbox").get_by_role("option")
    # Exactly these options, in this order, once the suggestions have arrived.
    expect(options).to_have_text(
        ["Meals and lunch clubs", "Hendon Lunch Club"], use_inner_text=True
    )
    expect(box).to_have_attribute("maxlength", "100")
    expect(box).to_have_attribute("aria-describedby", re.compile("q-hint"))
    assert_no_axe_violations(page, context="search box with suggestions open")

    options.filter(has_text="Hendon Lunch Club").click()
    expect(box).to_have_value("Hendon Lunch Club")
    submit(page, "Search", exact=True)

    expect(page.locator("#results-heading")).to_have_text("1 result")
    expect(page).to_have_url(re.compile(re.escape("q=Hendon+Lunch+Club")))
    assert_no_axe_violations(page, context="results after choosing a suggestion")


def test_without_javascript_the_box_is_a_plain_search_input(no_js_page, directory):
    page = no_js_page
    page.goto("/find/")
    box = page.get_by_label("What are you looking for?")
    expect(box).to_have_attribute("type", "search")
    box.fill("lunch")
    submit(page, "Search", exact=True)

    expect(page.locator("#results-heading")).to_have_text("1 result")
    expect(page).to_have_url(re.compile("q=lunch"))
    # axe-core needs JavaScript: the same page is checked in the test above.
