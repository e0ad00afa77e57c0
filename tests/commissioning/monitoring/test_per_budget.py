"""Monitoring is per budget: a person with a new budget year has separate cases, clawbacks
and quarterly statements for each budget; existing cases were mapped to their budget."""

from datetime import timedelta

import pytest

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from commissioning.monitoring.models import MonitoringCase, Rule
from commissioning.monitoring.selectors import quarter_bounds, quarter_statement
from commissioning.monitoring.services import clawback_create, monitoring_rules_run
from marketplace.accounts.roles import Role
from marketplace.budgets.models import (
    AccountKind,
    Authorization,
    BudgetStatus,
    DeclineReason,
    JournalEntry,
)
from marketplace.budgets.services import budget_loads_post_due
from tests.factories import BudgetHolderFactory
from tests.marketplace.budgets.factories import make_budget

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture
def two_years():
    """One person: last year's budget (ended 10 days ago) and this year's, both paid in."""
    holder = BudgetHolderFactory()
    last_year = make_budget(
        holder,
        annual_amount_pence=270_400,
        starts_on=TODAY - timedelta(days=375),
        ends_on=TODAY - timedelta(days=10),
    )
    this_year = make_budget(
        holder,
        annual_amount_pence=270_400,
        starts_on=TODAY - timedelta(days=9),
        ends_on=TODAY + timedelta(days=355),
    )
    budget_loads_post_due(on=TODAY)
    return holder, last_year, this_year


def _blocked_attempt(budget, ident, days_ago):
    Authorization.objects.create(
        stripe_authorization_id=ident,
        budget=budget,
        amount_pence=2_000,
        merchant_name="Coral Bookmakers",
        merchant_category_code="7995",
        approved=False,
        decline_reason=DeclineReason.BLOCKED_CATEGORY,
        decided_at=timezone.now() - timedelta(days=days_ago),
    )


def test_each_budget_of_a_person_gets_its_own_case(two_years):
    holder, last_year, this_year = two_years
    _blocked_attempt(last_year, "iauth_old", days_ago=12)
    _blocked_attempt(this_year, "iauth_new", days_ago=2)

    monitoring_rules_run(rules=[Rule.BLOCKED_CATEGORY])
    monitoring_rules_run(rules=[Rule.BLOCKED_CATEGORY])  # again: nothing new

    cases = MonitoringCase.objects.filter(rule=Rule.BLOCKED_CATEGORY)
    assert sorted(cases.values_list("budget_id", flat=True)) == sorted([last_year.pk, this_year.pk])
    assert {case.budget_holder_id for case in cases} == {holder.pk}


def test_a_clawback_comes_from_the_budget_the_case_is_about(two_years):
    _, last_year, this_year = two_years
    _blocked_attempt(last_year, "iauth_old", days_ago=12)
    monitoring_rules_run(rules=[Rule.BLOCKED_CATEGORY])
    case = MonitoringCase.objects.get(budget=last_year)
    before = {
        b.pk: b.accounts.get(kind=AccountKind.HOLDER_FUNDS).balance_pence
        for b in (last_year, this_year)
    }

    clawback_create(case=case, officer=None, amount_pence=1_000, reason="Unspent last year")

    after = {
        b.pk: b.accounts.get(kind=AccountKind.HOLDER_FUNDS).balance_pence
        for b in (last_year, this_year)
    }
    assert after[last_year.pk] == before[last_year.pk] - 1_000
    assert after[this_year.pk] == before[this_year.pk]
    assert JournalEntry.objects.get(source_type="monitoring_case").budget == last_year


def test_the_quarterly_statement_is_per_budget(client_for, two_years):
    holder, last_year, this_year = two_years
    year, quarter = TODAY.year, (TODAY.month - 1) // 3 + 1
    statements = {
        budget.pk: quarter_statement(budget=budget, year=year, quarter=quarter)
        for budget in (last_year, this_year)
    }
    for budget in (last_year, this_year):
        statement = statements[budget.pk]
        assert statement.adds_up
        starts_on, ends_on = quarter_bounds(year, quarter)
        funds = budget.accounts.get(kind=AccountKind.HOLDER_FUNDS)
        assert statement.closing_pence == sum(
            p.amount_pence for p in funds.postings.filter(entry__occurred_on__lte=ends_on)
        )
    # This year's first load is in this year's statement only.
    first_load = this_year.loads.order_by("due_on").first()
    if quarter_bounds(year, quarter)[0] <= first_load.due_on:
        assert statements[this_year.pk].loads_pence >= first_load.amount_pence
        assert statements[this_year.pk].opening_pence == 0

    client, _ = client_for(Role.MONITORING_OFFICER)
    page = client.get(f"/monitoring/budgets/{this_year.pk}/quarters/{year}-Q{quarter}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert f"for the budget from {this_year.starts_on:%-d %B %Y}" in text
    assert f"/monitoring/budgets/{last_year.pk}/quarters/{year}-Q{quarter}/" in text
    # The old per-person address goes to a budget open in that quarter.
    response = client.get(f"/monitoring/people/{holder.pk}/quarters/{year}-Q{quarter}/")
    assert response.status_code == 302
    assert response["Location"] == f"/monitoring/budgets/{this_year.pk}/quarters/{year}-Q{quarter}/"
    assert client.get(f"/monitoring/budgets/999999/quarters/{year}-Q1/").status_code == 404
    assert client.get(f"/monitoring/budgets/{this_year.pk}/quarters/1999-Q1/").status_code == 404
    for role in (Role.BUDGET_HOLDER, Role.PROXY, Role.PROVIDER_STAFF, Role.COMMISSIONER):
        other, _ = client_for(role)
        assert (
            other.get(f"/monitoring/budgets/{this_year.pk}/quarters/{year}-Q{quarter}/").status_code
            == 403
        )


@pytest.mark.django_db(transaction=True)
def test_the_migration_maps_existing_cases_to_the_holders_budget():
    executor = MigrationExecutor(connection)
    executor.migrate([("monitoring", "0001_initial")])
    others = [key for key in executor.loader.graph.leaf_nodes() if key[0] != "monitoring"]
    old = executor.loader.project_state([("monitoring", "0001_initial"), *others]).apps
    Holder = old.get_model("accounts", "BudgetHolder")
    Budget = old.get_model("budgets", "PersonalBudget")
    Case = old.get_model("monitoring", "MonitoringCase")

    def holder(reference):
        return Holder.objects.create(
            full_name="Test Person",
            date_of_birth=TODAY - timedelta(days=30_000),
            care_group="older_people",
            postcode="N3 1AA",
            council_reference=reference,
        )

    def budget(person, starts_on, ends_on, status=BudgetStatus.ACTIVE):
        return Budget.objects.create(
            budget_holder=person,
            annual_amount_pence=100_000,
            starts_on=starts_on,
            ends_on=ends_on,
            care_group="older_people",
            status=status,
        )

    two = holder("MIG-1")
    last_year = budget(two, TODAY - timedelta(days=400), TODAY - timedelta(days=36))
    this_year = budget(two, TODAY - timedelta(days=35), TODAY + timedelta(days=330))
    one = holder("MIG-2")
    only = budget(one, TODAY - timedelta(days=100), TODAY + timedelta(days=265))
    now = timezone.now()
    recorded = Case.objects.create(
        budget_holder=two,
        rule="after_end_date",
        summary="Recorded in its evidence",
        evidence={"budget_id": last_year.pk},
        opened_at=now,
        last_seen_at=now,
    )
    by_date = Case.objects.create(
        budget_holder=two,
        rule="surplus",
        summary="Opened while last year's budget was open",
        evidence={},
        opened_at=now - timedelta(days=60),
        last_seen_at=now,
        status="closed",
    )
    newest = Case.objects.create(
        budget_holder=one,
        rule="dormant_card",
        summary="No budget recorded, opened before any budget",
        evidence={"budget_id": 999_999},
        opened_at=now - timedelta(days=500),
        last_seen_at=now,
    )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([key for key in executor.loader.graph.leaf_nodes() if key[0] == "monitoring"])

    mapped = dict(MonitoringCase.objects.values_list("pk", "budget_id"))
    assert mapped[recorded.pk] == last_year.pk
    assert mapped[by_date.pk] == last_year.pk
    assert mapped[newest.pk] == only.pk
    assert this_year.pk not in mapped.values()
