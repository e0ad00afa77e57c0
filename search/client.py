"""The one Elasticsearch connection the process uses."""

from functools import cache

from elasticsearch import Elasticsearch

from django.conf import settings


@cache
def get_client() -> Elasticsearch:
    if not settings.ELASTICSEARCH_URL:
        raise RuntimeError("ELASTICSEARCH_URL is not set: search uses the database fallback.")
    return Elasticsearch(settings.ELASTICSEARCH_URL, request_timeout=10, retry_on_timeout=True)


def index_name(name: str) -> str:
    """The environment-prefixed name of an index or alias, e.g. ``scc_services``."""
    return f"{settings.SEARCH_INDEX_PREFIX}{name}"
