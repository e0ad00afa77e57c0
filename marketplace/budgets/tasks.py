"""Periodic budget work, on Celery beat (``CELERY_BEAT_SCHEDULE`` in config/settings/base.py)."""

from celery import shared_task


@shared_task(name="budgets.post_due_loads")
def post_due_loads() -> dict[str, int]:
    """Daily: pay in every load due today or earlier, and post refunds that waited too long.

    Safe to run more than once a day, or twice at once: each load is posted
    to the ledger once (``budget_loads_post_due`` locks and marks it).
    """
    from django.utils import timezone

    from .services import budget_loads_post_due, card_refunds_release_held

    return {
        "loads": budget_loads_post_due(on=timezone.localdate()),
        "refunds": card_refunds_release_held(),
    }


@shared_task(
    name="budgets.card_controls_sync",
)
def card_controls_sync_task(card_ids: list[int]) -> int:
    """Send each card's support plan controls and budget limits to Stripe; returns how many.

    Queued after a budget or support plan changes. Stripe's client retries
    network errors; a card Stripe still refuses is logged and keeps its old
    controls until the next change; a site without Stripe has nothing to send.
    """
    import logging

    import stripe

    from marketplace.payments.stripe_api import StripeNotConfigured

    from .models import Card
    from .services import card_controls_sync

    sent = 0
    for card in Card.objects.filter(pk__in=card_ids).select_related("budget__support_plan"):
        try:
            card_controls_sync(card=card)
        except StripeNotConfigured:
            logging.getLogger(__name__).warning(
                "Card %s keeps its old controls: Stripe is not set up", card.pk
            )
            return sent
        except stripe.StripeError as error:
            logging.getLogger(__name__).error(
                "Stripe refused the new controls for card %s: %s", card.pk, error
            )
            continue
        sent += 1
    return sent
