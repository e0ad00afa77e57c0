"""Reads for monitoring: the case queue and the quarterly reconciliation from the ledger."""

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, Q, QuerySet, Sum

from marketplace.accounts.models import BudgetHolder
from marketplace.budgets.models import AccountKind, EntryKind, PersonalBudget, Posting
from marketplace.payments.models import Channel, Purchase
from marketplace.providers.taxonomy import ServiceCategory

from .models import CaseStatus, EvidenceRequest, MonitoringCase


def cases_queue(*, status: str = "open", rule: str = "") -> QuerySet[MonitoringCase]:
    cases = MonitoringCase.objects.select_related("budget_holder", "budget", "assigned_to")
    if status == "open":
        cases = cases.open()
    elif status in CaseStatus.values:
        cases = cases.filter(status=status)
    if rule:
        cases = cases.filter(rule=rule)
    return (
        cases.order_by("opened_at", "pk")
        if status != CaseStatus.CLOSED
        else cases.order_by("-closed_at")
    )


def cases_counts() -> dict[str, int]:
    return dict(
        MonitoringCase.objects.open()
        .values("rule")
        .annotate(n=Count("pk"))
        .values_list("rule", "n")
    )


def evidence_requests_open_for(*, budget_holder: BudgetHolder) -> QuerySet[EvidenceRequest]:
    """Questions from the council this person (or their proxy) still has to answer."""
    return EvidenceRequest.objects.filter(
        case__budget_holder=budget_holder, responded_at__isnull=True
    ).select_related("case")


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    """First and last day of a calendar quarter (Q1 = January to March)."""
    start = date(year, 3 * (quarter - 1) + 1, 1)
    end = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return start, date.fromordinal(end.toordinal() - 1)


@dataclass
class QuarterStatement:
    budget: PersonalBudget
    year: int
    quarter: int
    starts_on: date
    ends_on: date
    opening_pence: int = 0
    loads_pence: int = 0
    card_spend_pence: int = 0
    marketplace_pence: int = 0
    refunds_pence: int = 0
    corrections_pence: int = 0
    clawbacks_pence: int = 0
    closing_pence: int = 0
    by_category: list = field(default_factory=list)  # (label, pence)
    categorised_pence: int = 0

    @property
    def spend_pence(self) -> int:
        return self.card_spend_pence + self.marketplace_pence

    @property
    def adds_up(self) -> bool:
        return (
            self.opening_pence
            + self.loads_pence
            - self.card_spend_pence
            - self.marketplace_pence
            + self.refunds_pence
            + self.corrections_pence
            - self.clawbacks_pence
            == self.closing_pence
        )

    @property
    def label(self) -> str:
        return f"{self.year}-Q{self.quarter}"

    @property
    def budget_holder(self) -> BudgetHolder:
        return self.budget.budget_holder

    @property
    def overlaps_budget(self) -> bool:
        return self.starts_on <= self.budget.ends_on and self.ends_on >= self.budget.starts_on


def quarter_statement(*, budget: PersonalBudget, year: int, quarter: int) -> QuarterStatement:
    """One budget's quarter: opening balance, money in and out by kind, spend by category
    and closing balance.

    Every money figure comes from the ledger's postings to this budget's funds,
    so another budget of the same person (a new budget year) never mixes in.
    The category split comes from the person's purchases dated within both
    the quarter and the budget's period (a person's budgets do not overlap).
    """
    starts_on, ends_on = quarter_bounds(year, quarter)
    statement = QuarterStatement(budget, year, quarter, starts_on, ends_on)
    funds = Posting.objects.filter(account__budget=budget, account__kind=AccountKind.HOLDER_FUNDS)
    statement.opening_pence = (
        funds.filter(entry__occurred_on__lt=starts_on).aggregate(t=Sum("amount_pence"))["t"] or 0
    )
    statement.closing_pence = (
        funds.filter(entry__occurred_on__lte=ends_on).aggregate(t=Sum("amount_pence"))["t"] or 0
    )
    by_kind = dict(
        funds.filter(entry__occurred_on__range=(starts_on, ends_on))
        .values("entry__kind")
        .annotate(t=Sum("amount_pence"))
        .values_list("entry__kind", "t")
    )
    statement.loads_pence = by_kind.get(EntryKind.LOAD, 0)
    statement.card_spend_pence = -by_kind.get(EntryKind.CARD_SPEND, 0)
    statement.marketplace_pence = -by_kind.get(EntryKind.MARKETPLACE_PAYMENT, 0)
    statement.refunds_pence = by_kind.get(EntryKind.REFUND, 0)
    statement.corrections_pence = by_kind.get(EntryKind.REVERSAL, 0)
    statement.clawbacks_pence = -by_kind.get(EntryKind.CLAWBACK, 0)
    rows = (
        Purchase.objects.filter(
            budget_holder_id=budget.budget_holder_id,
            occurred_on__range=(max(starts_on, budget.starts_on), min(ends_on, budget.ends_on)),
        )
        .filter(Q(channel__in=[Channel.CARD, Channel.CARD_STATEMENT, Channel.MARKETPLACE]))
        .values("category")
        .annotate(t=Sum("amount_pence"))
        .order_by("-t")
    )
    labels = dict(ServiceCategory.choices)
    statement.by_category = [
        (labels.get(r["category"], r["category"]), r["t"]) for r in rows if r["t"]
    ]
    statement.categorised_pence = sum(t for _, t in statement.by_category)
    return statement
