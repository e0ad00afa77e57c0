"""Personal budgets, support plans, loads, and the entries other areas post to a budget."""

from collections.abc import Iterable
from datetime import date

from django.db import transaction

from ..models import (
    AccountKind,
    BudgetLoad,
    BudgetStatus,
    Deployment,
    EntryKind,
    JournalEntry,
    LoadSchedule,
    LoadStatus,
    PersonalBudget,
    SupportPlan,
)
from .ledger import (
    PlannedEntry,
    budget_accounts,
    budgets_accounts,
    ledger_post,
    ledger_post_many,
)


@transaction.atomic
def budget_create(
    *,
    budget_holder,
    annual_amount_pence: int,
    starts_on: date,
    ends_on: date,
    load_schedule: str = LoadSchedule.FOUR_WEEKLY,
    deployment: str = Deployment.DIRECT_PAYMENT,
    outcomes: Iterable[str] = (),
    allowed_categories: Iterable[str] = (),
    cash_allowed: bool = False,
    cash_limit_pence: int = 0,
    approval_required_above_pence: int | None = None,
    agreed_on: date | None = None,
) -> PersonalBudget:
    """Create a budget with its support plan, its ledger accounts and its whole load schedule.

    Guarantees: the loads add up to the annual amount pro rata; nothing is
    paid in until ``budget_loads_post_due`` runs on or after each due date.
    """
    if annual_amount_pence <= 0:
        raise ValueError("A budget needs an annual amount above zero.")
    budget = PersonalBudget.objects.create(
        budget_holder=budget_holder,
        annual_amount_pence=annual_amount_pence,
        load_schedule=load_schedule,
        starts_on=starts_on,
        ends_on=ends_on,
        care_group=budget_holder.care_group,
        deployment=deployment,
    )
    SupportPlan.objects.create(
        budget=budget,
        outcomes=list(outcomes),
        allowed_categories=list(allowed_categories),
        cash_allowed=cash_allowed,
        cash_limit_pence=cash_limit_pence if cash_allowed else 0,
        approval_required_above_pence=approval_required_above_pence,
        agreed_on=agreed_on or starts_on,
    )
    budget_accounts(budget=budget)
    BudgetLoad.objects.bulk_create(
        [
            BudgetLoad(budget=budget, due_on=day, amount_pence=pence)
            for day, pence in budget.load_plan()
        ]
    )
    return budget


def budget_loads_post_due(*, on: date, budgets: Iterable[PersonalBudget] | None = None) -> int:
    """Pay in every scheduled load due on or before ``on``; returns how many were paid in.

    Guarantees: each load is posted to the ledger once (its id is the entry's
    source), even if this runs twice or concurrently; loads of suspended or
    closed budgets wait.
    """
    loads = BudgetLoad.objects.filter(
        status=LoadStatus.SCHEDULED, due_on__lte=on, budget__status=BudgetStatus.ACTIVE
    ).select_related("budget")
    if budgets is not None:
        loads = loads.filter(budget__in=list(budgets))
    with transaction.atomic():
        loads = list(loads.select_for_update(of=("self",)).order_by("pk"))
        if not loads:
            return 0
        accounts = budgets_accounts(budget_ids={load.budget_id for load in loads})
        planned = []
        for load in loads:
            budget_accounts_ = accounts[load.budget_id]
            planned.append(
                PlannedEntry(
                    kind=EntryKind.LOAD,
                    source_type="budget_load",
                    source_id=str(load.pk),
                    lines=[
                        (budget_accounts_[AccountKind.COUNCIL_FUNDING], -load.amount_pence),
                        (budget_accounts_[AccountKind.HOLDER_FUNDS], load.amount_pence),
                    ],
                    occurred_on=load.due_on,
                    memo=f"Council payment for {load.due_on:%d %B %Y}",
                )
            )
        ledger_post_many(planned=planned)
        BudgetLoad.objects.filter(pk__in=[load.pk for load in loads]).update(
            status=LoadStatus.POSTED
        )
    return len(loads)


def budget_marketplace_payment_post(
    *, budget: PersonalBudget, amount_pence: int, source_id: str, occurred_on: date, memo: str = ""
) -> tuple[JournalEntry, bool]:
    """Move a marketplace payment to a provider out of the budget, once per ``source_id``.

    For the payments area: call it in the same transaction that records the payment.
    """
    if amount_pence <= 0:
        raise ValueError("A payment must be more than zero.")
    accounts = budget_accounts(budget=budget)
    return ledger_post(
        kind=EntryKind.MARKETPLACE_PAYMENT,
        source_type="marketplace_payment",
        source_id=source_id,
        lines=[
            (accounts[AccountKind.HOLDER_FUNDS], -amount_pence),
            (accounts[AccountKind.PROVIDER_PAYABLE], amount_pence),
        ],
        occurred_on=occurred_on,
        memo=memo or "Payment to a provider",
    )


def budget_clawback_post(
    *,
    budget: PersonalBudget,
    amount_pence: int,
    source_type: str,
    source_id: str,
    occurred_on: date,
    memo: str = "",
) -> tuple[JournalEntry, bool]:
    """Recover unspent money to the council, once per source (e.g. a monitoring case).

    Guarantees: never recovers more than the budget holder's funds hold.
    """
    if amount_pence <= 0:
        raise ValueError("The amount to recover must be more than zero.")
    with transaction.atomic():
        accounts = budget_accounts(budget=budget)
        funds = (
            type(accounts[AccountKind.HOLDER_FUNDS])
            .objects.select_for_update()
            .get(pk=accounts[AccountKind.HOLDER_FUNDS].pk)
        )
        already = JournalEntry.objects.filter(
            source_type=source_type, source_id=str(source_id), kind=EntryKind.CLAWBACK
        ).first()
        if already is not None:
            return already, False
        if amount_pence > funds.balance_pence:
            raise ValueError("You cannot recover more than the money left in the budget.")
        return ledger_post(
            kind=EntryKind.CLAWBACK,
            source_type=source_type,
            source_id=str(source_id),
            lines=[(funds, -amount_pence), (accounts[AccountKind.RECOVERED], amount_pence)],
            occurred_on=occurred_on,
            memo=memo or "Unspent money recovered by the council",
        )
