"""The daily monitoring run, on Celery beat."""

from celery import shared_task
from celery.schedules import crontab

from config.celery import app


@shared_task
def monitoring_rules_daily() -> dict:
    """Run every monitoring rule for today; duplicates are impossible, so a re-run is harmless."""
    from .services import monitoring_rules_run

    return monitoring_rules_run()


@app.on_after_finalize.connect
def _schedule(sender, **kwargs):
    # Early morning, after the night's loads and statement imports.
    sender.add_periodic_task(
        crontab(hour=5, minute=30), monitoring_rules_daily.s(), name="monitoring rules, daily"
    )
