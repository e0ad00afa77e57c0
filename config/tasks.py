"""Queueing background work after the current transaction commits."""

from typing import Any

from django.db import transaction


def enqueue_on_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    """Queue a Celery ``task`` once the surrounding transaction commits.

    With no broker configured the task runs in-process at commit, so the
    embedded default behaves like production, only synchronously.
    """
    transaction.on_commit(lambda: task.delay(*args, **kwargs))
