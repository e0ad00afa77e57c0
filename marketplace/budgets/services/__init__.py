"""Writes for budgets, the ledger, cards and statements. Import from here."""

from .budgets import (
    budget_clawback_post,
    budget_create,
    budget_loads_post_due,
    budget_marketplace_payment_post,
)
from .ledger import (
    LedgerError,
    PlannedEntry,
    budget_accounts,
    ledger_check,
    ledger_post,
    ledger_post_many,
    ledger_reverse,
)

__all__ = [
    "LedgerError",
    "PlannedEntry",
    "budget_accounts",
    "budget_clawback_post",
    "budget_create",
    "budget_loads_post_due",
    "budget_marketplace_payment_post",
    "ledger_check",
    "ledger_post",
    "ledger_post_many",
    "ledger_reverse",
]
