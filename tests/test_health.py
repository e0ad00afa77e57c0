import pytest

pytestmark = pytest.mark.django_db


def test_embedded_default_is_healthy_with_nothing_configured(client, embedded_default):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "up"
    assert body["checks"]["search"] == {
        **body["checks"]["search"],
        "engine": "database",
        "configured": False,
    }
    assert body["checks"]["tasks"]["engine"] == "in-process"


@pytest.mark.elasticsearch
@pytest.mark.redis
def test_real_search_engine_and_task_queue_report_up(
    client, settings, use_elasticsearch, redis_url
):
    settings.REDIS_URL = redis_url
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["checks"]["search"]["engine"] == "elasticsearch"
    assert body["checks"]["search"]["cluster_status"] in ("green", "yellow")
    assert body["checks"]["tasks"] == {
        **body["checks"]["tasks"],
        "status": "up",
        "engine": "celery+redis",
    }


def test_a_configured_service_that_is_down_makes_the_check_fail(client, settings):
    settings.ELASTICSEARCH_URL = "http://127.0.0.1:9"  # nothing listens on the discard port
    settings.REDIS_URL = "redis://127.0.0.1:9/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["search"]["status"] == "down"
    assert body["checks"]["tasks"]["status"] == "down"
    assert body["checks"]["database"]["status"] == "up"
