"""Journeys 2 and 4 in a real browser: a proxy pays a provider; a monitoring officer closes a surplus case."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from django.utils import timezone

from commissioning.monitoring.models import CaseStatus, MonitoringCase, Outcome, Rule
from commissioning.monitoring.services import monitoring_rules_run
from marketplace.accounts.roles import Role
from marketplace.budgets.models import AccountKind, EntryKind, JournalEntry
from marketplace.budgets.services import budget_loads_post_due
from marketplace.payments.models import InvoiceStatus, Payment, PaymentStatus
from marketplace.payments.services import connected_account_start, invoice_create
from marketplace.providers.taxonomy import ServiceCategory
from tests.browser.conftest import (
    assert_no_axe_violations,
    follow,
    sign_in_through_the_page,
    submit,
)
from tests.factories import (
    PASSWORD,
    BudgetHolderFactory,
    DelegationFactory,
    MembershipFactory,
    OrganisationFactory,
    user_with_role,
)
from tests.marketplace.budgets.factories import make_budget

pytestmark = [pytest.mark.browser, pytest.mark.stripe_mock, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def site():
    from cms.content import load_starter_content

    return load_starter_content()


def test_a_proxy_pays_a_providers_invoice_and_the_provider_sees_the_remittance(
    browser_page, chromium, live_server, stripe_settings
):
    today = timezone.localdate()
    kamala = BudgetHolderFactory(full_name="Kamala Shah", council_reference="BAR-100002")
    make_budget(
        budget_holder=kamala,
        starts_on=today - timedelta(days=10),
        ends_on=today + timedelta(days=355),
    )
    budget_loads_post_due(on=today)
    priya = DelegationFactory(budget_holder=kamala, may_pay=True).proxy
    agency = OrganisationFactory(name="Bright Care Home Care")
    staff = MembershipFactory(organisation=agency).user
    connected_account_start(organisation=agency)
    invoice = invoice_create(
        organisation=agency,
        budget_holder=kamala,
        provider_reference="HC-0001",
        description="Help getting up in the morning: 5 visits",
        category=ServiceCategory.HOME_CARE,
        amount_pence=11_000,
        due_on=today + timedelta(days=14),
    )

    page = browser_page
    sign_in_through_the_page(page, priya, PASSWORD)
    page.goto(f"/budgets/{kamala.pk}/invoices/")
    assert_no_axe_violations(page, context="invoices to pay")
    follow(page, "Pay Bright Care Home Care HC-0001")
    expect(page.locator("h1")).to_have_text("Check before you pay")
    expect(page.locator(".govuk-summary-list")).to_contain_text("£110.00")
    assert_no_axe_violations(page, context="check before you pay")
    submit(page, "Pay £110.00")
    expect(page.locator("h1")).to_have_text("Payment made")
    assert_no_axe_violations(page, context="payment made")

    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.PAID and payment.stripe_transfer_id.startswith("tr_")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    funds = kamala.personal_budgets.get().accounts.get(kind=AccountKind.HOLDER_FUNDS).balance_pence
    assert funds == 100_000 - 11_000

    provider_context = chromium.new_context(base_url=live_server.url)
    provider_page = provider_context.new_page()
    try:
        sign_in_through_the_page(provider_page, staff, PASSWORD)
        provider_page.goto("/provider/remittances/")
        expect(provider_page.locator("h1")).to_have_text("Remittances")
        table = provider_page.locator("table")
        expect(table).to_contain_text(payment.stripe_transfer_id)
        expect(table).to_contain_text("BAR-100002")
        expect(table).not_to_contain_text("Kamala")
        assert_no_axe_violations(provider_page, context="remittances")
    finally:
        provider_context.close()


def test_a_monitoring_officer_recovers_part_of_a_surplus_and_closes_the_case(browser_page):
    today = timezone.localdate()
    budget = make_budget(
        annual_amount_pence=270_400,
        starts_on=today - timedelta(weeks=20),
        ends_on=today + timedelta(days=200),
    )
    budget_loads_post_due(on=today)
    monitoring_rules_run(rules=[Rule.SURPLUS])
    case = MonitoringCase.objects.get(rule=Rule.SURPLUS)
    officer = user_with_role(Role.MONITORING_OFFICER)
    before = budget.accounts.get(kind=AccountKind.HOLDER_FUNDS).balance_pence

    page = browser_page
    sign_in_through_the_page(page, officer, PASSWORD)
    page.goto("/monitoring/")
    assert_no_axe_violations(page, context="case queue")
    follow(page, case.reference)
    expect(page.locator("main")).to_contain_text("weeks of funding")
    assert_no_axe_violations(page, context="case detail")

    follow(page, "Recover money")
    expect(page.locator("h1")).to_have_text("Recover money")
    page.get_by_label("How much to recover, in pounds").fill("200")
    page.get_by_label("Reason").fill("Unspent while in hospital")
    submit(page, "Continue")
    expect(page.locator("h1")).to_have_text("Check before recovering money")
    assert_no_axe_violations(page, context="confirm clawback")
    submit(page, "Recover £200.00")
    expect(page.locator(".govuk-notification-banner, main").first).to_contain_text(
        "£200.00 recovered"
    )

    follow(page, "Close case")
    expect(page.locator("h1")).to_have_text("Close this case")
    page.get_by_label("Money recovered").check()
    page.get_by_label("Summary of the outcome").fill(
        "Agreed with the family: £200 recovered, the rest kept for respite."
    )
    assert_no_axe_violations(page, context="close case")
    submit(page, "Close case")
    expect(page.locator("h1")).to_have_text("Cases")

    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED and case.outcome == Outcome.CLAWBACK
    assert JournalEntry.objects.filter(kind=EntryKind.CLAWBACK).count() == 1
    assert budget.accounts.get(kind=AccountKind.HOLDER_FUNDS).balance_pence == before - 20_000
