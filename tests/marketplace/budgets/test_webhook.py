"""POST /webhooks/stripe/: signatures, once-only events, real-time decisions, captures and refunds."""

import time

import pytest

from marketplace.budgets import webhooks
from marketplace.budgets.models import (
    Account,
    AccountKind,
    Authorization,
    AuthorizationStatus,
    CardTransaction,
    DeclineReason,
    JournalEntry,
    StripeEvent,
)
from marketplace.budgets.selectors import budget_available_pence
from marketplace.budgets.services import card_refunds_release_held, ledger_check
from marketplace.budgets.stripe_events import (
    API_VERSION,
    authorization_object,
    event_payload,
    merchant_data,
    transaction_object,
)
from marketplace.payments.models import Channel, Purchase

pytestmark = pytest.mark.django_db

DAY_TRIP = merchant_data(
    name="Thames Day Trips",
    category="tourist_attractions_and_exhibits",
    category_code="7991",
    postal_code="SE1 7PB",
)
BOOKIES = merchant_data(
    name="Lucky Star Bets", category="betting_casino_gambling", category_code="7995"
)
CASH = merchant_data(name="ATM High Road", category="automated_cash_disburse", category_code="6011")


def _request(card, pence, merchant, **kwargs):
    obj = authorization_object(
        card_id=card.reference,
        cardholder_id="ich_test",
        amount_pence=pence,
        merchant=merchant,
        **kwargs,
    )
    return event_payload("issuing_authorization.request", obj), obj


def _funds(card):
    return Account.objects.get(budget=card.budget, kind=AccountKind.HOLDER_FUNDS).balance_pence


def _capture(card, pence, merchant, authorization_id, **kwargs):
    return event_payload(
        "issuing_transaction.created",
        transaction_object(
            card_id=card.reference,
            cardholder_id="ich_test",
            amount_pence=pence,
            merchant=merchant,
            authorization_id=authorization_id,
            **kwargs,
        ),
    )


def test_day_trip_is_approved_with_stripes_direct_response(deliver, funded_card):
    event, _ = _request(funded_card, 4500, DAY_TRIP)
    response = deliver(event)
    assert response.status_code == 200
    assert response.json() == {"approved": True}
    assert response["Stripe-Version"] == API_VERSION
    decision = Authorization.objects.get()
    assert decision.approved and decision.merchant_name == "Thames Day Trips"
    # The approved amount is held until it is captured.
    assert budget_available_pence(budget=funded_card.budget) == 100_000 - 4500


def test_betting_shop_is_declined_in_plain_words(deliver, funded_card):
    event, _ = _request(funded_card, 2000, BOOKIES)
    response = deliver(event)
    assert response.json() == {"approved": False}
    decision = Authorization.objects.get()
    assert decision.decline_reason == DeclineReason.BLOCKED_CATEGORY
    assert (
        decision.decline_message
        == "Declined: betting shops and casinos cannot be paid with this card"
    )
    assert budget_available_pence(budget=funded_card.budget) == 100_000


def test_cash_is_declined_unless_the_plan_allows_it_and_then_only_to_the_limit(
    deliver, funded_card
):
    assert deliver(_request(funded_card, 1000, CASH)[0]).json() == {"approved": False}
    plan = funded_card.budget.support_plan
    plan.cash_allowed, plan.cash_limit_pence = True, 5000
    plan.save()
    assert deliver(_request(funded_card, 4000, CASH)[0]).json() == {"approved": True}
    assert deliver(_request(funded_card, 2000, CASH)[0]).json() == {"approved": False}
    reasons = list(
        Authorization.objects.order_by("decided_at").values_list("decline_reason", flat=True)
    )
    assert reasons == [DeclineReason.CASH_NOT_ALLOWED, "", DeclineReason.CASH_LIMIT]


def test_more_than_the_available_balance_is_declined(deliver, funded_card):
    assert deliver(_request(funded_card, 60_000, DAY_TRIP)[0]).json() == {"approved": True}
    # 40,000p left after the first hold.
    assert deliver(_request(funded_card, 40_001, DAY_TRIP)[0]).json() == {"approved": False}
    assert (
        Authorization.objects.filter(decline_reason=DeclineReason.INSUFFICIENT_FUNDS).count() == 1
    )


def test_category_outside_the_plan_and_an_ended_budget_are_declined(deliver, funded_card):
    plan = funded_card.budget.support_plan
    plan.allowed_categories = ["home_care"]
    plan.save()
    assert deliver(_request(funded_card, 100, DAY_TRIP)[0]).json() == {"approved": False}
    assert (
        Authorization.objects.get().decline_message
        == "Declined: social and leisure activities is not in the support plan"
    )
    budget = funded_card.budget
    budget.ends_on = budget.starts_on + __import__("datetime").timedelta(days=1)
    budget.save()
    plan.allowed_categories = []
    plan.save()
    assert deliver(_request(funded_card, 100, DAY_TRIP)[0]).json() == {"approved": False}
    assert Authorization.objects.filter(decline_reason=DeclineReason.BUDGET_CLOSED).exists()


def test_capture_posts_to_the_ledger_records_the_purchase_and_releases_the_hold(
    deliver, funded_card
):
    request, auth = _request(funded_card, 4500, DAY_TRIP)
    deliver(request)
    assert deliver(_capture(funded_card, 4500, DAY_TRIP, auth["id"])).status_code == 200
    assert _funds(funded_card) == 100_000 - 4500
    assert budget_available_pence(budget=funded_card.budget) == 100_000 - 4500
    assert Authorization.objects.get().status == AuthorizationStatus.CLOSED
    purchase = Purchase.objects.get(channel=Channel.CARD)
    assert purchase.amount_pence == 4500 and purchase.merchant_name == "Thames Day Trips"
    assert ledger_check() == []


def test_duplicate_event_is_ignored(deliver, funded_card):
    capture = _capture(funded_card, 1200, DAY_TRIP, None)
    assert deliver(capture).status_code == 200
    assert deliver(capture).status_code == 200
    assert StripeEvent.objects.count() == 1
    assert _funds(funded_card) == 100_000 - 1200
    assert Purchase.objects.count() == 1


def test_duplicate_authorization_request_gets_the_same_answer(deliver, funded_card):
    event, _ = _request(funded_card, 2000, BOOKIES)
    assert deliver(event).json() == {"approved": False}
    assert deliver(event).json() == {"approved": False}
    assert Authorization.objects.count() == 1


def test_same_transaction_in_a_new_event_is_posted_once(deliver, funded_card):
    capture = _capture(funded_card, 1200, DAY_TRIP, None)
    again = dict(capture, id="evt_redelivered_under_a_new_id")
    deliver(capture)
    deliver(again)
    assert StripeEvent.objects.count() == 2
    assert JournalEntry.objects.filter(kind="card_spend").count() == 1


@pytest.mark.parametrize(
    "problem",
    ["unsigned", "wrong secret", "tampered", "expired", "malformed"],
)
def test_bad_requests_get_400_are_logged_and_change_nothing(
    deliver, funded_card, client, caplog, problem
):
    capture = _capture(funded_card, 1200, DAY_TRIP, None)
    if problem == "unsigned":
        response = deliver(capture, header=False)
    elif problem == "wrong secret":
        response = deliver(capture, secret="whsec_someone_else")
    elif problem == "tampered":
        from marketplace.budgets.stripe_events import encode, signature_header

        header = signature_header(encode(capture), "whsec_test_secret")
        capture["data"]["object"]["amount"] = -1
        response = deliver(capture, header=header)
    elif problem == "expired":
        response = deliver(capture, timestamp=int(time.time()) - 3600)
    else:
        from marketplace.budgets.stripe_events import signature_header

        body = b'{"id": "evt_1", "type": '
        response = client.post(
            "/webhooks/stripe/",
            data=body,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=signature_header(body, "whsec_test_secret"),
        )
    assert response.status_code == 400
    assert "Rejected Stripe webhook" in caplog.text
    assert not StripeEvent.objects.exists()
    assert _funds(funded_card) == 100_000


def test_crash_between_receiving_and_committing_then_redelivery_is_processed_once(
    deliver, funded_card, monkeypatch
):
    capture = _capture(funded_card, 3000, DAY_TRIP, None)
    real = webhooks.CARD_HANDLERS["issuing_transaction.created"]

    def crash_after_writing(event):
        real(event)
        raise RuntimeError("the process died before committing")

    monkeypatch.setitem(webhooks.CARD_HANDLERS, "issuing_transaction.created", crash_after_writing)
    assert deliver(capture).status_code == 500
    assert not StripeEvent.objects.exists()
    assert not CardTransaction.objects.exists()
    assert _funds(funded_card) == 100_000
    monkeypatch.setitem(webhooks.CARD_HANDLERS, "issuing_transaction.created", real)
    assert deliver(capture).status_code == 200
    assert deliver(capture).status_code == 200
    assert _funds(funded_card) == 100_000 - 3000
    assert Purchase.objects.count() == 1


def test_transaction_before_its_authorization_leaves_no_hold(deliver, funded_card):
    request, auth = _request(funded_card, 2500, DAY_TRIP)
    created = event_payload(
        "issuing_authorization.created",
        dict(auth, approved=True, status="pending", amount=2500, pending_request=None),
    )
    deliver(_capture(funded_card, 2500, DAY_TRIP, auth["id"]))
    deliver(created)
    assert Authorization.objects.get().status == AuthorizationStatus.CLOSED
    assert budget_available_pence(budget=funded_card.budget) == 100_000 - 2500


def test_refund_before_its_capture_waits_then_posts(deliver, funded_card):
    request, auth = _request(funded_card, 5000, DAY_TRIP)
    deliver(request)
    refund = _capture(funded_card, 1500, DAY_TRIP, auth["id"], type="refund")
    deliver(refund)
    held = CardTransaction.objects.get(type="refund")
    assert held.held and held.entry is None
    assert _funds(funded_card) == 100_000
    deliver(_capture(funded_card, 5000, DAY_TRIP, auth["id"]))
    held.refresh_from_db()
    assert not held.held and held.entry is not None
    assert _funds(funded_card) == 100_000 - 5000 + 1500
    assert sorted(Purchase.objects.values_list("amount_pence", flat=True)) == [-1500, 5000]
    assert ledger_check() == []


def test_delayed_refund_whose_capture_never_comes_is_posted_after_three_days(deliver, funded_card):
    from datetime import timedelta

    from django.utils import timezone

    deliver(_capture(funded_card, 700, DAY_TRIP, "iauth_never_seen", type="refund"))
    assert card_refunds_release_held() == 0
    assert card_refunds_release_held(now=timezone.now() + timedelta(days=4)) == 1
    assert _funds(funded_card) == 100_000 + 700


def test_authorization_updates_release_a_reversed_hold(deliver, funded_card):
    request, auth = _request(funded_card, 9000, DAY_TRIP)
    deliver(request)
    deliver(
        event_payload(
            "issuing_authorization.updated",
            dict(auth, approved=True, status="reversed", pending_request=None),
        )
    )
    assert Authorization.objects.get().status == AuthorizationStatus.REVERSED
    assert budget_available_pence(budget=funded_card.budget) == 100_000


def test_unknown_event_types_are_stored_and_acknowledged(deliver, funded_card):
    assert (
        deliver(
            event_payload("issuing_card.created", {"id": "ic_x", "object": "issuing.card"})
        ).status_code
        == 200
    )
    assert StripeEvent.objects.filter(type="issuing_card.created").exists()
