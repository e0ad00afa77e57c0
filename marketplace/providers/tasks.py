"""Background work for the provider directory (scheduled in CELERY_BEAT_SCHEDULE)."""

from celery import shared_task


@shared_task(name="providers.flag_stale_records")
def flag_stale_records() -> int:
    """Daily: flag services nobody has confirmed for six months and email their providers."""
    from .services import services_flag_stale

    return services_flag_stale()


@shared_task(name="providers.publish_scheduled")
def publish_scheduled() -> None:
    """Every few minutes: publish and expire records at their go-live and expiry times.

    Wagtail's own command does the work for pages and for directory snippets alike.
    """
    from django.core.management import call_command

    call_command("publish_scheduled", verbosity=0)
