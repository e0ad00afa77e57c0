"""Budgets with plans and ledger accounts, built through the real service."""

from datetime import date

from marketplace.budgets.services import budget_create
from tests.factories import BudgetHolderFactory


def make_budget(budget_holder=None, **overrides):
    fields = {
        "annual_amount_pence": 1_300_000,  # £13,000: £1,000 every 4 weeks
        "starts_on": date(2025, 4, 1),
        "ends_on": date(2026, 3, 31),
        "outcomes": ["Get out and about every week"],
    }
    fields.update(overrides)
    return budget_create(budget_holder=budget_holder or BudgetHolderFactory(), **fields)
