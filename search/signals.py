"""Keep search in step with the directory: every publish, unpublish, delete or rating
change queues a re-index after commit. The handlers only queue; the work is in services."""

from django.db.models.signals import post_delete, post_save

from wagtail.signals import published, unpublished


def _service_changed(sender, instance, **kwargs):
    from .services import service_index_queue

    service_index_queue(service_id=instance.pk)


def _organisation_changed(sender, instance, **kwargs):
    from .services import organisation_index_queue

    organisation_index_queue(organisation_id=instance.pk)


def _rating_changed(sender, instance, **kwargs):
    from .services import organisation_index_queue

    organisation_index_queue(organisation_id=instance.organisation_id)


def _live_service_saved(sender, instance, created, raw=False, **kwargs):
    # Direct edits that skip moderation (vacancies, "last checked") still reach search.
    if not raw and getattr(instance, "live", False):
        _service_changed(sender, instance)


def connect() -> None:
    from marketplace.providers.models import Organisation, Service

    for signal in (published, unpublished):
        signal.connect(_service_changed, sender=Service, dispatch_uid=f"search-service-{signal}")
        signal.connect(
            _organisation_changed, sender=Organisation, dispatch_uid=f"search-org-{signal}"
        )
    post_delete.connect(_service_changed, sender=Service, dispatch_uid="search-service-deleted")
    post_save.connect(_live_service_saved, sender=Service, dispatch_uid="search-service-saved")
    try:
        from marketplace.reviews.models import OrganisationRating
    except ImportError:  # pragma: no cover - reviews app not installed
        return
    post_save.connect(
        _rating_changed, sender=OrganisationRating, dispatch_uid="search-rating-saved"
    )
