"""A monitoring officer sets up a budget and issues a card, in a real browser: every page axe-clean."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from django.utils import timezone

from marketplace.accounts.roles import Role
from marketplace.budgets.models import Card, CardScheme, CardStatus, PersonalBudget
from tests.browser.conftest import (
    assert_no_axe_violations,
    follow,
    sign_in_through_the_page,
    submit,
)
from tests.factories import PASSWORD, BudgetHolderFactory, user_with_role

pytestmark = [pytest.mark.browser, pytest.mark.stripe_mock, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def site():
    from cms.content import load_starter_content

    return load_starter_content()


def _fill_date(page, legend: str, day) -> None:
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


def test_a_monitoring_officer_sets_up_a_budget_and_issues_a_card(
    browser_page, live_server, stripe_settings
):
    today = timezone.localdate()
    BudgetHolderFactory(full_name="Kamala Shah", council_reference="BAR-100002")
    officer = user_with_role(Role.MONITORING_OFFICER)
    page = browser_page
    sign_in_through_the_page(page, officer, PASSWORD)

    page.goto("/budgets/manage/")
    assert_no_axe_violations(page, context="find a person")
    page.get_by_label("Name or council reference").fill("BAR-100002")
    submit(page, "Search")
    follow(page, "Kamala Shah")
    expect(page.locator("h1")).to_have_text("Kamala Shah")
    assert_no_axe_violations(page, context="a person with no budget")

    follow(page, "Set up a new budget")
    expect(page.locator("h1")).to_have_text("Set up a personal budget")
    assert_no_axe_violations(page, context="set up a budget")
    # A mistake first: the error summary names it and the page stays accessible.
    page.get_by_label("Annual amount, in pounds").fill("lots")
    submit(page, "Set up budget")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter the annual amount in pounds")
    expect(summary).to_contain_text("Enter the start date.")
    assert_no_axe_violations(page, context="set up a budget, with errors")

    page.get_by_label("Annual amount, in pounds").fill("13,000")
    page.get_by_label("Every 4 weeks").check()
    _fill_date(page, "Start", today - timedelta(days=3))
    _fill_date(page, "End", today + timedelta(days=361))
    page.get_by_label("Older people (65 and over)").check()
    page.get_by_label("Direct payment", exact=True).check()
    page.get_by_label("Outcomes").fill("Stay living at home")
    page.get_by_label("Home care").check()
    submit(page, "Set up budget")
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Budget set up for Kamala Shah"
    )
    assert_no_axe_violations(page, context="a person with a budget")
    budget = PersonalBudget.objects.get(budget_holder__council_reference="BAR-100002")
    assert budget.annual_amount_pence == 1_300_000
    assert budget.support_plan.allowed_categories == ["home_care"]

    follow(page, "Change what the support plan allows")
    expect(page.locator("h1")).to_have_text("Change what the support plan allows")
    assert_no_axe_violations(page, context="change the support plan")
    follow(page, "Back to Kamala Shah's budgets")
    expect(page.locator("h1")).to_have_text("Kamala Shah")

    follow(page, "Issue a card")
    expect(page.locator("h1")).to_have_text("Issue a card")
    assert_no_axe_violations(page, context="issue a card")
    page.get_by_label("Virtual card").check()
    page.get_by_label("Email address for the card").fill("kamala@example.org")
    # submit() returns once the response has arrived, so the card is in the database.
    submit(page, "Issue card")
    card = Card.objects.get(budget=budget)
    assert card.scheme == CardScheme.STRIPE and card.reference.startswith("ic_")
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        f"Card ending {card.last4} issued"
    )
    assert_no_axe_violations(page, context="a person with a card")

    assert card.status == CardStatus.ACTIVE
    follow(page, f"Freeze card ending {card.last4}")
    expect(page.locator("h1")).to_have_text(f"Freeze the card ending {card.last4}?")
    assert_no_axe_violations(page, context="freeze a card")
    submit(page, "Freeze card")
    card.refresh_from_db()
    assert card.status == CardStatus.INACTIVE
    expect(page.locator("table")).to_contain_text("Frozen")


def test_the_budget_screens_work_without_javascript(no_js_page, live_server, stripe_settings):
    today = timezone.localdate()
    BudgetHolderFactory(full_name="Doreen Walker", council_reference="BAR-109001")
    officer = user_with_role(Role.MONITORING_OFFICER)
    page = no_js_page
    sign_in_through_the_page(page, officer, PASSWORD)
    page.goto("/budgets/manage/?q=Doreen")
    follow(page, "Doreen Walker")
    follow(page, "Set up a new budget")
    page.get_by_label("Annual amount, in pounds").fill("15600")
    page.get_by_label("Every week").check()
    _fill_date(page, "Start", today)
    _fill_date(page, "End", today + timedelta(days=364))
    page.get_by_label("Direct payment", exact=True).check()
    submit(page, "Set up budget")
    expect(page.locator("main")).to_contain_text("Budget set up for Doreen Walker")
    follow(page, "Issue a card")
    page.get_by_label("Physical card").check()
    submit(page, "Issue card")
    card = Card.objects.get(budget__budget_holder__council_reference="BAR-109001")
    expect(page.locator("main")).to_contain_text(f"Card ending {card.last4} issued")
    follow(page, f"Cancel card ending {card.last4}")
    submit(page, "Cancel card")
    card.refresh_from_db()
    assert card.status == CardStatus.CANCELED
