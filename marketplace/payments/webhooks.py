"""Stripe event handlers for marketplace payments (Connect), keyed by event type.

The one webhook view (in marketplace.budgets) verifies the signature,
records the event id once, and routes events through this dict merged with
the card handlers. Each handler takes the event (a dict, as Stripe sent
it) and is safe to run more than once, in any order.
"""

import logging

from .models import Payment, PaymentStatus
from .services import (
    connected_account_payout_record,
    connected_account_update,
    payment_reverse,
    payment_transfer_record,
)
from .stripe_connect import account_state

logger = logging.getLogger(__name__)


def _object(event) -> dict:
    data = event["data"]["object"]
    return data.to_dict() if hasattr(data, "to_dict") else data


def transfer_created(event) -> None:
    """Stripe confirms a transfer: mark its payment paid (if our own response was lost)."""
    transfer = _object(event)
    metadata = transfer.get("metadata") or {}
    payment = Payment.objects.filter(stripe_transfer_id=transfer["id"]).first()
    if payment is None and str(metadata.get("payment_id", "")).isdigit():
        payment = Payment.objects.filter(pk=int(metadata["payment_id"])).first()
    if payment is None:
        logger.info("transfer.created for unknown transfer %s", transfer.get("id"))
        return
    if payment.status in (PaymentStatus.SENDING, PaymentStatus.PAID):
        payment_transfer_record(payment=payment, transfer_id=transfer["id"])


def transfer_reversed(event) -> None:
    """A transfer was reversed: the money goes back into the person's budget."""
    transfer = _object(event)
    payment_reverse(
        transfer_id=transfer["id"], reason="Stripe reversed the transfer to the provider."
    )


def account_updated(event) -> None:
    """A provider's connected account changed: onboarding finished, or Stripe needs more."""
    connected_account_update(state=account_state(_object(event)))


def payout_changed(event) -> None:
    """A connected account's payout to its bank was paid or failed: the provider sees it on set-up."""
    account_id = event.get("account")
    if not account_id:
        return  # a payout of the platform's own balance, not a provider's
    payout = _object(event)
    connected_account_payout_record(
        account_id=account_id,
        status="paid" if event["type"] == "payout.paid" else "failed",
        failure=payout.get("failure_message") or "",
        arrival_date=payout.get("arrival_date"),
    )


HANDLERS: dict = {
    "transfer.created": transfer_created,
    "transfer.reversed": transfer_reversed,
    "account.updated": account_updated,
    "payout.paid": payout_changed,
    "payout.failed": payout_changed,
}
