"""Reads for the public directory: searching services and suggesting names."""

from datetime import date
from functools import cache as memoize

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
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


class SearchUnderWay:
    """A search started by ``search_services_start``: ``result()`` gives its SearchResult.

    Invalid parameters give an empty result carrying the form's errors, and a search
    engine that does not answer an empty result marked ``unavailable``, never an
    exception.
    """

    def __init__(self, filterset: ServiceSearchFilter, backend):
        self.filterset = filterset
        self._backend = backend
        self._pending = backend.search_start(filterset) if filterset.is_valid() else None
        self._result: SearchResult | None = None

    def result(self) -> SearchResult:
        if self._result is None:
            self._result = self._read()
        return self._result

    def _read(self) -> SearchResult:
        backend = self._backend
        if self._pending is None:
            return SearchResult(
                items=[],
                total=0,
                facets={},
                page=1,
                backend=backend.BACKEND,
                errors=self.filterset.form.errors,
            )
        try:
            return self._pending.result()
        except SearchUnavailable:  # logged by search.client
            return SearchResult(
                items=[], total=0, facets={}, page=1, backend=backend.BACKEND, unavailable=True
            )


def search_services_start(*, params: QueryDict | dict) -> SearchUnderWay:
    """Start a search of live services with the directory's query parameters.

    Chooses Elasticsearch when ELASTICSEARCH_URL is set, otherwise the database. With
    Elasticsearch the query is sent at once and its answer read by ``result()``, so a
    caller can do work that does not need the answer in the meantime (the results page
    renders its frame while Elasticsearch searches).
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
    return SearchUnderWay(filterset, _backend())


def search_services(*, params: QueryDict | dict) -> tuple[ServiceSearchFilter, SearchResult]:
    """Search live services with the directory's query parameters.

    Returns the bound filter (for re-displaying the form) and the result; see
    ``search_services_start`` and ``SearchUnderWay``.
    """
    search = search_services_start(params=params)
    return search.filterset, search.result()


def search_suggestions(*, prefix: str, limit: int = 8) -> list[str]:
    """Service and provider names that complete what someone is typing."""
    return _backend().suggest(prefix, limit=limit)


def organisation_for_profile(*, slug: str):
    """A published organisation, or None (its profile body reads the rest:
    search.profile_html).

    The same query as ``Organisation.objects.published().filter(slug=slug)``, compiled
    once per process: compiling it (29 columns, three conditions) cost a profile visit
    more CPU than running it.
    """
    from marketplace.providers.models import Organisation

    sql, params, columns, converters = _organisation_by_slug_query(connection.alias)
    with connection.cursor() as cursor:
        cursor.execute(sql, [slug if param == _SLUG else param for param in params])
        row = cursor.fetchone()
    if row is None:
        return None
    # What the ORM's iterator does with the row (SQLite, say, gives booleans as integers).
    row = list(row)
    for index, (functions, expression) in converters.items():
        for function in functions:
            row[index] = function(row[index], expression, connection)
    return Organisation.from_db(connection.alias, columns, row)


# Stands for the slug among the compiled query's parameters (unlike any other of them).
_SLUG = "\x00slug\x00"


@memoize
def _organisation_by_slug_query(alias: str) -> tuple[str, tuple, list[str], dict]:
    """The SQL and parameters of the published organisation with the slug ``_SLUG`` (at
    most one: slugs are unique), the attribute each selected column fills and the
    database's converters for the columns that have them (by position)."""
    from marketplace.providers.models import Organisation

    # No ORDER BY: one row at most.
    queryset = Organisation.objects.published().filter(slug=_SLUG).order_by()[:1]
    compiler = queryset.query.get_compiler(alias)
    sql, params = compiler.as_sql()
    assert params.count(_SLUG) == 1
    # Kept for the life of the process: a condition on a date or time computed in Python
    # (scheduled visibility against timezone.now(), say) would stay at its first value.
    if any(
        isinstance(getattr(node, "rhs", None), date) for node in _where_nodes(queryset.query.where)
    ):
        raise ImproperlyConfigured(
            "Organisation.objects.published() compares with a date or time from Python; "
            "organisation_for_profile keeps its query for the life of the process, so use "
            "a database-side expression (django.db.models.functions.Now) or stop keeping it."
        )
    columns = [column for column, _sql, _alias in compiler.select]
    return (
        sql,
        params,
        [column.target.attname for column in columns],
        compiler.get_converters(columns),
    )


def _where_nodes(node):
    """Every node of a query's WHERE tree, depth first."""
    yield node
    for child in getattr(node, "children", ()):
        yield from _where_nodes(child)


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
