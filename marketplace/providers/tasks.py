"""Background work for the provider directory."""

from celery import shared_task


@shared_task
def flag_stale_records() -> int:
    """Daily: flag services nobody has confirmed for six months and email their providers."""
    from .services import services_flag_stale

    return services_flag_stale()
