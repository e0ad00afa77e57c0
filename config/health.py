"""GET /healthz: the state of each configured backing service.

200 only when everything that is configured answers; 503 otherwise. Services
that are not configured (the embedded default) are reported as such.
"""

import time

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _timed(check) -> dict:
    started = time.perf_counter()
    try:
        detail = check()
    except Exception as error:  # noqa: BLE001 - any failure means "down", with its reason
        return {
            "status": "down",
            "error": f"{type(error).__name__}: {error}"[:300],
            "ms": round((time.perf_counter() - started) * 1000, 1),
        }
    return {"status": "up", **detail, "ms": round((time.perf_counter() - started) * 1000, 1)}


def _database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"engine": connection.vendor}


def _search() -> dict:
    if not settings.ELASTICSEARCH_URL:
        return {"engine": "database", "configured": False}
    from search.client import get_client

    health = get_client().cluster.health(timeout="2s")
    if health["status"] == "red":
        raise RuntimeError("cluster status is red")
    return {"engine": "elasticsearch", "cluster_status": health["status"]}


def _tasks() -> dict:
    if not settings.REDIS_URL:
        return {"engine": "in-process", "configured": False}
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    client.ping()
    return {"engine": "celery+redis"}


@never_cache
@require_GET
def healthz(request):
    checks = {"database": _timed(_database), "search": _timed(_search), "tasks": _timed(_tasks)}
    healthy = all(check["status"] == "up" for check in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status=200 if healthy else 503,
    )
