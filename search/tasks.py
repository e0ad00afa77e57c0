"""Background indexing, queued after commit with config.tasks.enqueue_on_commit."""

from celery import shared_task


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def services_reindex(service_ids: list[int]) -> int:
    from .services import services_index_update

    return services_index_update(service_ids=service_ids)


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def organisation_reindex(organisation_id: int) -> int:
    from .services import organisation_index_update

    return organisation_index_update(organisation_id=organisation_id)
