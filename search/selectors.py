"""Reads for the public directory: searching services and suggesting names."""

from django.conf import settings
from django.http import QueryDict

from .client import SearchUnavailable
from .filters import ServiceSearchFilter
from .models import SearchEntry
from .results import SearchResult


def _backend():
    if settings.ELASTICSEARCH_URL:
        from .backends import elasticsearch

        return elasticsearch
    from .backends import database

    return database


def search_backend_name() -> str:
    return _backend().BACKEND


def search_services(*, params: QueryDict | dict) -> tuple[ServiceSearchFilter, SearchResult]:
    """Search live services with the directory's query parameters.

    Chooses Elasticsearch when ELASTICSEARCH_URL is set, otherwise the database.
    Invalid parameters give an empty result carrying the form's errors, and a search
    engine that does not answer an empty result marked ``unavailable``, never an
    exception. Returns the bound filter (for re-displaying the form) and the result.
    """
    if isinstance(params, dict):
        query = QueryDict(mutable=True)
        for key, value in params.items():
            if isinstance(value, list | tuple):
                query.setlist(key, [str(item) for item in value])
            elif value is not None:
                query[key] = str(value)
        params = query
    filterset = ServiceSearchFilter(params, queryset=SearchEntry.objects.all())
    backend = _backend()
    if not filterset.is_valid():
        return filterset, SearchResult(
            items=[],
            total=0,
            facets={},
            page=1,
            backend=backend.BACKEND,
            errors=filterset.form.errors,
        )
    try:
        return filterset, backend.search(filterset)
    except SearchUnavailable:  # logged by search.client
        return filterset, SearchResult(
            items=[], total=0, facets={}, page=1, backend=backend.BACKEND, unavailable=True
        )


def search_suggestions(*, prefix: str, limit: int = 8) -> list[str]:
    """Service and provider names that complete what someone is typing."""
    return _backend().suggest(prefix, limit=limit)


def organisation_for_profile(*, slug: str):
    """A published organisation, or None (its profile body reads the rest:
    search.profile_html)."""
    from marketplace.providers.models import Organisation

    # get(), not first(): the slug is unique, so no ORDER BY is needed (first() adds one).
    try:
        return Organisation.objects.published().get(slug=slug)
    except Organisation.DoesNotExist:
        return None


def services_for_compare(*, service_ids: list[int]) -> list:
    """Published services, as search hits, in the order asked for; unknown ids are dropped."""
    from .documents.services import ServiceDocument, service_queryset
    from .results import ServiceHit

    services = {service.pk: service for service in service_queryset().filter(pk__in=service_ids)}
    hits = []
    for service_id in service_ids:
        if service_id in services:
            document = ServiceDocument.prepare(services[service_id])
            hits.append(ServiceHit(document.pop("_id"), document))
    return hits


def related_advice(*, query: str, limit: int = 3) -> list:
    """Up to ``limit`` live information pages matching the search words (Wagtail search)."""
    from cms.models import InformationPage

    from .text import normalise_query

    words = normalise_query(query)
    if len(words) < 3:
        return []
    try:
        return list(InformationPage.objects.live().public().search(words, operator="or")[:limit])
    except Exception:  # noqa: BLE001 - advice is a bonus; never let it break a search
        return []
