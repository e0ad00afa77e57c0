"""The daily monitoring run, on Celery beat (``CELERY_BEAT_SCHEDULE`` in config/settings/base.py)."""

from celery import shared_task


@shared_task(name="monitoring.rules_daily")
def monitoring_rules_daily() -> dict:
    """Run every monitoring rule for today; duplicates are impossible, so a re-run is harmless."""
    from .services import monitoring_rules_run

    return monitoring_rules_run()
