"""The one Elasticsearch connection the process uses."""

import os
from functools import cache

from elasticsearch import Elasticsearch

from django.conf import settings


@cache
def _client_for(url: str) -> Elasticsearch:
    return Elasticsearch(url, request_timeout=10, retry_on_timeout=True)


def get_client() -> Elasticsearch:
    """The client for ELASTICSEARCH_URL.

    Whether search *uses* Elasticsearch is decided by settings.ELASTICSEARCH_URL
    (search.selectors); the environment variable is only a fallback address so
    health checks and index commands can reach a server the settings leave off.
    """
    url = settings.ELASTICSEARCH_URL or os.environ.get("ELASTICSEARCH_URL", "")
    if not url:
        raise RuntimeError("ELASTICSEARCH_URL is not set: search uses the database fallback.")
    return _client_for(url)


def index_name(name: str) -> str:
    """The environment-prefixed name of an index or alias, e.g. ``scc_services``."""
    return f"{settings.SEARCH_INDEX_PREFIX}{name}"
