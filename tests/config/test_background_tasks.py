"""Background work: in-process by default, a real Celery worker on Redis in production."""

import time

import pytest
from celery.contrib.testing.worker import start_worker

from django.db import transaction

from config.celery import app
from config.tasks import enqueue_on_commit

RESULTS: list[str] = []


@app.task(name="tests.record")
def record(value: str) -> str:
    RESULTS.append(value)
    return value


@pytest.fixture(autouse=True)
def _clear():
    RESULTS.clear()


@pytest.mark.django_db(transaction=True)
def test_embedded_default_runs_tasks_in_process_after_commit(embedded_default):
    with transaction.atomic():
        enqueue_on_commit(record, "after commit")
        assert RESULTS == []  # nothing runs while the transaction is open
    assert RESULTS == ["after commit"]


@pytest.mark.django_db(transaction=True)
def test_rolled_back_work_queues_nothing(embedded_default):
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_on_commit(record, "never")
        raise RuntimeError("the write failed")
    assert RESULTS == []


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_on_redis_runs_queued_tasks(redis_url):
    previous = {
        "broker_url": app.conf.broker_url,
        "task_always_eager": app.conf.task_always_eager,
    }
    app.conf.broker_url = redis_url
    app.conf.task_always_eager = False
    try:
        with start_worker(app, perform_ping_check=False, pool="solo", shutdown_timeout=10):
            with transaction.atomic():
                enqueue_on_commit(record, "from redis")
                assert RESULTS == []
            deadline = time.monotonic() + 20
            while not RESULTS and time.monotonic() < deadline:
                time.sleep(0.1)
    finally:
        app.conf.broker_url = previous["broker_url"]
        app.conf.task_always_eager = previous["task_always_eager"]
    # The worker thread took the message from Redis and ran the task exactly once.
    assert RESULTS == ["from redis"]
