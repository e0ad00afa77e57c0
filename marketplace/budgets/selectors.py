"""Reads for budgets, the ledger and cards."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Q, Sum
from django.utils import timezone

from cms.formatting import format_pence

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


SURPLUS_WEEKS_WARNING = 8

_ENTRY_WORDS = {
    "load": "Money paid in by the council",
    "card_spend": "Card payment",
    "refund": "Refund",
    "marketplace_payment": "Payment to a provider",
    "clawback": "Unspent money returned to the council",
    "reversal": "Correction",
}


@dataclass
class StatementLine:
    """One line of a budget statement, in plain words. Declines and pending payments move no money."""

    on: date
    description: str
    money_in_pence: int = 0
    money_out_pence: int = 0
    balance_pence: int | None = None
    kind: str = ""
    declined: bool = False
    pending: bool = False


def budget_statement(
    *, budget: PersonalBudget, start: date | None = None, end: date | None = None
) -> list[StatementLine]:
    """Every movement of the person's money, oldest first, with the balance after each,
    plus card declines and payments still pending; from ``start`` to ``end`` inclusive."""
    funds = Account.objects.filter(budget=budget, kind=AccountKind.HOLDER_FUNDS).first()
    if funds is None:
        return []
    postings = (
        Posting.objects.filter(account=funds)
        .select_related("entry")
        .order_by("entry__occurred_on", "entry_id")
        .values_list("amount_pence", "entry__kind", "entry__memo", "entry__occurred_on")
    )
    lines, balance = [], 0
    for pence, kind, memo, on in postings:
        balance += pence
        if (start and on < start) or (end and on > end):
            continue
        words = _ENTRY_WORDS.get(kind, kind)
        description = f"{words}: {memo}" if memo and kind not in ("load", "clawback") else words
        lines.append(
            StatementLine(
                on=on,
                description=description,
                money_in_pence=pence if pence > 0 else 0,
                money_out_pence=-pence if pence < 0 else 0,
                balance_pence=balance,
                kind=kind,
            )
        )
    authorizations = Authorization.objects.filter(budget=budget).filter(
        Q(approved=False) | Q(status=AuthorizationStatus.PENDING)
    )
    for authorization in authorizations.only(
        "decided_at", "approved", "decline_message", "merchant_name", "amount_pence", "status"
    ):
        on = timezone.localtime(authorization.decided_at).date()
        if (start and on < start) or (end and on > end):
            continue
        if authorization.approved:
            lines.append(
                StatementLine(
                    on=on,
                    description=f"Pending card payment: {authorization.merchant_name}",
                    money_out_pence=authorization.amount_pence,
                    kind="pending",
                    pending=True,
                )
            )
        else:
            lines.append(
                StatementLine(
                    on=on,
                    description=f"{authorization.decline_message} ({authorization.merchant_name}, "
                    f"{format_pence(authorization.amount_pence)})",
                    kind="declined",
                    declined=True,
                )
            )
    lines.sort(key=lambda line: (line.on, line.declined or line.pending))
    return lines


def budget_spend_by_category(*, budget: PersonalBudget) -> list[tuple[str, int]]:
    """Spending (less refunds) in the budget's period, by service category, largest first."""
    from marketplace.payments.models import Purchase
    from marketplace.providers.taxonomy import ServiceCategory

    rows = (
        Purchase.objects.filter(
            budget_holder_id=budget.budget_holder_id,
            occurred_on__gte=budget.starts_on,
            occurred_on__lte=budget.ends_on,
        )
        .values("category")
        .annotate(total=Sum("amount_pence"))
        .order_by("-total")
    )
    labels = dict(ServiceCategory.choices)
    return [
        (labels.get(row["category"], row["category"]), row["total"])
        for row in rows
        if row["total"] > 0
    ]


def guide_url() -> str:
    """The CMS guide "Using your personal budget card", when it is published."""
    from wagtail.models import Page

    page = Page.objects.live().filter(slug="using-your-personal-budget-card").first()
    return page.url if page is not None else ""
