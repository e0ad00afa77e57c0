from datetime import timedelta

import pytest

from django.utils import timezone

from marketplace.budgets.services import budget_loads_post_due
from marketplace.payments.matching import merchant_index_clear
from marketplace.payments.services import connected_account_start, invoice_create
from marketplace.providers.taxonomy import ServiceCategory
from tests.factories import (
    BudgetHolderFactory,
    DelegationFactory,
    MembershipFactory,
    OrganisationFactory,
)
from tests.marketplace.budgets.factories import make_budget

WEBHOOK_SECRET = "whsec_payments_test"


@pytest.fixture(autouse=True)
def _fresh_merchant_index():
    merchant_index_clear()
    yield
    merchant_index_clear()


@pytest.fixture
def stripe_settings(stripe_settings):
    """Stripe calls go to stripe-mock (tests/conftest.py); webhooks are signed with a known secret."""
    stripe_settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    return stripe_settings


@pytest.fixture
def funded_holder(db):
    """A budget holder with an open budget (£13,000 a year) and £1,000 paid in."""
    today = timezone.localdate()
    holder = BudgetHolderFactory(
        full_name="Kamala Shah", council_reference="BAR-100002", postcode="N3 2SB"
    )
    make_budget(
        budget_holder=holder,
        starts_on=today - timedelta(days=10),
        ends_on=today + timedelta(days=355),
        approval_required_above_pence=50_000,
        allowed_categories=[ServiceCategory.HOME_CARE, ServiceCategory.MEALS],
    )
    budget_loads_post_due(on=today)
    return holder


@pytest.fixture
def provider(db, stripe_settings):
    """A provider with a staff member and a Stripe connected account made on stripe-mock."""
    organisation = OrganisationFactory(name="Bright Care Home Care")
    staff = MembershipFactory(organisation=organisation).user
    connected_account_start(organisation=organisation)
    return organisation, staff


@pytest.fixture
def proxy(funded_holder):
    return DelegationFactory(budget_holder=funded_holder, may_pay=True).proxy


@pytest.fixture
def make_invoice(funded_holder, provider):
    counter = iter(range(1, 1000))

    def build(amount_pence=12_000, category=ServiceCategory.HOME_CARE, **fields):
        organisation, staff = provider
        return invoice_create(
            organisation=organisation,
            budget_holder=funded_holder,
            provider_reference=f"INV-{next(counter):04d}",
            description="Morning visits, week 1",
            category=category,
            amount_pence=amount_pence,
            due_on=timezone.localdate() + timedelta(days=14),
            created_by=staff,
            **fields,
        )

    return build
