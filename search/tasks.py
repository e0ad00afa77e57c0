"""Background indexing, queued after commit with config.tasks.enqueue_on_commit."""

from celery import shared_task

# Confirmations and vacancy updates are written with queryset.update() (no signals),
# so a beat task (CELERY_BEAT_SCHEDULE, every CATCH_UP_SECONDS) sweeps recently
# confirmed services: searchable within a minute.
CATCH_UP_SECONDS = 60


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def services_reindex(service_ids: list[int]) -> int:
    from .services import services_index_update

    return services_index_update(service_ids=service_ids)


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def organisation_reindex(organisation_id: int) -> int:
    from .services import organisation_index_update

    return organisation_index_update(organisation_id=organisation_id)


@shared_task(name="search.reindex_recently_confirmed")
def services_reindex_recently_confirmed() -> int:
    from .services import services_index_catch_up

    return services_index_catch_up(within_seconds=CATCH_UP_SECONDS * 3)
