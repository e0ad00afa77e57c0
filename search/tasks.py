"""Background indexing, queued after commit with config.tasks.enqueue_on_commit."""

from celery import shared_task

# Confirmations and vacancy updates are written with queryset.update() (no signals),
# so a beat task (CELERY_BEAT_SCHEDULE, every CATCH_UP_SECONDS) sweeps recently
# confirmed services: searchable within a minute. The same sweep renders provider
# profiles whose current version is not cached (an expiry, an eviction, a lost
# task), at most PROFILES_PER_CATCH_UP a run so one run stays well inside a minute.
CATCH_UP_SECONDS = 60
PROFILES_PER_CATCH_UP = 1000


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def services_reindex(service_ids: list[int]) -> int:
    from .services import services_index_update

    return services_index_update(service_ids=service_ids)


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def organisation_reindex(organisation_id: int) -> int:
    from .services import organisation_index_update

    return organisation_index_update(organisation_id=organisation_id)


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def profiles_warm(organisation_ids: list[int]) -> int:
    """Render the profile bodies of organisations whose version just changed."""
    from .profile_cache import profiles_warm_these

    return profiles_warm_these(organisation_ids=list(organisation_ids))


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def profiles_warm_all() -> int:
    """Render every published organisation's profile body not cached under its version."""
    from .profile_cache import profiles_warm_missing

    return profiles_warm_missing()


@shared_task(name="search.reindex_recently_confirmed")
def services_reindex_recently_confirmed() -> int:
    from .profile_cache import profiles_warm_missing
    from .services import services_index_catch_up

    indexed = services_index_catch_up(within_seconds=CATCH_UP_SECONDS * 3)
    profiles_warm_missing(limit=PROFILES_PER_CATCH_UP)
    return indexed
