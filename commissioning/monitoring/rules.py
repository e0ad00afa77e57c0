"""The monitoring rules: each reads the ledger and card records and returns findings.

A rule never writes. ``monitoring_rules_run`` (services) turns findings into
cases. Every rule works over all open budgets with a handful of grouped
queries, so a daily run stays quick however many people there are.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import F, Max, Sum
from django.db.models.functions import Mod
from django.utils import timezone

from cms.templatetags.govuk import pence
from marketplace.budgets.models import (
    AccountKind,
    Authorization,
    BudgetStatus,
    Card,
    CardStatus,
    CardTransaction,
    CardTransactionType,
    DeclineReason,
    PersonalBudget,
    Posting,
)
from marketplace.payments.models import Purchase

from .models import MonitoringSettings, Rule

CASH_CODES = ("6010", "6011")


@dataclass
class Finding:
    rule: str
    budget_holder_id: int
    budget_id: int
    summary: str
    amount_pence: int = 0
    facts: list = field(default_factory=list)  # [label, value] pairs, in plain words
    items: list = field(default_factory=list)  # [date, description, pence] rows

    @property
    def evidence(self) -> dict:
        return {"budget_id": self.budget_id, "facts": self.facts, "items": self.items[:50]}


def _balances(budget_ids, *, before: date | None = None) -> dict[int, int]:
    """Budget holder funds per budget: now, or at the end of the day before ``before``."""
    postings = Posting.objects.filter(
        account__kind=AccountKind.HOLDER_FUNDS, account__budget_id__in=budget_ids
    )
    if before is not None:
        postings = postings.filter(entry__occurred_on__lt=before)
    return dict(
        postings.values("account__budget_id")
        .annotate(total=Sum("amount_pence"))
        .values_list("account__budget_id", "total")
    )


def open_budgets(on: date):
    return PersonalBudget.objects.filter(
        status=BudgetStatus.ACTIVE, starts_on__lte=on, ends_on__gte=on
    ).select_related("support_plan")


def rule_surplus(*, on: date, config: MonitoringSettings) -> list[Finding]:
    """Balance above ``surplus_weeks`` weeks of funding."""
    budgets = list(open_budgets(on))
    balances = _balances([b.pk for b in budgets], before=on + timedelta(days=1))
    findings = []
    for budget in budgets:
        weekly = budget.weekly_funding_pence
        balance = balances.get(budget.pk, 0)
        limit = weekly * config.surplus_weeks
        if weekly <= 0 or balance <= limit:
            continue
        weeks = balance / weekly
        findings.append(
            Finding(
                rule=Rule.SURPLUS,
                budget_holder_id=budget.budget_holder_id,
                budget_id=budget.pk,
                summary=f"{pence(balance)} unspent: {weeks:.1f} weeks of funding "
                f"(the limit is {config.surplus_weeks} weeks, {pence(limit)}).",
                amount_pence=balance - limit,
                facts=[
                    ["Balance", pence(balance)],
                    ["Weekly funding", pence(weekly)],
                    ["Weeks of funding held", f"{weeks:.1f}"],
                    ["Limit", f"{config.surplus_weeks} weeks ({pence(limit)})"],
                    ["Above the limit", pence(balance - limit)],
                ],
            )
        )
    return findings


def rule_blocked_category(*, on: date, config: MonitoringSettings) -> list[Finding]:
    """Card declined at a blocked kind of shop (gambling, bars...) at least N times recently."""
    since = timezone.make_aware(
        datetime.combine(on - timedelta(days=config.blocked_attempts_days), time.min)
    )
    declines = (
        Authorization.objects.filter(
            approved=False,
            decline_reason=DeclineReason.BLOCKED_CATEGORY,
            decided_at__gte=since,
            budget__isnull=False,
        )
        .select_related("budget")
        .order_by("budget_id", "decided_at")
    )
    by_budget = defaultdict(list)
    for decline in declines:
        by_budget[decline.budget_id].append(decline)
    findings = []
    for budget_id, attempts in by_budget.items():
        if len(attempts) < config.blocked_attempts_count:
            continue
        places = sorted({a.merchant_name for a in attempts if a.merchant_name})
        findings.append(
            Finding(
                rule=Rule.BLOCKED_CATEGORY,
                budget_holder_id=attempts[0].budget.budget_holder_id,
                budget_id=budget_id,
                summary=f"{len(attempts)} card attempt{'s' if len(attempts) != 1 else ''} declined at a "
                f"blocked kind of shop in {config.blocked_attempts_days} days"
                + (f": {', '.join(places[:3])}." if places else "."),
                amount_pence=sum(a.amount_pence for a in attempts),
                facts=[
                    ["Declined attempts", str(len(attempts))],
                    ["Total tried", pence(sum(a.amount_pence for a in attempts))],
                ],
                items=[
                    [
                        timezone.localtime(a.decided_at).date().isoformat(),
                        f"{a.merchant_name or 'Unknown shop'} ({a.merchant_category or a.merchant_category_code}):"
                        f" {a.decline_message or a.get_decline_reason_display()}",
                        a.amount_pence,
                    ]
                    for a in attempts
                ],
            )
        )
    return findings


def rule_cash_above_plan(*, on: date, config: MonitoringSettings) -> list[Finding]:
    """Cash taken out above what the support plan allows (or any cash when it allows none)."""
    since = on - timedelta(days=config.cash_days)
    withdrawals = (
        CardTransaction.objects.filter(
            type=CardTransactionType.CAPTURE,
            merchant_category_code__in=CASH_CODES,
            occurred_on__gt=since,
            occurred_on__lte=on,
        )
        .select_related("budget__support_plan")
        .order_by("budget_id", "occurred_on")
    )
    by_budget = defaultdict(list)
    for row in withdrawals:
        by_budget[row.budget_id].append(row)
    findings = []
    for budget_id, rows in by_budget.items():
        budget = rows[0].budget
        plan = getattr(budget, "support_plan", None)
        total = sum(r.amount_pence for r in rows)
        # The plan's limit is per 4 weeks; scale it to the look-back window.
        allowed = 0
        if plan is not None and plan.cash_allowed:
            allowed = plan.cash_limit_pence * config.cash_days // 28
        if total <= allowed:
            continue
        findings.append(
            Finding(
                rule=Rule.CASH_ABOVE_PLAN,
                budget_holder_id=budget.budget_holder_id,
                budget_id=budget_id,
                summary=(
                    f"{pence(total)} taken in cash in {config.cash_days} days; the plan allows "
                    f"{pence(allowed)}."
                    if allowed
                    else f"{pence(total)} taken in cash; the support plan does not allow cash."
                ),
                amount_pence=total - allowed,
                facts=[["Cash taken", pence(total)], ["Plan allows", pence(allowed)]],
                items=[
                    [r.occurred_on.isoformat(), r.merchant_name or "Cash machine", r.amount_pence]
                    for r in rows
                ],
            )
        )
    return findings


def rule_dormant_card(*, on: date, config: MonitoringSettings) -> list[Finding]:
    """An active card not used for ``dormant_days`` while the balance went up."""
    then = on - timedelta(days=config.dormant_days)
    budgets = {b.pk: b for b in open_budgets(on).filter(starts_on__lte=then)}
    with_cards = set(
        Card.objects.filter(budget_id__in=budgets, status=CardStatus.ACTIVE).values_list(
            "budget_id", flat=True
        )
    )
    last_used = dict(
        CardTransaction.objects.filter(budget_id__in=with_cards, type=CardTransactionType.CAPTURE)
        .values("budget_id")
        .annotate(last=Max("occurred_on"))
        .values_list("budget_id", "last")
    )
    dormant = [pk for pk in with_cards if last_used.get(pk) is None or last_used[pk] <= then]
    now_balances = _balances(dormant, before=on + timedelta(days=1))
    then_balances = _balances(dormant, before=then + timedelta(days=1))
    findings = []
    for pk in dormant:
        before, after = then_balances.get(pk, 0), now_balances.get(pk, 0)
        if after <= before:
            continue
        last = last_used.get(pk)
        findings.append(
            Finding(
                rule=Rule.DORMANT_CARD,
                budget_holder_id=budgets[pk].budget_holder_id,
                budget_id=pk,
                summary=(f"Card not used since {last:%d %B %Y}" if last else "Card never used")
                + f"; the balance rose from {pence(before)} to {pence(after)} in {config.dormant_days} days.",
                amount_pence=after - before,
                facts=[
                    ["Last card payment", f"{last:%d %B %Y}" if last else "Never"],
                    [f"Balance {config.dormant_days} days ago", pence(before)],
                    ["Balance now", pence(after)],
                ],
            )
        )
    return findings


def rule_after_end_date(*, on: date, config: MonitoringSettings) -> list[Finding]:
    """Card spending dated after the budget ended."""
    rows = (
        CardTransaction.objects.filter(
            type=CardTransactionType.CAPTURE, occurred_on__gt=F("budget__ends_on")
        )
        .select_related("budget")
        .order_by("budget_id", "occurred_on")
    )
    by_budget = defaultdict(list)
    for row in rows:
        by_budget[row.budget_id].append(row)
    findings = []
    for budget_id, spent in by_budget.items():
        budget = spent[0].budget
        total = sum(r.amount_pence for r in spent)
        findings.append(
            Finding(
                rule=Rule.AFTER_END_DATE,
                budget_holder_id=budget.budget_holder_id,
                budget_id=budget_id,
                summary=f"{pence(total)} spent on the card after the budget ended on {budget.ends_on:%d %B %Y}.",
                amount_pence=total,
                facts=[
                    ["Budget ended", f"{budget.ends_on:%d %B %Y}"],
                    ["Spent after", pence(total)],
                ],
                items=[[r.occurred_on.isoformat(), r.merchant_name, r.amount_pence] for r in spent],
            )
        )
    return findings


def rule_round_transfers(*, on: date, config: MonitoringSettings) -> list[Finding]:
    """Several exact round amounts paid to payees that are not providers in the directory."""
    since = on - timedelta(days=config.round_transfers_days)
    rows = (
        Purchase.objects.filter(
            organisation__isnull=True,
            occurred_on__gt=since,
            occurred_on__lte=on,
            amount_pence__gt=0,
        )
        .annotate(remainder=Mod("amount_pence", config.round_amount_pence))
        .filter(remainder=0)
        .order_by("budget_holder_id", "occurred_on")
    )
    by_holder = defaultdict(list)
    for row in rows:
        by_holder[row.budget_holder_id].append(row)
    budgets = dict(
        open_budgets(on)
        .filter(
            budget_holder_id__in=[
                h for h, r in by_holder.items() if len(r) >= config.round_transfers_count
            ]
        )
        .values_list("budget_holder_id", "pk")
    )
    findings = []
    for holder_id, payments in by_holder.items():
        if len(payments) < config.round_transfers_count or holder_id not in budgets:
            continue
        total = sum(p.amount_pence for p in payments)
        payees = sorted({p.merchant_name or "Unknown payee" for p in payments})
        findings.append(
            Finding(
                rule=Rule.ROUND_TRANSFERS,
                budget_holder_id=holder_id,
                budget_id=budgets[holder_id],
                summary=f"{len(payments)} round-sum payments ({pence(total)}) to payees who are not in "
                f"the directory: {', '.join(payees[:3])}.",
                amount_pence=total,
                facts=[["Payments", str(len(payments))], ["Total", pence(total)]],
                items=[
                    [p.occurred_on.isoformat(), p.merchant_name or "Unknown payee", p.amount_pence]
                    for p in payments
                ],
            )
        )
    return findings


RULES = {
    Rule.SURPLUS: rule_surplus,
    Rule.BLOCKED_CATEGORY: rule_blocked_category,
    Rule.CASH_ABOVE_PLAN: rule_cash_above_plan,
    Rule.DORMANT_CARD: rule_dormant_card,
    Rule.AFTER_END_DATE: rule_after_end_date,
    Rule.ROUND_TRANSFERS: rule_round_transfers,
}
