"""A monitoring officer sets up a budget and issues a card, in a real browser: every page axe-clean."""

from datetime import timedelta

import pytest

from django.utils import timezone

from marketplace.accounts.roles import Role
from marketplace.budgets.models import Card, CardScheme, CardStatus, PersonalBudget
from tests.browser.conftest import assert_no_axe_violations, sign_in_through_the_page
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
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Kamala Shah").click()
    assert page.locator("h1").inner_text() == "Kamala Shah"
    assert_no_axe_violations(page, context="a person with no budget")

    page.get_by_role("link", name="Set up a new budget").click()
    assert_no_axe_violations(page, context="set up a budget")
    # A mistake first: the error summary names it and the page stays accessible.
    page.get_by_label("Annual amount, in pounds").fill("lots")
    page.get_by_role("button", name="Set up budget").click()
    summary = page.locator(".govuk-error-summary")
    assert "Enter the annual amount in pounds" in summary.inner_text()
    assert "Enter the start date." in summary.inner_text()
    assert_no_axe_violations(page, context="set up a budget, with errors")

    page.get_by_label("Annual amount, in pounds").fill("13,000")
    page.get_by_label("Every 4 weeks").check()
    _fill_date(page, "Start", today - timedelta(days=3))
    _fill_date(page, "End", today + timedelta(days=361))
    page.get_by_label("Older people (65 and over)").check()
    page.get_by_label("Direct payment", exact=True).check()
    page.get_by_label("Outcomes").fill("Stay living at home")
    page.get_by_label("Home care").check()
    page.get_by_role("button", name="Set up budget").click()
    assert (
        "Budget set up for Kamala Shah" in page.locator(".govuk-notification-banner").inner_text()
    )
    assert_no_axe_violations(page, context="a person with a budget")
    budget = PersonalBudget.objects.get(budget_holder__council_reference="BAR-100002")
    assert budget.annual_amount_pence == 1_300_000
    assert budget.support_plan.allowed_categories == ["home_care"]

    page.get_by_role("link", name="Change what the support plan allows").click()
    assert_no_axe_violations(page, context="change the support plan")
    page.get_by_role("link", name="Back to Kamala Shah's budgets").click()

    page.get_by_role("link", name="Issue a card").click()
    assert_no_axe_violations(page, context="issue a card")
    page.get_by_label("Virtual card").check()
    page.get_by_label("Email address for the card").fill("kamala@example.org")
    page.get_by_role("button", name="Issue card").click()
    card = Card.objects.get(budget=budget)
    assert card.scheme == CardScheme.STRIPE and card.reference.startswith("ic_")
    assert (
        f"Card ending {card.last4} issued"
        in page.locator(".govuk-notification-banner").inner_text()
    )
    assert_no_axe_violations(page, context="a person with a card")

    assert card.status == CardStatus.ACTIVE
    page.get_by_role("link", name=f"Freeze card ending {card.last4}").click()
    assert_no_axe_violations(page, context="freeze a card")
    page.get_by_role("button", name="Freeze card").click()
    card.refresh_from_db()
    assert card.status == CardStatus.INACTIVE
    assert "Frozen" in page.locator("table").inner_text()


def test_the_budget_screens_work_without_javascript(no_js_page, live_server, stripe_settings):
    today = timezone.localdate()
    BudgetHolderFactory(full_name="Doreen Walker", council_reference="BAR-109001")
    officer = user_with_role(Role.MONITORING_OFFICER)
    page = no_js_page
    sign_in_through_the_page(page, officer, PASSWORD)
    page.goto("/budgets/manage/?q=Doreen")
    page.get_by_role("link", name="Doreen Walker").click()
    page.get_by_role("link", name="Set up a new budget").click()
    page.get_by_label("Annual amount, in pounds").fill("15600")
    page.get_by_label("Every week").check()
    _fill_date(page, "Start", today)
    _fill_date(page, "End", today + timedelta(days=364))
    page.get_by_label("Direct payment", exact=True).check()
    page.get_by_role("button", name="Set up budget").click()
    assert "Budget set up for Doreen Walker" in page.content()
    page.get_by_role("link", name="Issue a card").click()
    page.get_by_label("Physical card").check()
    page.get_by_role("button", name="Issue card").click()
    card = Card.objects.get(budget__budget_holder__council_reference="BAR-109001")
    assert f"Card ending {card.last4} issued" in page.content()
    page.get_by_role("link", name=f"Cancel card ending {card.last4}").click()
    page.get_by_role("button", name="Cancel card").click()
    card.refresh_from_db()
    assert card.status == CardStatus.CANCELED
