"""Background work for reviews."""

from celery import shared_task

from .services import reviews_publish_due


@shared_task(name="reviews.publish_due_reviews")
def publish_due_reviews() -> int:
    """Publish every review whose provider reply window has ended (celery beat runs it every 15 minutes)."""
    return reviews_publish_due()
