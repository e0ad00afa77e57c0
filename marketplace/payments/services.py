"""Writes for purchases, card-merchant matching, invoices and marketplace payments."""

from datetime import date

import stripe

from django.db import IntegrityError, transaction
from django.utils import timezone

from config.tasks import enqueue_on_commit
from marketplace.accounts.audit import audit_record
from marketplace.accounts.models import AuditAction, BudgetHolder
from marketplace.providers.models import Organisation
from marketplace.providers.taxonomy import ServiceCategory

from . import stripe_connect
from .matching import merchant_key, normalise_postcode, purchase_match
from .mcc import category_for_mcc
from .models import (
    Channel,
    ConnectedAccount,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    MatchStatus,
    MerchantAlias,
    Payment,
    PaymentStatus,
    Purchase,
)
from .selectors import budget_available_pence, budget_current_for, payment_approval_reasons

CARD_CHANNELS = (Channel.CARD, Channel.CARD_STATEMENT)


@transaction.atomic
def purchase_record(
    *,
    budget_holder: BudgetHolder,
    amount_pence: int,
    occurred_on: date,
    channel: Channel,
    source_reference: str,
    organisation: Organisation | None = None,
    category: ServiceCategory | None = None,
    merchant_name: str = "",
    merchant_category_code: str = "",
    match_status: MatchStatus | None = None,
    match_confidence: int = 0,
    merchant_postcode: str = "",
    stripe_merchant_id: str = "",
) -> tuple[Purchase, bool]:
    """Record one purchase exactly once; returns ``(purchase, created)``.

    A second call with the same channel and source reference returns the
    first record unchanged, so retried events and re-imported statements are
    harmless. A card purchase without an organisation is matched to a
    directory provider here (merchant id, learned aliases, name and
    postcode); without a confident match, the merchant category code decides
    the category.
    """
    existing = Purchase.objects.filter(channel=channel, source_reference=source_reference).first()
    if existing is not None:
        return existing, False
    if (
        organisation is None
        and channel in CARD_CHANNELS
        and match_status is None
        and (merchant_name or stripe_merchant_id)
    ):
        match = purchase_match(
            merchant_name=merchant_name,
            merchant_postcode=merchant_postcode,
            stripe_merchant_id=stripe_merchant_id,
            merchant_category_code=merchant_category_code,
        )
        match_confidence, match_status = match.confidence, match.status
        if match.organisation_id is not None:
            organisation = Organisation.objects.get(pk=match.organisation_id)
            category = category or match.category
    if match_status is None:
        if organisation is not None:
            match_status = MatchStatus.MATCHED
            match_confidence = match_confidence or 100
        elif merchant_category_code:
            match_status = MatchStatus.CATEGORY_ONLY
        else:
            match_status = MatchStatus.UNMATCHED
    purchase = Purchase(
        budget_holder=budget_holder,
        organisation=organisation,
        category=category or category_for_mcc(merchant_category_code),
        amount_pence=amount_pence,
        occurred_on=occurred_on,
        channel=channel,
        source_reference=source_reference,
        merchant_name=merchant_name,
        merchant_category_code=merchant_category_code,
        merchant_key=merchant_key(merchant_name),
        merchant_postcode=normalise_postcode(merchant_postcode)[:10],
        stripe_merchant_id=stripe_merchant_id,
        match_status=match_status,
        match_confidence=match_confidence,
        care_group=budget_holder.care_group,
        postcode_district=budget_holder.postcode_district,
        sector=organisation.sector if organisation is not None else "",
    )
    try:
        with transaction.atomic():
            purchase.save()
    except IntegrityError:
        # Another process recorded the same source a moment ago.
        return Purchase.objects.get(channel=channel, source_reference=source_reference), False
    from commissioning.demand.services import demand_rollup_apply

    demand_rollup_apply(purchase=purchase, sign=1)
    return purchase, True


# --- Matching card merchants -----------------------------------------------------


@transaction.atomic
def merchant_match_confirm(
    *,
    merchant_key_value: str,
    organisation: Organisation | None,
    officer,
) -> int:
    """An officer says which provider a card merchant is (or that it is none); returns purchases changed.

    Guarantees: every card purchase from that merchant takes the provider
    (confirmed, confidence 100), the alias table learns the name and each
    Stripe merchant id so future purchases match on arrival, and the demand
    rollups move in the same transaction (each purchase taken out with its
    old values and put back with the new).
    """
    from commissioning.demand.services import demand_rollups_apply

    from .matching import merchant_index

    purchases = list(
        Purchase.objects.select_for_update()
        .filter(merchant_key=merchant_key_value, channel__in=CARD_CHANNELS)
        .order_by("pk")
    )
    if not purchases:
        return 0
    index = merchant_index()
    demand_rollups_apply(purchases=purchases, sign=-1)
    for purchase in purchases:
        purchase.organisation = organisation
        if organisation is not None:
            purchase.sector = organisation.sector
            purchase.category = index.category_for(organisation.pk, purchase.merchant_category_code)
            purchase.match_status = MatchStatus.CONFIRMED
        else:
            # An officer's word that no directory provider is behind this merchant.
            purchase.sector = ""
            purchase.category = category_for_mcc(purchase.merchant_category_code)
            purchase.match_status = MatchStatus.CATEGORY_ONLY
        purchase.match_confidence = 100
    Purchase.objects.bulk_update(
        purchases, ["organisation", "sector", "category", "match_status", "match_confidence"]
    )
    demand_rollups_apply(purchases=purchases, sign=1)
    if organisation is not None:
        MerchantAlias.objects.update_or_create(
            merchant_key=merchant_key_value,
            postcode="",
            stripe_merchant_id="",
            defaults={"organisation": organisation, "confirmed_by": officer},
        )
        for stripe_id in {p.stripe_merchant_id for p in purchases if p.stripe_merchant_id}:
            MerchantAlias.objects.update_or_create(
                stripe_merchant_id=stripe_id,
                defaults={
                    "merchant_key": merchant_key_value,
                    "organisation": organisation,
                    "confirmed_by": officer,
                },
            )
    else:
        MerchantAlias.objects.filter(merchant_key=merchant_key_value).delete()
    return len(purchases)


# --- Providers' connected accounts -------------------------------------------------


def connected_account_start(*, organisation: Organisation, email: str = "") -> ConnectedAccount:
    """Create the provider's Stripe connected account if it has none; returns our record.

    The Stripe call is made with an idempotency key per organisation, so a
    double click creates one account.
    """
    existing = ConnectedAccount.objects.filter(organisation=organisation).first()
    if existing is not None:
        return existing
    state = stripe_connect.connect_account_create(
        organisation_id=organisation.pk, name=organisation.name, email=email
    )
    account, _ = ConnectedAccount.objects.get_or_create(
        organisation=organisation,
        defaults={"stripe_account_id": state.account_id},
    )
    return connected_account_update(state=state) or account


def connected_account_update(*, state: stripe_connect.AccountState) -> ConnectedAccount | None:
    """Store what Stripe says about a connected account (``account.updated``, or after onboarding)."""
    with transaction.atomic():
        account = (
            ConnectedAccount.objects.select_for_update()
            .filter(stripe_account_id=state.account_id)
            .first()
        )
        if account is None:
            return None
        account.details_submitted = state.details_submitted
        account.charges_enabled = state.charges_enabled
        account.payouts_enabled = state.payouts_enabled
        account.transfers_active = state.transfers_active
        account.requirements_due = state.requirements_due
        account.save()
        return account


def connected_account_payout_record(
    *, account_id: str, status: str, failure: str = "", arrival_date: int | None = None
) -> ConnectedAccount | None:
    """Keep the last payout's outcome so a provider whose bank payout failed is told why."""
    from datetime import UTC, datetime

    with transaction.atomic():
        account = (
            ConnectedAccount.objects.select_for_update()
            .filter(stripe_account_id=account_id)
            .first()
        )
        if account is None:
            return None
        at = datetime.fromtimestamp(arrival_date, tz=UTC) if arrival_date else timezone.now()
        if account.last_payout_at is not None and at < account.last_payout_at:
            return account  # an older payout delivered late: keep the newer news
        account.last_payout_status = status
        account.last_payout_failure = failure[:300]
        account.last_payout_at = at
        account.save(update_fields=["last_payout_status", "last_payout_failure", "last_payout_at"])
        return account


# --- Invoices ----------------------------------------------------------------------


class PaymentError(Exception):
    """A payment that cannot go ahead; the message is for the person paying."""


@transaction.atomic
def invoice_create(
    *,
    organisation: Organisation,
    budget_holder: BudgetHolder,
    provider_reference: str,
    description: str,
    category: str,
    amount_pence: int,
    due_on: date,
    kind: str = InvoiceKind.INVOICE,
    service_from: date | None = None,
    service_to: date | None = None,
    created_by=None,
) -> Invoice:
    """Raise an invoice or booking from a provider to a budget holder.

    Guarantees: the amount is above zero, and a provider's reference is used once.
    """
    if amount_pence <= 0:
        raise ValueError("The amount must be more than £0.")
    invoice = Invoice.objects.create(
        organisation=organisation,
        budget_holder=budget_holder,
        kind=kind,
        provider_reference=provider_reference,
        description=description,
        category=category,
        amount_pence=amount_pence,
        due_on=due_on,
        service_from=service_from,
        service_to=service_to,
        created_by=created_by,
    )
    audit_record(
        actor=created_by,
        action=AuditAction.CREATED,
        obj=invoice,
        budget_holder=budget_holder,
        summary=f"Invoice {invoice.pk} raised by provider {organisation.pk}",
    )
    return invoice


@transaction.atomic
def invoice_cancel(*, invoice: Invoice, by) -> Invoice:
    """The provider withdraws an invoice nobody has started paying."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status != InvoiceStatus.UNPAID:
        raise PaymentError("Only an invoice waiting for payment can be cancelled.")
    invoice.status = InvoiceStatus.CANCELLED
    invoice.save(update_fields=["status"])
    return invoice


# --- Marketplace payments ----------------------------------------------------------


def payment_create(*, invoice: Invoice, paid_by, idempotency_key: str) -> tuple[Payment, bool]:
    """Pay an invoice from the person's budget, once; returns ``(payment, created)``.

    Guarantees: the same idempotency key, or a second attempt on an invoice
    already being paid, returns the first payment and changes nothing (unique
    constraints back this even under concurrent requests). Where the
    support plan needs it, the payment waits for a monitoring officer;
    otherwise the budget is debited, the purchase recorded, and the Stripe
    transfer queued for after commit, all in one transaction.
    """
    if not idempotency_key or len(idempotency_key) > 64:
        raise PaymentError("This payment form has expired. Go back and try again.")
    try:
        with transaction.atomic():
            return _payment_create(
                invoice=invoice, paid_by=paid_by, idempotency_key=idempotency_key
            )
    except IntegrityError:
        # A concurrent request with the same key or for the same invoice won the race.
        existing = (
            Payment.objects.filter(idempotency_key=idempotency_key).first()
            or Payment.objects.filter(invoice=invoice, status__in=LIVE_STATUSES).first()
        )
        if existing is None:
            raise
        return existing, False


LIVE_STATUSES = (PaymentStatus.AWAITING_APPROVAL, PaymentStatus.SENDING, PaymentStatus.PAID)


def _payment_create(*, invoice: Invoice, paid_by, idempotency_key: str) -> tuple[Payment, bool]:
    existing = Payment.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing, False
    invoice = Invoice.objects.select_for_update().select_related("organisation").get(pk=invoice.pk)
    live = Payment.objects.filter(invoice=invoice, status__in=LIVE_STATUSES).first()
    if live is not None:
        return live, False
    if invoice.status != InvoiceStatus.UNPAID:
        raise PaymentError(
            f"This {invoice.get_kind_display().lower()} cannot be paid: {invoice.get_status_display().lower()}."
        )
    budget = budget_current_for(budget_holder=invoice.budget_holder)
    if budget is None:
        raise PaymentError("There is no open personal budget to pay this from.")
    _check_provider_can_be_paid(invoice.organisation)
    reasons = payment_approval_reasons(invoice=invoice, budget=budget)
    payment = Payment.objects.create(
        invoice=invoice,
        idempotency_key=idempotency_key,
        budget_holder=invoice.budget_holder,
        organisation=invoice.organisation,
        amount_pence=invoice.amount_pence,
        status=PaymentStatus.AWAITING_APPROVAL if reasons else PaymentStatus.SENDING,
        approval_reason=" ".join(reasons)[:300],
        paid_by=paid_by,
    )
    if reasons:
        _check_funds(budget=budget, amount_pence=invoice.amount_pence)
        invoice.status = InvoiceStatus.AWAITING_APPROVAL
        invoice.save(update_fields=["status"])
    else:
        _payment_execute(payment=payment, invoice=invoice, budget=budget)
    audit_record(
        actor=paid_by,
        action=AuditAction.CREATED,
        obj=payment,
        budget_holder=invoice.budget_holder,
        summary=f"Payment {payment.pk} of invoice {invoice.pk} from the budget",
    )
    return payment, True


def _check_provider_can_be_paid(organisation: Organisation) -> None:
    account = ConnectedAccount.objects.filter(organisation=organisation).first()
    if account is None or not account.transfers_active:
        raise PaymentError(
            f"{organisation.name} cannot receive payments through this site yet. "
            "Ask them to finish setting up payments."
        )


def _check_funds(*, budget, amount_pence: int) -> None:
    from cms.templatetags.govuk import pence

    available = budget_available_pence(budget=budget)
    if amount_pence > available:
        raise PaymentError(
            f"There is not enough money in the budget: {pence(available)} is available "
            f"and this needs {pence(amount_pence)}."
        )


def _payment_execute(*, payment: Payment, invoice: Invoice, budget) -> None:
    """Debit the budget, record the purchase, queue the transfer. Caller holds the invoice lock."""
    from marketplace.budgets.models import Account, AccountKind
    from marketplace.budgets.services import budget_marketplace_payment_post

    # Lock the person's funds so two payments cannot both spend the same money.
    Account.objects.select_for_update().filter(budget=budget, kind=AccountKind.HOLDER_FUNDS).first()
    _check_funds(budget=budget, amount_pence=payment.amount_pence)
    today = timezone.localdate()
    budget_marketplace_payment_post(
        budget=budget,
        amount_pence=payment.amount_pence,
        source_id=str(payment.pk),
        occurred_on=today,
        memo=f"{invoice.organisation.name}: {invoice.get_kind_display().lower()} {invoice.provider_reference}"[
            :300
        ],
    )
    purchase, _ = purchase_record(
        budget_holder=invoice.budget_holder,
        amount_pence=payment.amount_pence,
        occurred_on=today,
        channel=Channel.MARKETPLACE,
        source_reference=f"payment-{payment.pk}",
        organisation=invoice.organisation,
        category=invoice.category,
        merchant_name=invoice.organisation.name,
        match_confidence=100,
    )
    payment.purchase = purchase
    payment.status = PaymentStatus.SENDING
    payment.save(update_fields=["purchase", "status"])
    invoice.status = InvoiceStatus.PAYING
    invoice.save(update_fields=["status"])
    from .tasks import payment_transfer_send

    enqueue_on_commit(payment_transfer_send, payment.pk)


@transaction.atomic
def payment_decide(*, payment: Payment, officer, approve: bool, note: str = "") -> Payment:
    """A monitoring officer approves or declines a payment that needed approval.

    Guarantees: decided once (a second decision is refused); an approval
    pays exactly as an unapproved payment would have.
    """
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.status != PaymentStatus.AWAITING_APPROVAL:
        raise PaymentError("This payment has already been decided.")
    invoice = (
        Invoice.objects.select_for_update()
        .select_related("organisation")
        .get(pk=payment.invoice_id)
    )
    payment.decided_by = officer
    payment.decided_at = timezone.now()
    payment.decision_note = note[:500]
    if approve:
        budget = budget_current_for(budget_holder=invoice.budget_holder)
        if budget is None:
            raise PaymentError("There is no open personal budget to pay this from.")
        _check_provider_can_be_paid(invoice.organisation)
        payment.save(update_fields=["decided_by", "decided_at", "decision_note"])
        _payment_execute(payment=payment, invoice=invoice, budget=budget)
    else:
        payment.status = PaymentStatus.DECLINED
        payment.save(update_fields=["decided_by", "decided_at", "decision_note", "status"])
        invoice.status = InvoiceStatus.DECLINED
        invoice.save(update_fields=["status"])
    audit_record(
        actor=officer,
        action=AuditAction.CHANGED,
        obj=payment,
        budget_holder=invoice.budget_holder,
        summary=f"Payment {payment.pk} {'approved' if approve else 'declined'}",
        changed_fields=["status"],
    )
    return payment


def payment_transfer_send(*, payment_id: int) -> Payment:
    """Send a payment's money to the provider by a Stripe Connect transfer.

    Guarantees: safe to run again (a retried task, a redelivered queue
    message): the transfer is created with the payment's idempotency key, so
    Stripe returns the first transfer, and a payment that is no longer
    sending is left alone. A refusal from Stripe fails the payment and puts
    the money back in the budget; a network error is raised so the task retries.
    """
    payment = Payment.objects.select_related("invoice", "organisation__connected_account").get(
        pk=payment_id
    )
    if payment.status != PaymentStatus.SENDING:
        return payment
    try:
        transfer_id = stripe_connect.connect_transfer_create(
            amount_pence=payment.amount_pence,
            destination=payment.organisation.connected_account.stripe_account_id,
            idempotency_key=payment.idempotency_key,
            payment_id=payment.pk,
            invoice_id=payment.invoice_id,
            description=f"{payment.remittance_reference} {payment.invoice.provider_reference}",
        )
    except stripe.InvalidRequestError as error:
        return payment_fail(
            payment=payment, reason=error.user_message or "Stripe refused the transfer."
        )
    return payment_transfer_record(payment=payment, transfer_id=transfer_id)


@transaction.atomic
def payment_transfer_record(*, payment: Payment, transfer_id: str) -> Payment:
    """Stripe made the transfer (its response, or ``transfer.created``): the payment is paid. Idempotent."""
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.status == PaymentStatus.SENDING:
        payment.status = PaymentStatus.PAID
        payment.paid_at = timezone.now()
        payment.stripe_transfer_id = transfer_id
        payment.save(update_fields=["status", "paid_at", "stripe_transfer_id"])
        Invoice.objects.filter(pk=payment.invoice_id).update(status=InvoiceStatus.PAID)
    elif not payment.stripe_transfer_id and payment.status == PaymentStatus.PAID:
        payment.stripe_transfer_id = transfer_id
        payment.save(update_fields=["stripe_transfer_id"])
    return payment


def _money_back(*, payment: Payment, status: str, reason: str) -> Payment:
    """Put a sent payment's money back in the budget and take it out of the spend figures."""
    from marketplace.budgets.models import EntryKind, JournalEntry
    from marketplace.budgets.services import ledger_reverse

    today = timezone.localdate()
    entry = JournalEntry.objects.filter(
        source_type="marketplace_payment",
        source_id=str(payment.pk),
        kind=EntryKind.MARKETPLACE_PAYMENT,
    ).first()
    if entry is not None:
        ledger_reverse(
            entry=entry, occurred_on=today, memo=f"Payment {payment.remittance_reference} returned"
        )
    if payment.purchase is not None:
        invoice = payment.invoice
        purchase_record(
            budget_holder=payment.budget_holder,
            amount_pence=-payment.amount_pence,
            occurred_on=today,
            channel=Channel.MARKETPLACE,
            source_reference=f"payment-{payment.pk}-returned",
            organisation=payment.organisation,
            category=invoice.category,
            merchant_name=payment.organisation.name,
            match_confidence=100,
        )
    payment.status = status
    payment.failure_reason = reason[:300]
    payment.save(update_fields=["status", "failure_reason"])
    return payment


@transaction.atomic
def payment_fail(*, payment: Payment, reason: str) -> Payment:
    """Stripe would not make the transfer: the money goes back and the invoice can be paid again."""
    payment = Payment.objects.select_for_update().select_related("invoice").get(pk=payment.pk)
    if payment.status != PaymentStatus.SENDING:
        return payment
    _money_back(payment=payment, status=PaymentStatus.FAILED, reason=reason)
    Invoice.objects.filter(pk=payment.invoice_id).update(status=InvoiceStatus.UNPAID)
    return payment


@transaction.atomic
def payment_reverse(
    *, transfer_id: str, reason: str = "The transfer was reversed."
) -> Payment | None:
    """Stripe reversed the transfer (``transfer.reversed``): the money goes back to the budget. Once."""
    payment = (
        Payment.objects.select_for_update()
        .select_related("invoice")
        .filter(stripe_transfer_id=transfer_id)
        .first()
    )
    if payment is None or payment.status not in (PaymentStatus.PAID, PaymentStatus.SENDING):
        return payment
    _money_back(payment=payment, status=PaymentStatus.REVERSED, reason=reason)
    Invoice.objects.filter(pk=payment.invoice_id).update(status=InvoiceStatus.REVERSED)
    return payment
