"""Background work for reviews."""

from celery import shared_task

from .services import rating_summaries_refresh, reviews_publish_due


@shared_task(name="reviews.publish_due_reviews")
def publish_due_reviews() -> int:
    """Publish every review whose provider reply window has ended (celery beat runs it every 15 minutes)."""
    return reviews_publish_due()


@shared_task(name="reviews.refresh_ratings")
def refresh_ratings() -> int:
    """Recompute every provider's smoothed rating against today's borough mean (nightly)."""
    return rating_summaries_refresh()
