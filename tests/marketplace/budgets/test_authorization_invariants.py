"""Real-time decisions never spend money that is not there, whatever the order of events.

Property-based: random runs of authorisation requests (some at blocked shops),
captures and reversals against one funded card. After every step the money
promised by approved, uncaptured authorisations never exceeds the balance,
the cached balance equals the sum of the ledger's postings, and each
authorisation is recorded once.
"""

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from marketplace.budgets.models import (
    Account,
    AccountKind,
    Authorization,
    AuthorizationStatus,
    Card,
    CardScheme,
    DeclineReason,
    Posting,
)
from marketplace.budgets.services import (
    budget_loads_post_due,
    card_authorization_decide,
    card_authorization_update,
    card_transaction_record,
    held_pence,
    ledger_check,
)
from marketplace.budgets.stripe_events import (
    authorization_object,
    merchant_data,
    transaction_object,
)

from .factories import make_budget

pytestmark = pytest.mark.django_db

SHOP = merchant_data(name="Barnet Taxis", category="taxicabs_limousines", category_code="4121")
BOOKIES = merchant_data(
    name="Lucky Star Bets", category="betting_casino_gambling", category_code="7995"
)

steps = st.lists(
    st.tuples(
        st.sampled_from(["request", "request", "request", "blocked", "capture", "reverse"]),
        st.integers(min_value=1, max_value=60_000),
    ),
    min_size=1,
    max_size=25,
)


def _funds(budget) -> int:
    return Account.objects.get(budget=budget, kind=AccountKind.HOLDER_FUNDS).balance_pence


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=steps)
def test_approved_holds_never_exceed_the_balance(steps):
    with transaction.atomic():
        today = timezone.localdate()
        budget = make_budget(
            starts_on=today - timedelta(days=10), ends_on=today + timedelta(days=355)
        )
        budget_loads_post_due(on=today, budgets=[budget])
        card = Card.objects.create(budget=budget, scheme=CardScheme.STRIPE, reference="ic_prop")
        asked, approved = 0, []
        for number, (step, pence) in enumerate(steps):
            if step in ("request", "blocked"):
                obj = authorization_object(
                    card_id=card.reference,
                    cardholder_id="ich_prop",
                    amount_pence=pence,
                    merchant=BOOKIES if step == "blocked" else SHOP,
                    authorization_id=f"iauth_prop_{number}",
                )
                available = _funds(budget) - held_pence(budget=budget)
                decision = card_authorization_decide(authorization=obj)
                asked += 1
                if step == "blocked":
                    assert decision.decline_reason == DeclineReason.BLOCKED_CATEGORY
                else:
                    # Approved exactly when the money is there.
                    assert decision.approved == (pence <= available)
                if decision.approved:
                    approved.append(obj)
            elif step == "capture" and approved:
                obj = approved.pop(0)
                card_transaction_record(
                    transaction_obj=transaction_object(
                        card_id=card.reference,
                        cardholder_id="ich_prop",
                        amount_pence=obj["pending_request"]["amount"],
                        merchant=SHOP,
                        authorization_id=obj["id"],
                        transaction_id=f"ipi_prop_{number}",
                    )
                )
            elif step == "reverse" and approved:
                obj = approved.pop()
                card_authorization_update(
                    authorization=dict(obj, approved=True, status="reversed", pending_request=None)
                )
            assert held_pence(budget=budget) <= _funds(budget)
            assert (
                _funds(budget)
                == (
                    Posting.objects.filter(
                        account__budget=budget, account__kind=AccountKind.HOLDER_FUNDS
                    ).aggregate(total=Sum("amount_pence"))["total"]
                )
            )
        assert Authorization.objects.filter(budget=budget).count() == asked
        assert held_pence(budget=budget) == sum(
            obj["pending_request"]["amount"] for obj in approved
        )
        assert not Authorization.objects.filter(
            budget=budget, approved=True, status=AuthorizationStatus.PENDING
        ).exclude(stripe_authorization_id__in=[obj["id"] for obj in approved])
        assert ledger_check() == []
        transaction.set_rollback(True)
