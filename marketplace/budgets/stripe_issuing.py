"""Our Stripe Issuing calls: cardholders, cards and their spending controls, and the
transactions list the reconciliation reads. Every call goes through
``marketplace.payments.stripe_api.client()``; tests run them against stripe-mock.
"""

from collections.abc import Iterator

from marketplace.payments.stripe_api import client

from .card_rules import CASH_CATEGORIES, blocked_categories_for_plan
from .models import PersonalBudget


def spending_controls(*, budget: PersonalBudget) -> dict:
    """Stripe ``spending_controls`` that follow the support plan.

    The blocked set is the council's default (gambling, bars, off-licences,
    tobacco, dating and escort, pawn shops, money transfer) plus cash unless
    the plan allows it. Service categories the plan names are enforced by our
    own real-time decision, not by a fixed list of merchants: guidance says a
    card must not tie people to a list of providers.
    """
    plan = budget.support_plan
    limits = [
        # No single payment bigger than one load.
        {"amount": max(budget.load_amount_pence, 100), "interval": "per_authorization"},
        # About a month's money in any month, so a lost card cannot empty the budget.
        {"amount": max(budget.annual_amount_pence // 12, 100), "interval": "monthly"},
    ]
    if plan.cash_allowed and plan.cash_limit_pence:
        limits.append(
            {
                "amount": plan.cash_limit_pence,
                "interval": "monthly",
                "categories": list(CASH_CATEGORIES),
            }
        )
    return {
        "blocked_categories": blocked_categories_for_plan(plan),
        "spending_limits": limits,
    }


def cardholder_create(*, budget: PersonalBudget, email: str = "") -> dict:
    holder = budget.budget_holder
    first, _, last = holder.full_name.partition(" ")
    params = {
        "type": "individual",
        "name": holder.full_name[:24],
        "individual": {"first_name": first, "last_name": last or first},
        "billing": {
            "address": {
                "line1": "Council card services",
                "city": "London",
                "postal_code": holder.postcode,
                "country": "GB",
            }
        },
        "metadata": {"council_reference": holder.council_reference, "budget_id": str(budget.pk)},
    }
    if email:
        params["email"] = email
    return client().v1.issuing.cardholders.create(params=params).to_dict()


def card_create(*, budget: PersonalBudget, cardholder_id: str, physical: bool = False) -> dict:
    params = {
        "cardholder": cardholder_id,
        "currency": "gbp",
        "type": "physical" if physical else "virtual",
        "status": "active",
        "spending_controls": spending_controls(budget=budget),
        "metadata": {"budget_id": str(budget.pk)},
    }
    return client().v1.issuing.cards.create(params=params).to_dict()


def card_controls_update(*, card_id: str, budget: PersonalBudget) -> dict:
    params = {"spending_controls": spending_controls(budget=budget)}
    return client().v1.issuing.cards.update(card_id, params=params).to_dict()


def card_cancel(*, card_id: str) -> dict:
    return client().v1.issuing.cards.update(card_id, params={"status": "canceled"}).to_dict()


def issuing_transactions(*, created_from: int | None = None) -> Iterator[dict]:
    """Every Issuing transaction Stripe holds (optionally since a Unix time), page by page."""
    params: dict = {"limit": 100}
    if created_from:
        params["created"] = {"gte": created_from}
    page = client().v1.issuing.transactions.list(params=params)
    for item in page.auto_paging_iter():
        yield item.to_dict()


def card_status_update(*, card_id: str, status: str) -> dict:
    """Freeze (``inactive``), unfreeze (``active``) or cancel (``canceled``) a card at Stripe."""
    return client().v1.issuing.cards.update(card_id, params={"status": status}).to_dict()
