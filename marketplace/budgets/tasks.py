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
