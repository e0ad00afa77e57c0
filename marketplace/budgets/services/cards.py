"""Card authorisations and card transactions: the Stripe Issuing path and its decisions."""

import logging
from datetime import UTC, date, datetime, timedelta

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from marketplace.payments.mcc import category_for_mcc
from marketplace.payments.models import Channel
from marketplace.payments.services import purchase_record

from ..card_rules import blocked_category_for, category_words, is_cash
from ..models import (
    Account,
    AccountKind,
    Authorization,
    AuthorizationStatus,
    Card,
    CardScheme,
    CardStatus,
    CardTransaction,
    CardTransactionSource,
    CardTransactionType,
    DeclineReason,
    EntryKind,
    PersonalBudget,
)
from .ledger import budget_accounts, ledger_post

logger = logging.getLogger(__name__)

# A refund whose payment never arrives is posted anyway after this long:
# the money did come back to the card.
HELD_REFUND_LIMIT = timedelta(days=3)


def _merchant(obj: dict) -> dict:
    data = obj.get("merchant_data") or {}
    return {
        "merchant_name": (data.get("name") or "")[:200],
        "merchant_category": data.get("category") or "",
        "merchant_category_code": (data.get("category_code") or "")[:4],
        "merchant_postcode": (data.get("postal_code") or "")[:12],
        "merchant_id": (data.get("network_id") or "")[:64],
    }


def _card_id(obj: dict) -> str:
    card = obj.get("card")
    return card.get("id", "") if isinstance(card, dict) else (card or "")


def _on(timestamp: int | None) -> date:
    if not timestamp:
        return timezone.localdate()
    return timezone.localtime(datetime.fromtimestamp(timestamp, tz=UTC)).date()


def held_pence(*, budget: PersonalBudget) -> int:
    """Money promised to shops by approved authorisations not yet captured."""
    return (
        Authorization.objects.filter(
            budget=budget, approved=True, status=AuthorizationStatus.PENDING
        ).aggregate(total=Sum("amount_pence"))["total"]
        or 0
    )


def _decide(
    *, card: Card | None, amount_pence: int, merchant: dict, on: date
) -> tuple[DeclineReason | None, str]:
    """Our rules, in the order a person would want to be told. Returns (reason, message)."""
    if card is None:
        return DeclineReason.UNKNOWN_CARD, "Declined: this card is not linked to a personal budget"
    budget = card.budget
    if card.status != CardStatus.ACTIVE:
        return DeclineReason.CARD_INACTIVE, "Declined: this card is not active"
    if not budget.is_open_on(on):
        return DeclineReason.BUDGET_CLOSED, (
            f"Declined: the budget ended on {budget.ends_on:%d %B %Y}"
            if on > budget.ends_on
            else "Declined: the budget is not open"
        )
    category, mcc = merchant["merchant_category"], merchant["merchant_category_code"]
    blocked = blocked_category_for(category=category, mcc=mcc)
    if blocked:
        return (
            DeclineReason.BLOCKED_CATEGORY,
            f"Declined: {category_words(blocked)} cannot be paid with this card",
        )
    plan = budget.support_plan
    if is_cash(category=category, mcc=mcc):
        if not plan.cash_allowed:
            return DeclineReason.CASH_NOT_ALLOWED, "Declined: the support plan does not allow cash"
        since = timezone.now() - timedelta(days=28)
        taken = (
            Authorization.objects.filter(
                budget=budget,
                approved=True,
                decided_at__gte=since,
                merchant_category_code__in=["6010", "6011"],
            )
            .exclude(status=AuthorizationStatus.REVERSED)
            .aggregate(total=Sum("amount_pence"))["total"]
            or 0
        )
        if taken + amount_pence > plan.cash_limit_pence:
            return (
                DeclineReason.CASH_LIMIT,
                "Declined: this would go over the cash limit for 4 weeks",
            )
    else:
        service_category = category_for_mcc(mcc)
        if not plan.allows_category(service_category):
            return DeclineReason.NOT_IN_PLAN, (
                f"Declined: {service_category.label.lower()} is not in the support plan"
            )
    funds = Account.objects.select_for_update().get(budget=budget, kind=AccountKind.HOLDER_FUNDS)
    if amount_pence > funds.balance_pence - held_pence(budget=budget):
        return (
            DeclineReason.INSUFFICIENT_FUNDS,
            "Declined: there was not enough money in the budget",
        )
    return None, ""


def card_authorization_decide(*, authorization: dict) -> Authorization:
    """Decide an ``issuing_authorization.request`` by our rules and record it, once.

    Guarantees: the decision and its reason are stored before we answer; the
    budget's funds are locked while deciding, so two payments at once cannot
    both spend the same money; asking again about the same authorisation
    returns the first decision.
    """
    with transaction.atomic():
        existing = Authorization.objects.filter(stripe_authorization_id=authorization["id"]).first()
        if existing is not None:
            return existing
        merchant = _merchant(authorization)
        pending = authorization.get("pending_request") or {}
        amount_pence = int(pending.get("amount") or authorization.get("amount") or 0)
        card = (
            Card.objects.select_related("budget", "budget__support_plan")
            .filter(scheme=CardScheme.STRIPE, reference=_card_id(authorization))
            .first()
        )
        reason, message = _decide(
            card=card, amount_pence=amount_pence, merchant=merchant, on=timezone.localdate()
        )
        return Authorization.objects.create(
            stripe_authorization_id=authorization["id"],
            card=card,
            budget=card.budget if card else None,
            amount_pence=amount_pence,
            approved=reason is None,
            decline_reason=reason or "",
            decline_message=message,
            decided_at=timezone.now(),
            **merchant,
        )


def card_authorization_update(*, authorization: dict) -> Authorization:
    """Follow Stripe's view of an authorisation (``created``/``updated`` events), in any order.

    An authorisation we never decided (Stripe's own controls declined it, or
    the request event was lost) is recorded from the event. Once its payment
    has arrived the hold is closed, whatever order the events came in.
    """
    with transaction.atomic():
        record = (
            Authorization.objects.select_for_update()
            .filter(stripe_authorization_id=authorization["id"])
            .first()
        )
        status = authorization.get("status") or AuthorizationStatus.PENDING
        if record is None:
            card = Card.objects.filter(
                scheme=CardScheme.STRIPE, reference=_card_id(authorization)
            ).first()
            merchant = _merchant(authorization)
            approved = bool(authorization.get("approved"))
            blocked = blocked_category_for(
                category=merchant["merchant_category"], mcc=merchant["merchant_category_code"]
            )
            reason, message = "", ""
            if not approved:
                reason = (
                    DeclineReason.BLOCKED_CATEGORY if blocked else DeclineReason.INSUFFICIENT_FUNDS
                )
                message = (
                    f"Declined: {category_words(blocked)} cannot be paid with this card"
                    if blocked
                    else "Declined by the card scheme"
                )
            record = Authorization.objects.create(
                stripe_authorization_id=authorization["id"],
                card=card,
                budget=card.budget if card else None,
                amount_pence=int(
                    authorization.get("merchant_amount") or authorization.get("amount") or 0
                ),
                approved=approved,
                decline_reason=reason,
                decline_message=message,
                decided_at=timezone.now(),
                status=status,
                **merchant,
            )
        elif status != record.status and record.status == AuthorizationStatus.PENDING:
            record.status = status
            record.save(update_fields=["status"])
        if (
            record.status == AuthorizationStatus.PENDING
            and CardTransaction.objects.filter(
                stripe_authorization_id=record.stripe_authorization_id,
                type=CardTransactionType.CAPTURE,
            ).exists()
        ):
            record.status = AuthorizationStatus.CLOSED
            record.save(update_fields=["status"])
        return record


def card_transaction_record(*, transaction_obj: dict) -> CardTransaction | None:
    """Post a Stripe Issuing capture or refund to the ledger and record the purchase, once.

    Guarantees: a transaction id is posted once however often it arrives;
    a capture closes its authorisation's hold; a refund that arrives before
    the payment it refunds waits and is posted when that payment arrives (or
    after ``HELD_REFUND_LIMIT``); the ledger entry and the purchase commit together.
    """
    with transaction.atomic():
        existing = CardTransaction.objects.filter(
            source=CardTransactionSource.STRIPE, reference=transaction_obj["id"]
        ).first()
        if existing is not None:
            return existing
        card = (
            Card.objects.select_related("budget")
            .filter(scheme=CardScheme.STRIPE, reference=_card_id(transaction_obj))
            .first()
        )
        if card is None:
            logger.warning(
                "Issuing transaction %s is for a card we do not know", transaction_obj["id"]
            )
            return None
        kind = (
            CardTransactionType.REFUND
            if transaction_obj.get("type") == "refund"
            else CardTransactionType.CAPTURE
        )
        # Stripe's amount is from the balance's side: negative for a payment.
        spend_pence = -int(transaction_obj["amount"])
        merchant = _merchant(transaction_obj)
        merchant.pop("merchant_category")
        authorization_id = transaction_obj.get("authorization") or ""
        record = CardTransaction(
            source=CardTransactionSource.STRIPE,
            reference=transaction_obj["id"],
            budget=card.budget,
            card=card,
            stripe_authorization_id=authorization_id,
            type=kind,
            amount_pence=spend_pence,
            occurred_on=_on(transaction_obj.get("created")),
            **merchant,
        )
        if (
            kind == CardTransactionType.REFUND
            and authorization_id
            and not CardTransaction.objects.filter(
                stripe_authorization_id=authorization_id, type=CardTransactionType.CAPTURE
            ).exists()
        ):
            record.held = True
            record.save()
            return record
        record.save()
        _post(record)
        if kind == CardTransactionType.CAPTURE and authorization_id:
            Authorization.objects.filter(
                stripe_authorization_id=authorization_id, status=AuthorizationStatus.PENDING
            ).update(status=AuthorizationStatus.CLOSED)
            for held in CardTransaction.objects.select_for_update().filter(
                stripe_authorization_id=authorization_id, held=True
            ):
                _post(held)
        return record


def card_refunds_release_held(*, now: datetime | None = None) -> int:
    """Post refunds that have waited longer than ``HELD_REFUND_LIMIT`` for their payment."""
    cutoff = (now or timezone.now()) - HELD_REFUND_LIMIT
    released = 0
    with transaction.atomic():
        for held in CardTransaction.objects.select_for_update().filter(
            held=True, created_at__lte=cutoff
        ):
            _post(held)
            released += 1
    return released


def _post(record: CardTransaction) -> None:
    """Ledger entry and purchase for one card transaction (caller holds a transaction)."""
    accounts = budget_accounts(budget=record.budget)
    funds, clearing = accounts[AccountKind.HOLDER_FUNDS], accounts[AccountKind.CARD_CLEARING]
    pence = record.amount_pence
    if record.type == CardTransactionType.CAPTURE:
        kind, lines = EntryKind.CARD_SPEND, [(funds, -pence), (clearing, pence)]
    else:
        kind, lines = EntryKind.REFUND, [(clearing, pence), (funds, -pence)]
    entry, _ = ledger_post(
        kind=kind,
        source_type=f"card_{record.source}",
        source_id=record.reference,
        lines=lines,
        occurred_on=record.occurred_on,
        memo=record.merchant_name,
    )
    channel = (
        Channel.CARD if record.source == CardTransactionSource.STRIPE else Channel.CARD_STATEMENT
    )
    purchase_record(
        budget_holder=record.budget.budget_holder,
        amount_pence=pence,
        occurred_on=record.occurred_on,
        channel=channel,
        source_reference=f"{record.source}:{record.reference}",
        merchant_name=record.merchant_name,
        merchant_category_code=record.merchant_category_code,
        merchant_postcode=record.merchant_postcode,
        stripe_merchant_id=record.merchant_id,
    )
    record.entry = entry
    record.held = False
    record.save(update_fields=["entry", "held"])


def card_issue(*, budget: PersonalBudget, email: str = "", physical: bool = False) -> Card:
    """Issue a Stripe card for the budget, with controls that follow its support plan.

    The Stripe calls come first (they give the ids we keep); the card is
    recorded once Stripe has created it. A cardholder made earlier is reused.
    """
    from .. import stripe_issuing

    cardholder_id = (
        Card.objects.filter(budget__budget_holder=budget.budget_holder, scheme=CardScheme.STRIPE)
        .exclude(stripe_cardholder_id="")
        .values_list("stripe_cardholder_id", flat=True)
        .first()
    )
    if not cardholder_id:
        cardholder_id = stripe_issuing.cardholder_create(budget=budget, email=email)["id"]
    stripe_card = stripe_issuing.card_create(
        budget=budget, cardholder_id=cardholder_id, physical=physical
    )
    return Card.objects.create(
        budget=budget,
        scheme=CardScheme.STRIPE,
        reference=stripe_card["id"],
        stripe_cardholder_id=cardholder_id,
        last4=stripe_card.get("last4") or "",
        status=CardStatus.ACTIVE if stripe_card.get("status") == "active" else CardStatus.INACTIVE,
    )


def card_controls_sync(*, card: Card) -> None:
    """Send the support plan's current controls to Stripe (after the plan changes)."""
    from .. import stripe_issuing

    stripe_issuing.card_controls_update(card_id=card.reference, budget=card.budget)
