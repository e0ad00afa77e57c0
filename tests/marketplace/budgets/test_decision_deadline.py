"""Real-time authorisations answer within Stripe's 2 seconds, even when the database is slow.

A decision that cannot finish by its deadline becomes a decline, recorded
with its reason, so Stripe never waits and never falls back to its own default.
"""

import time

import pytest

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from marketplace.budgets.models import (
    Account,
    AccountKind,
    Authorization,
    DeclineReason,
    StripeEvent,
)
from marketplace.budgets.services import cards
from marketplace.budgets.stripe_events import authorization_object, event_payload, merchant_data

DAY_TRIP = merchant_data(
    name="Thames Day Trips", category="tourist_attractions_and_exhibits", category_code="7991"
)
STRIPE_LIMIT_S = 2.0


def _request(card, pence=4500):
    obj = authorization_object(
        card_id=card.reference, cardholder_id="ich_test", amount_pence=pence, merchant=DAY_TRIP
    )
    return event_payload("issuing_authorization.request", obj)


def _timed(deliver, event):
    deliver(event, header=False)  # warm up: the first request in a process loads the URLs
    started = time.monotonic()
    response = deliver(event)
    return response, time.monotonic() - started


@pytest.fixture
def short_deadline(settings):
    settings.CARD_DECISION_DEADLINE_MS = 300
    return 0.3


@pytest.mark.postgresql  # statement and lock timeouts
@pytest.mark.django_db(transaction=True)
def test_a_locked_budget_is_declined_in_time_and_the_decline_is_recorded(
    deliver, funded_card, short_deadline
):
    # Another payment holds the budget's funds row and does not let go.
    holder = connection.copy()
    holder.connect()
    holder.set_autocommit(False)
    try:
        with holder.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM budgets_account WHERE budget_id = %s AND kind = %s FOR UPDATE",
                [funded_card.budget_id, AccountKind.HOLDER_FUNDS],
            )
        event = _request(funded_card)
        response, elapsed = _timed(deliver, event)
    finally:
        holder.rollback()
        holder.close()

    assert response.status_code == 200
    assert response.json() == {"approved": False}
    assert elapsed < STRIPE_LIMIT_S
    decision = Authorization.objects.get()
    assert decision.decline_reason == DeclineReason.NOT_DECIDED
    assert decision.card == funded_card and decision.amount_pence == 4500
    assert StripeEvent.objects.get(event_id=event["id"]).response == {"approved": False}
    # Stripe asking again gets the same answer, and nothing is decided twice.
    assert deliver(event).json() == {"approved": False}
    assert Authorization.objects.count() == 1


@pytest.mark.postgresql  # statement and lock timeouts
@pytest.mark.django_db(transaction=True)
def test_a_statement_that_runs_too_long_is_cancelled_and_declined(
    deliver, funded_card, short_deadline, monkeypatch
):
    def slow_holds(*, budget_id):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(5)")
        return 0

    monkeypatch.setattr(cards, "_held_pence", slow_holds)
    response, elapsed = _timed(deliver, _request(funded_card))
    assert response.json() == {"approved": False}
    assert elapsed < STRIPE_LIMIT_S
    assert Authorization.objects.get().decline_reason == DeclineReason.NOT_DECIDED


@pytest.mark.django_db
def test_many_slow_statements_stop_at_the_deadline(
    deliver, funded_card, short_deadline, monkeypatch
):
    # Each statement is quick enough for the statement timeout, but together they are late.
    real = cards._held_pence

    def slow_holds(*, budget_id):
        time.sleep(short_deadline + 0.05)
        return real(budget_id=budget_id)

    monkeypatch.setattr(cards, "_held_pence", slow_holds)
    response, elapsed = _timed(deliver, _request(funded_card))
    assert response.json() == {"approved": False}
    assert elapsed < STRIPE_LIMIT_S
    decision = Authorization.objects.get()
    assert decision.decline_reason == DeclineReason.NOT_DECIDED
    assert "in time" in decision.decline_message


@pytest.mark.django_db
def test_a_failing_decision_declines_rather_than_leaving_it_to_stripe(
    deliver, funded_card, monkeypatch
):
    def broken(**kwargs):
        raise RuntimeError("a bug in a rule")

    monkeypatch.setattr(cards, "_available_pence_locked", broken)
    response = deliver(_request(funded_card))
    assert response.status_code == 200
    assert response.json() == {"approved": False}
    assert Authorization.objects.get().decline_reason == DeclineReason.NOT_DECIDED


@pytest.mark.django_db
def test_a_decision_in_time_is_unchanged_and_takes_a_handful_of_queries(deliver, funded_card):
    with CaptureQueriesContext(connection) as captured:
        response = deliver(_request(funded_card, pence=2500))
    # The test's own transaction turns the view's into a savepoint; those are not work.
    queries = [query["sql"] for query in captured if "SAVEPOINT" not in query["sql"]]
    assert response.json() == {"approved": True}
    decision = Authorization.objects.get()
    assert decision.approved and decision.decline_reason == ""
    # The deadline's limits (when the webhook owns the transaction), the event once,
    # the card with budget and plan, the locked balance, the holds, the decision,
    # the stored answer: no query per rule.
    assert len(queries) <= 7, queries
    funds = Account.objects.get(budget=funded_card.budget, kind=AccountKind.HOLDER_FUNDS)
    assert funds.balance_pence - cards.held_pence(budget=funded_card.budget) == 100_000 - 2500


@pytest.mark.postgresql  # statement and lock timeouts
@pytest.mark.django_db(transaction=True)
def test_a_decision_inside_a_larger_transaction_leaves_its_limits_behind(deliver, funded_card):
    # Demo seeding plays events inside one transaction: its later, heavier statements
    # must not inherit the decision's timeouts.
    with transaction.atomic():
        assert deliver(_request(funded_card, pence=1000)).json() == {"approved": True}
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            statement_timeout = cursor.fetchone()[0]
            cursor.execute("SHOW lock_timeout")
            lock_timeout = cursor.fetchone()[0]
    assert (statement_timeout, lock_timeout) == ("0", "0")
    assert Authorization.objects.get().approved
