"""Background work for marketplace payments."""

import stripe
from celery import shared_task


@shared_task(
    autoretry_for=(stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError),
    retry_backoff=True,
    max_retries=8,
)
def payment_transfer_send(payment_id: int) -> None:
    """Send one payment to the provider through Stripe Connect (idempotent; retried on network errors)."""
    from .services import payment_transfer_send as send

    send(payment_id=payment_id)
