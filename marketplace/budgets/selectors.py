"""Reads for budgets, the ledger and cards."""

from datetime import date

from django.db.models import Sum

from .models import (
    Account,
    AccountKind,
    Authorization,
    AuthorizationStatus,
    BudgetLoad,
    BudgetStatus,
    DeclineReason,
    LoadStatus,
    PersonalBudget,
    Posting,
)


def budget_current_for(*, budget_holder, on: date | None = None) -> PersonalBudget | None:
    """The budget open on ``on`` (default today), else the most recent one."""
    from django.utils import timezone

    on = on or timezone.localdate()
    budgets = PersonalBudget.objects.filter(budget_holder=budget_holder).select_related(
        "support_plan"
    )
    return (
        budgets.filter(status=BudgetStatus.ACTIVE, starts_on__lte=on, ends_on__gte=on).first()
        or budgets.order_by("-starts_on").first()
    )


def budget_balance_pence(*, budget: PersonalBudget) -> int:
    """Money in the budget holder's funds: the sum of its postings (kept in the cached balance)."""
    return (
        Account.objects.filter(budget=budget, kind=AccountKind.HOLDER_FUNDS)
        .values_list("balance_pence", flat=True)
        .first()
        or 0
    )


def account_balance_from_postings(*, account: Account) -> int:
    return (
        Posting.objects.filter(account=account).aggregate(total=Sum("amount_pence"))["total"] or 0
    )


def budget_held_pence(*, budget: PersonalBudget) -> int:
    return (
        Authorization.objects.filter(
            budget=budget, approved=True, status=AuthorizationStatus.PENDING
        ).aggregate(total=Sum("amount_pence"))["total"]
        or 0
    )


def budget_available_pence(*, budget: PersonalBudget) -> int:
    """What can be spent now: the balance less card payments approved but not yet taken."""
    return budget_balance_pence(budget=budget) - budget_held_pence(budget=budget)


def budget_next_load(*, budget: PersonalBudget) -> BudgetLoad | None:
    return budget.loads.filter(status=LoadStatus.SCHEDULED).order_by("due_on").first()


def budget_weeks_of_funding(*, budget: PersonalBudget) -> float:
    """How many weeks of funding the balance holds (the surplus measure councils use)."""
    weekly = budget.weekly_funding_pence
    return budget_balance_pence(budget=budget) / weekly if weekly else 0.0


def authorizations_blocked(*, since=None):
    """Declines for blocked categories: the signals monitoring rules read."""
    declines = Authorization.objects.filter(
        approved=False, decline_reason=DeclineReason.BLOCKED_CATEGORY
    )
    if since is not None:
        declines = declines.filter(decided_at__gte=since)
    return declines.select_related("budget", "budget__budget_holder")
