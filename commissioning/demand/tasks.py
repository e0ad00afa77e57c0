from celery import shared_task


@shared_task(acks_late=True)
def purchases_index(*, purchase_ids: list[int]) -> int:
    """Put these purchases into the Elasticsearch purchases index (after their transaction commits)."""
    from .elasticsearch import purchases_index_ids

    return purchases_index_ids(purchase_ids=purchase_ids)
