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
    budgets_accounts,
    ledger_check,
    ledger_post,
    ledger_post_many,
    ledger_reverse,
)

__all__ = [
    "LedgerError",
    "PlannedEntry",
    "budget_accounts",
    "budgets_accounts",
    "budget_clawback_post",
    "budget_create",
    "budget_loads_post_due",
    "budget_marketplace_payment_post",
    "ledger_check",
    "ledger_post",
    "ledger_post_many",
    "ledger_reverse",
]

from .cards import (  # noqa: E402
    card_authorization_decide,
    card_authorization_update,
    card_controls_sync,
    card_issue,
    card_refunds_release_held,
    card_transaction_record,
    held_pence,
)

__all__ += [
    "card_authorization_decide",
    "card_authorization_update",
    "card_controls_sync",
    "card_issue",
    "card_refunds_release_held",
    "card_transaction_record",
    "held_pence",
]

from .statements import LineProblem, StatementError, statement_import, statement_parse  # noqa: E402

__all__ += ["LineProblem", "StatementError", "statement_import", "statement_parse"]

from .setup import (  # noqa: E402
    BudgetSetupError,
    budget_set_up,
    budget_update,
    card_order,
    card_status_change,
    support_plan_update,
)

__all__ += [
    "BudgetSetupError",
    "budget_set_up",
    "budget_update",
    "card_order",
    "card_status_change",
    "support_plan_update",
]
