"""Card authorisations and card transactions: the Stripe Issuing path and its decisions."""

import functools
import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from marketplace.payments.mcc import category_for_mcc
from marketplace.payments.models import Channel
from marketplace.payments.services import purchase_record

from ..card_rules import CASH_MCCS, blocked_category_for, category_words, is_cash
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
    SupportPlan,
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
    return _held_pence(budget_id=budget.pk)


# --- Real-time decisions, against a deadline -------------------------------------

# Stripe waits 2 seconds for our answer. Each statement of a decision may take at
# most this long (statement and lock timeouts) and none starts after it has passed,
# so a decision ends within twice this; the recorded decline that replaces a late
# decision gets half of it again. 500 ms: at most 1.5 s in all.
DEFAULT_DECISION_DEADLINE_MS = 500


_TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK")


class DecisionTimeout(Exception):
    """The decision's deadline passed before the database answered."""


class _Deadline:
    def __init__(self, milliseconds: int):
        self.milliseconds = milliseconds
        self.ends = time.monotonic() + milliseconds / 1000

    def __call__(self, execute, sql, params, many, context):
        # Undoing work is never refused: a savepoint must be able to roll back.
        if time.monotonic() > self.ends and not sql.startswith(_TRANSACTION_CONTROL):
            raise DecisionTimeout(f"{self.milliseconds} ms passed before the decision was made")
        return execute(sql, params, many, context)

    def limit_statements(self) -> None:
        """Bound each statement of the current transaction (PostgreSQL; a no-op elsewhere).

        Only when the caller's block is the whole transaction, as in a webhook
        request: the limits last until the transaction ends, and must not fall on
        a larger piece of work that happens to decide a payment on its way
        (demo seeding, a test's own transaction). The clock still applies there.
        """
        if connection.vendor != "postgresql" or len(connection.atomic_blocks) != 1:
            return
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('statement_timeout', %s, true), "
                "set_config('lock_timeout', %s, true)",
                [f"{self.milliseconds}ms"] * 2,
            )


@contextmanager
def card_decision_deadline(*, fallback: bool = False) -> Iterator[_Deadline]:
    """Run a real-time decision against Stripe's clock; raises ``DecisionTimeout`` when late.

    No query starts after the deadline; inside a transaction, call
    ``limit_statements()`` so that no statement (or wait for a row lock) outlasts it.
    ``settings.CARD_DECISION_DEADLINE_MS`` overrides the default; the fallback
    (recording a decline) gets half.
    """
    milliseconds = getattr(settings, "CARD_DECISION_DEADLINE_MS", DEFAULT_DECISION_DEADLINE_MS)
    deadline = _Deadline(milliseconds // 2 if fallback else milliseconds)
    with connection.execute_wrapper(deadline):
        yield deadline


# The decision's reads and writes are written out in SQL: at 200 decisions a
# second on two cores, building the same ORM queries each time cost more CPU
# than the database spent answering them.
_CARD_FACTS_SQL = """
SELECT card.id, card.status, budget.id, budget.status, budget.starts_on, budget.ends_on,
       plan.id, plan.cash_allowed, plan.cash_limit_pence, plan.allowed_categories,
       (SELECT decided.id FROM {authorization} decided
         WHERE decided.stripe_authorization_id = %(authorization_id)s)
  FROM (SELECT 1) AS one
  LEFT JOIN {card} card ON card.scheme = %(scheme)s AND card.reference = %(card_reference)s
  LEFT JOIN {budget} budget ON budget.id = card.budget_id
  LEFT JOIN {plan} plan ON plan.budget_id = budget.id
"""
_FUNDS_LOCK_SQL = """
SELECT balance_pence FROM {account} WHERE budget_id = %s AND kind = %s {for_update}
"""
_HOLDS_SQL = """
SELECT COALESCE(SUM(amount_pence), 0) FROM {authorization}
 WHERE budget_id = %s AND approved AND status = %s
"""
_DECISION_FIELDS = (
    "stripe_authorization_id",
    "card_id",
    "budget_id",
    "amount_pence",
    "merchant_name",
    "merchant_category",
    "merchant_category_code",
    "merchant_postcode",
    "merchant_id",
    "approved",
    "decline_reason",
    "decline_message",
    "status",
    "decided_at",
)
_DECISION_INSERT_SQL = "INSERT INTO {authorization} ({columns}) VALUES ({values}) RETURNING id"


@functools.cache
def _sql(template: str) -> str:
    # Table names are fixed for the process's life; quoting is the same on
    # PostgreSQL and SQLite.
    tables = {
        "authorization": Authorization._meta.db_table,
        "card": Card._meta.db_table,
        "budget": PersonalBudget._meta.db_table,
        "plan": SupportPlan._meta.db_table,
        "account": Account._meta.db_table,
    }
    return template.format(
        **{name: connection.ops.quote_name(table) for name, table in tables.items()},
        # SQLite has no row locks (its one writer is the lock).
        for_update="FOR UPDATE" if connection.features.has_select_for_update else "",
        columns=", ".join(connection.ops.quote_name(field) for field in _DECISION_FIELDS),
        values=", ".join(["%s"] * len(_DECISION_FIELDS)),
    )


@dataclass(frozen=True)
class _CardFacts:
    """What a decision reads about the card, its budget and plan, in one query."""

    card: Card | None
    existing_id: int | None


def _card_facts(*, card_reference: str, authorization_id: str) -> _CardFacts:
    with connection.cursor() as cursor:
        cursor.execute(
            _sql(_CARD_FACTS_SQL),
            {
                "authorization_id": authorization_id,
                "scheme": CardScheme.STRIPE,
                "card_reference": card_reference,
            },
        )
        (
            card_id,
            card_status,
            budget_id,
            budget_status,
            starts_on,
            ends_on,
            plan_id,
            cash_allowed,
            cash_limit_pence,
            allowed_categories,
            existing_id,
        ) = cursor.fetchone()
    if card_id is None:
        return _CardFacts(card=None, existing_id=existing_id)
    # Unsaved-looking instances are enough for the rules and the foreign keys.
    budget = PersonalBudget(
        id=budget_id, status=budget_status, starts_on=starts_on, ends_on=ends_on
    )
    if isinstance(allowed_categories, str):
        allowed_categories = json.loads(allowed_categories)
    budget.support_plan = SupportPlan(
        id=plan_id,
        budget=budget,
        cash_allowed=cash_allowed,
        cash_limit_pence=cash_limit_pence,
        allowed_categories=allowed_categories or [],
    )
    card = Card(id=card_id, budget=budget, status=card_status, reference=card_reference)
    return _CardFacts(card=card, existing_id=existing_id)


def _cash_taken_pence(*, budget_id: int) -> int:
    since = timezone.now() - timedelta(days=28)
    return (
        Authorization.objects.filter(
            budget_id=budget_id,
            approved=True,
            decided_at__gte=since,
            merchant_category_code__in=list(CASH_MCCS),
        )
        .exclude(status=AuthorizationStatus.REVERSED)
        .aggregate(total=Sum("amount_pence"))["total"]
        or 0
    )


def _held_pence(*, budget_id: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(_sql(_HOLDS_SQL), [budget_id, AuthorizationStatus.PENDING])
        return cursor.fetchone()[0]


def _available_pence_locked(*, budget_id: int) -> int:
    """The balance less holds, with the funds row locked until the transaction ends.

    Two statements on purpose: the holds are read after the lock is granted, so
    they include those of a payment that held the lock a moment ago.
    """
    with connection.cursor() as cursor:
        cursor.execute(_sql(_FUNDS_LOCK_SQL), [budget_id, AccountKind.HOLDER_FUNDS])
        row = cursor.fetchone()
    return (row[0] if row else 0) - _held_pence(budget_id=budget_id)


def _decision_insert(decision: Authorization) -> Authorization:
    with connection.cursor() as cursor:
        cursor.execute(
            _sql(_DECISION_INSERT_SQL),
            [getattr(decision, field) for field in _DECISION_FIELDS],
        )
        decision.pk = cursor.fetchone()[0]
    decision._state.adding = False
    return decision


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
        if _cash_taken_pence(budget_id=budget.pk) + amount_pence > plan.cash_limit_pence:
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
    if amount_pence > _available_pence_locked(budget_id=budget.pk):
        return (
            DeclineReason.INSUFFICIENT_FUNDS,
            "Declined: there was not enough money in the budget",
        )
    return None, ""


def _requested_pence(authorization: dict) -> int:
    pending = authorization.get("pending_request") or {}
    return int(pending.get("amount") or authorization.get("amount") or 0)


def card_authorization_decide(*, authorization: dict) -> Authorization:
    """Decide an ``issuing_authorization.request`` by our rules and record it, once.

    Guarantees: the decision and its reason are stored before we answer; the
    budget's funds are locked while deciding, so two payments at once cannot
    both spend the same money; asking again about the same authorisation
    returns the first decision. Reads: the card with its budget and plan (one
    query), then, for a payment the rules allow, the locked balance and the holds.
    """
    # No savepoint: the caller's transaction (the webhook's) is all or nothing anyway.
    with transaction.atomic(savepoint=False):
        facts = _card_facts(
            card_reference=_card_id(authorization), authorization_id=authorization["id"]
        )
        if facts.existing_id is not None:
            return Authorization.objects.get(pk=facts.existing_id)
        card = facts.card
        merchant = _merchant(authorization)
        amount_pence = _requested_pence(authorization)
        reason, message = _decide(
            card=card, amount_pence=amount_pence, merchant=merchant, on=timezone.localdate()
        )
        return _decision_insert(
            Authorization(
                stripe_authorization_id=authorization["id"],
                card=card,
                budget=card.budget if card else None,
                amount_pence=amount_pence,
                approved=reason is None,
                decline_reason=reason or "",
                decline_message=message,
                status=AuthorizationStatus.PENDING,
                decided_at=timezone.now(),
                **merchant,
            )
        )


def card_authorization_decline_undecided(*, authorization: dict) -> Authorization:
    """Record a decline for an authorisation we could not decide in time (slow database).

    Stripe gets "declined" rather than no answer; the record says why. An
    authorisation decided meanwhile keeps its decision.
    """
    with transaction.atomic():
        existing = Authorization.objects.filter(stripe_authorization_id=authorization["id"]).first()
        if existing is not None:
            return existing
        card = (
            Card.objects.filter(scheme=CardScheme.STRIPE, reference=_card_id(authorization))
            .only("pk", "budget_id")
            .first()
        )
        return Authorization.objects.create(
            stripe_authorization_id=authorization["id"],
            card=card,
            budget_id=card.budget_id if card else None,
            amount_pence=_requested_pence(authorization),
            approved=False,
            decline_reason=DeclineReason.NOT_DECIDED,
            decline_message="Declined: we could not check the budget in time; please try again",
            decided_at=timezone.now(),
            **_merchant(authorization),
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
