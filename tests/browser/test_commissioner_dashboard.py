"""A commissioner filters the demand dashboard and exports a table, in a real browser."""

from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import expect

from marketplace.accounts.roles import Role
from marketplace.providers.taxonomy import ServiceCategory
from tests.browser.conftest import assert_no_axe_violations, sign_in_through_the_page, submit
from tests.commissioning.demand.factories import buy, people, provider
from tests.factories import PASSWORD, user_with_role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def market():
    big = provider("Big Care Ltd")
    for person in people(12, postcode="N2 8AA"):
        buy(holder=person, organisation=big, amount_pence=3000, occurred_on=date(2026, 3, 4))
    for person in people(10, postcode="N3 2SB"):
        buy(
            holder=person,
            organisation=big,
            category=ServiceCategory.TRANSPORT,
            amount_pence=1500,
            occurred_on=date(2026, 3, 6),
        )


def test_commissioner_filters_the_dashboard_and_exports(browser_page, market):
    commissioner = user_with_role(Role.COMMISSIONER)
    page = browser_page
    sign_in_through_the_page(page, commissioner, PASSWORD)
    page.goto("/commissioning/?from=2026-03&to=2026-03")
    expect(page.locator("h1")).to_have_text("Demand and the market")
    assert_no_axe_violations(page, context="demand dashboard")

    page.get_by_label("Service category", exact=True).select_option("transport")
    page.get_by_label("Break spend down by", exact=True).select_option("locality")
    submit(page, "Show figures")
    table = page.locator("#by-locality-caption").locator("xpath=..")
    expect(table).to_contain_text("N3")
    expect(table).to_contain_text("£150")  # 10 x £15, rounded to the nearest £10
    expect(table).not_to_contain_text("N2")
    assert_no_axe_violations(page, context="filtered demand dashboard")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="CSV of spend by postcode district").click()
    download = download_info.value
    assert download.suggested_filename == "by-locality-2026-03-to-2026-03.csv"
    text = Path(download.path()).read_text(encoding="utf-8")
    assert "N3,150.00,10,10" in text
