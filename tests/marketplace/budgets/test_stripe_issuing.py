"""Every Stripe Issuing call we make, against Stripe's own stripe-mock server."""

import pytest

from django.core.management import CommandError, call_command

from marketplace.budgets import stripe_issuing
from marketplace.budgets.models import (
    Card,
    CardTransaction,
    CardTransactionSource,
    CardTransactionType,
)
from marketplace.budgets.services import card_controls_sync, card_issue
from marketplace.budgets.services.reconcile import issuing_reconcile

from .factories import make_budget

pytestmark = [pytest.mark.django_db, pytest.mark.stripe_mock]


def test_spending_controls_block_the_default_set_and_cash_unless_allowed(db):
    budget = make_budget()
    controls = stripe_issuing.spending_controls(budget=budget)
    for category in [
        "betting_casino_gambling",
        "drinking_places",
        "package_stores_beer_wine_and_liquor",
        "cigar_stores_and_stands",
        "dating_escort_services",
        "pawn_shops",
        "wires_money_orders",
        "automated_cash_disburse",
        "manual_cash_disburse",
    ]:
        assert category in controls["blocked_categories"]
    plan = budget.support_plan
    plan.cash_allowed, plan.cash_limit_pence = True, 10_000
    plan.save()
    controls = stripe_issuing.spending_controls(budget=budget)
    assert "automated_cash_disburse" not in controls["blocked_categories"]
    assert {
        "amount": 10_000,
        "interval": "monthly",
        "categories": ["automated_cash_disburse", "manual_cash_disburse"],
    } in controls["spending_limits"]


def test_card_issue_creates_cardholder_and_card_at_stripe(stripe_settings):
    budget = make_budget()
    card = card_issue(budget=budget, email="sam@example.org")
    assert card.reference.startswith("ic_") and card.stripe_cardholder_id.startswith("ich_")
    assert card.last4
    # A second card for the same person reuses the cardholder.
    second = card_issue(budget=budget)
    assert second.stripe_cardholder_id == card.stripe_cardholder_id
    assert Card.objects.filter(budget=budget).count() == 2


def test_card_controls_sync_and_cancel_reach_stripe(stripe_settings):
    card = card_issue(budget=make_budget())
    card_controls_sync(card=card)  # raises if stripe-mock refuses the parameters
    assert stripe_issuing.card_cancel(card_id=card.reference)["id"] == card.reference


def test_reconcile_reports_transactions_missing_from_our_ledger(stripe_settings):
    # stripe-mock always lists one fixture transaction, which we have not posted.
    report = issuing_reconcile()
    assert report.stripe_count >= 1
    assert any("not in our ledger" in line for line in report.differences)


def test_reconcile_agrees_when_we_posted_the_same_transaction(stripe_settings):
    listed = next(stripe_issuing.issuing_transactions())
    budget = make_budget()
    card = Card.objects.create(budget=budget, reference=str(listed["card"]))
    CardTransaction.objects.create(
        source=CardTransactionSource.STRIPE,
        reference=listed["id"],
        budget=budget,
        card=card,
        type=CardTransactionType.CAPTURE,
        amount_pence=-int(listed["amount"]),
        occurred_on=budget.starts_on,
        entry=None,
    )
    report = issuing_reconcile(created_from=1)
    assert not [
        line for line in report.differences if "not in our ledger" in line or "says" in line
    ]


def test_reconcile_command_fails_on_differences(stripe_settings, capsys):
    with pytest.raises(CommandError, match="disagree"):
        call_command("reconcile_stripe_issuing")
    assert "not in our ledger" in capsys.readouterr().out
