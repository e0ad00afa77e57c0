"""Each monitoring rule fires on the right data and not on the wrong; cases are deduplicated."""

from datetime import timedelta

import pytest

from django.core.management import call_command
from django.utils import timezone

from commissioning.monitoring.models import CaseStatus, MonitoringCase, MonitoringSettings, Rule
from commissioning.monitoring.services import monitoring_rules_run
from marketplace.budgets.models import (
    AccountKind,
    Authorization,
    Card,
    CardScheme,
    CardTransaction,
    CardTransactionSource,
    CardTransactionType,
    DeclineReason,
    EntryKind,
)
from marketplace.budgets.services import budget_accounts, budget_loads_post_due, ledger_post
from marketplace.payments.models import Channel
from marketplace.payments.services import purchase_record
from tests.marketplace.budgets.factories import make_budget

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def open_budget(weeks_ago=20, **fields):
    """£52 a week (£2,704 a year), loaded every 4 weeks from ``weeks_ago`` weeks ago."""
    budget = make_budget(
        annual_amount_pence=270_400,
        starts_on=TODAY - timedelta(weeks=weeks_ago),
        ends_on=TODAY + timedelta(days=200),
        **fields,
    )
    budget_loads_post_due(on=TODAY)
    return budget


def spend(budget, pence, *, on=None, mcc="5812", name="Cafe", reference=None):
    """A card capture, posted to the ledger and recorded as a purchase, as the card channel does."""
    on = on or TODAY - timedelta(days=3)
    reference = reference or f"tx-{budget.pk}-{CardTransaction.objects.count()}"
    accounts = budget_accounts(budget=budget)
    entry, _ = ledger_post(
        kind=EntryKind.CARD_SPEND,
        source_type="card_statement",
        source_id=reference,
        lines=[
            (accounts[AccountKind.HOLDER_FUNDS], -pence),
            (accounts[AccountKind.CARD_CLEARING], pence),
        ],
        occurred_on=on,
    )
    CardTransaction.objects.create(
        source=CardTransactionSource.STATEMENT,
        reference=reference,
        budget=budget,
        type=CardTransactionType.CAPTURE,
        amount_pence=pence,
        merchant_name=name,
        merchant_category_code=mcc,
        occurred_on=on,
        entry=entry,
    )
    purchase_record(
        budget_holder=budget.budget_holder,
        amount_pence=pence,
        occurred_on=on,
        channel=Channel.CARD_STATEMENT,
        source_reference=reference,
        merchant_name=name,
        merchant_category_code=mcc,
    )


def cases(rule):
    return list(MonitoringCase.objects.filter(rule=rule))


def test_surplus_above_eight_weeks_opens_a_case_and_below_does_not():
    idle = open_budget()  # 20 weeks loaded, nothing spent: 20 weeks of surplus
    busy = open_budget()
    balance = busy.accounts.get(kind=AccountKind.HOLDER_FUNDS).balance_pence
    spend(busy, balance - 6 * 5_200)  # 6 weeks of funding left

    monitoring_rules_run(rules=[Rule.SURPLUS])

    [case] = cases(Rule.SURPLUS)
    assert case.budget_holder == idle.budget_holder
    assert "weeks of funding" in case.summary
    assert (
        case.amount_pence
        == idle.accounts.get(kind=AccountKind.HOLDER_FUNDS).balance_pence - 8 * 5_200
    )


def test_the_council_threshold_changes_what_counts_as_surplus():
    open_budget(weeks_ago=10)  # about 12 weeks loaded
    config = MonitoringSettings.load()
    config.surplus_weeks = 26
    config.save()
    monitoring_rules_run(rules=[Rule.SURPLUS])
    assert cases(Rule.SURPLUS) == []


def test_running_the_rules_twice_keeps_one_open_case_per_rule():
    open_budget()
    monitoring_rules_run()
    call_command("run_monitoring_rules")
    assert MonitoringCase.objects.filter(rule=Rule.SURPLUS).count() == 1
    case = MonitoringCase.objects.get(rule=Rule.SURPLUS)
    case.status = CaseStatus.CLOSED
    case.save()
    monitoring_rules_run(rules=[Rule.SURPLUS])
    assert MonitoringCase.objects.filter(rule=Rule.SURPLUS).count() == 2  # a new case after closing


def _decline(budget, reason, name="Coral Bookmakers", mcc="7995"):
    return Authorization.objects.create(
        stripe_authorization_id=f"iauth_{Authorization.objects.count()}",
        budget=budget,
        amount_pence=2_000,
        merchant_name=name,
        merchant_category="betting_casino_gambling",
        merchant_category_code=mcc,
        approved=False,
        decline_reason=reason,
        decided_at=timezone.now() - timedelta(days=1),
    )


def test_a_declined_betting_shop_attempt_lands_on_the_queue_but_a_low_balance_does_not():
    gambler = open_budget()
    _decline(gambler, DeclineReason.BLOCKED_CATEGORY)
    short = open_budget()
    _decline(short, DeclineReason.INSUFFICIENT_FUNDS, name="Tesco", mcc="5411")

    monitoring_rules_run(rules=[Rule.BLOCKED_CATEGORY])

    [case] = cases(Rule.BLOCKED_CATEGORY)
    assert case.budget_holder == gambler.budget_holder
    assert "Coral Bookmakers" in case.summary
    assert case.evidence["items"][0][1].startswith("Coral Bookmakers")


def test_cash_is_flagged_above_the_plan_and_not_within_it():
    no_cash = open_budget()
    spend(no_cash, 2_000, mcc="6011", name="ATM")
    within = open_budget(cash_allowed=True, cash_limit_pence=10_000)
    spend(within, 5_000, mcc="6011", name="ATM")
    over = open_budget(cash_allowed=True, cash_limit_pence=1_000)
    spend(over, 9_000, mcc="6011", name="ATM")
    spend(over, 9_000, mcc="6011", name="ATM", on=TODAY - timedelta(days=10))

    monitoring_rules_run(rules=[Rule.CASH_ABOVE_PLAN])

    flagged = {case.budget_holder for case in cases(Rule.CASH_ABOVE_PLAN)}
    assert flagged == {no_cash.budget_holder, over.budget_holder}


def test_a_dormant_card_with_a_rising_balance_is_flagged_and_a_used_card_is_not():
    dormant = open_budget()
    Card.objects.create(budget=dormant, scheme=CardScheme.DEFAULT, reference="card-dormant")
    spend(dormant, 1_000, on=TODAY - timedelta(days=100))
    used = open_budget()
    Card.objects.create(budget=used, scheme=CardScheme.DEFAULT, reference="card-used")
    spend(used, 1_000, on=TODAY - timedelta(days=5))
    no_card = open_budget()  # no card: nothing to be dormant

    monitoring_rules_run(rules=[Rule.DORMANT_CARD])

    [case] = cases(Rule.DORMANT_CARD)
    assert case.budget_holder == dormant.budget_holder
    assert no_card.budget_holder != case.budget_holder
    assert "balance rose" in case.summary


def test_spending_after_the_end_date_is_flagged():
    ended = make_budget(starts_on=TODAY - timedelta(days=400), ends_on=TODAY - timedelta(days=30))
    budget_loads_post_due(on=TODAY)
    spend(ended, 3_000, on=TODAY - timedelta(days=10))
    spend(ended, 3_000, on=TODAY - timedelta(days=40))  # before the end: fine
    current = open_budget()
    spend(current, 3_000)

    monitoring_rules_run(rules=[Rule.AFTER_END_DATE])

    [case] = cases(Rule.AFTER_END_DATE)
    assert case.budget_holder == ended.budget_holder and case.amount_pence == 3_000


def test_repeated_round_payments_to_unknown_payees_are_flagged_but_odd_amounts_are_not():
    suspicious = open_budget()
    for days in (5, 20, 40):
        spend(suspicious, 10_000, name="J SMITH", mcc="", on=TODAY - timedelta(days=days))
    ordinary = open_budget()
    for days in (5, 20, 40):
        spend(ordinary, 10_037, name="CORNER SHOP", mcc="", on=TODAY - timedelta(days=days))

    monitoring_rules_run(rules=[Rule.ROUND_TRANSFERS])

    [case] = cases(Rule.ROUND_TRANSFERS)
    assert case.budget_holder == suspicious.budget_holder and "J SMITH" in case.summary
