"""Demand figures from Elasticsearch aggregations over a purchases index.

When ELASTICSEARCH_URL is set, ``selectors.demand_figures`` answers from
here: one document per purchase, ``sum`` for spend and the bucket's document
count for purchases. Distinct budget holders come from the rollups' exact
counts (``selectors.exact_holders``), counted in the database while the
search runs: ``cardinality`` is an estimate (HyperLogLog; near-exact only
below its precision threshold, and slow over thousands of buckets at a
threshold that high), and a people count decides whether a figure may be
published. Only combinations no rollup grouping holds (analysts only) count
people with ``cardinality``.

Each document carries a key per rollup grouping (``group_category_locality_
provider`` holds ``home_care|N3|17``) and its cell in every grid
(``cell_locality`` holds ``2026-03|home_care|N3``). A breakdown by a
grouping's dimensions, or by month, category and a grid's dimension, is then
one ``terms`` aggregation over one field's global ordinals instead of one
nested level per dimension (which looks every document's bucket up level by
level); more keys than one request may return (Elasticsearch's
``search.max_buckets``) continue in composite pages, and the largest
groupings are searched in parts by category, side by side. Disclosure
control leaves hidden grid cells out with one ``terms`` clause per grid rather
than a clause per cell (which hit Elasticsearch's clause limit on real data).

The index is sorted by ``month_number``, so a period's purchases are one run
of documents found from the doc values alone, and a full rebuild merges it to
one segment before the alias moves to it.

Purchases are indexed after commit by ``tasks.purchases_index`` and in bulk by
``manage.py reindex_demand_purchases``, which builds a new index and swaps
the alias so figures never go missing during a rebuild. A new mapping comes
with a new alias version (``ALIAS``): deployments run
``reindex_demand_purchases`` after upgrading.
"""

import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from functools import partial
from operator import itemgetter

from elasticsearch import NotFoundError, helpers

from django.conf import settings
from django.utils import timezone

from marketplace.payments.models import Purchase
from marketplace.providers.taxonomy import ServiceCategory
from search.client import get_client, index_name

from .models import GROUPINGS
from .selectors import DIMENSIONS, DemandQuery, exact_holders, grouping_for

# v3: one keyword per grouping (``group_*``), a numeric month the index is sorted by, eager
# global ordinals. A v2 index has none of them: deployments run ``reindex_demand_purchases``.
# (v2: documents carry their grid cells; a v1 index could not leave hidden cells out.)
ALIAS = "demand_purchases_v3"
# Grid dimension -> the document field naming the purchase's value in it.
GRID_FIELDS = {
    "locality": "postcode_district",
    "care_group": "care_group",
    "sector": "sector",
    "provider": "organisation_id",
    "channel": "channel",
}
# Groupings answered by one keyword that holds a purchase's values in all their dimensions
# (``home_care|N3|17``), so one terms aggregation replaces one nested level per dimension:
# field -> the dimensions in it, in order. Every rollup grouping of two or more dimensions,
# and each grid's cell (month, category and the grid's dimension).
KEY_FIELDS: dict[str, tuple[str, ...]] = {
    **{f"group_{name}": dims for name, dims in GROUPINGS.items() if len(dims) > 1},
    **{f"cell_{name}": ("month", "category", name) for name in GRID_FIELDS},
}
PRECISION = 40_000
_KEYWORD = {"type": "keyword", "eager_global_ordinals": True}
MAPPING = {
    "properties": {
        "month": _KEYWORD,
        # Months as a number (year * 12 + month - 1), the index's sort: a period's purchases
        # are one run of documents, found from the doc values without reading postings.
        "month_number": {"type": "integer"},
        "occurred_on": {"type": "date"},
        **dict.fromkeys(("category", *GRID_FIELDS.values()), _KEYWORD),
        "amount_pence": {"type": "long"},
        "budget_holder_id": {"type": "keyword"},
        # Cells are also searched (hidden cells are left out by them); group keys are only
        # aggregated, so doc values alone.
        **{field: _KEYWORD for field in KEY_FIELDS if field.startswith("cell_")},
        **{
            field: {**_KEYWORD, "index": False}
            for field in KEY_FIELDS
            if field.startswith("group_")
        },
    }
}
INDEX_SETTINGS = {
    "number_of_shards": 1,
    "number_of_replicas": 0,
    "sort.field": "month_number",
    "sort.order": "asc",
}


def alias_name() -> str:
    return index_name(ALIAS)


def cell_id(month: str, category: str, value: str) -> str:
    """A grid cell as documents name it: ``2026-03|home_care|N3``."""
    return f"{month}|{category}|{value}"


def _month_number(value) -> int:
    """A month (a date, or text such as ``2026-03``) as the documents' ``month_number``."""
    text = _month_text(value)
    return int(text[:4]) * 12 + int(text[5:7]) - 1


def purchase_document(purchase: Purchase) -> dict:
    document = {
        "month": purchase.occurred_on.isoformat()[:7],
        "month_number": purchase.occurred_on.year * 12 + purchase.occurred_on.month - 1,
        "occurred_on": purchase.occurred_on.isoformat(),
        "category": purchase.category,
        "postcode_district": purchase.postcode_district,
        "care_group": purchase.care_group,
        "organisation_id": str(purchase.organisation_id) if purchase.organisation_id else "-",
        "sector": purchase.sector or "",
        "channel": purchase.channel,
        "amount_pence": purchase.amount_pence,
        "budget_holder_id": str(purchase.budget_holder_id),
    }
    for field, dims in KEY_FIELDS.items():
        document[field] = "|".join(document[DIMENSIONS[name]] for name in dims)
    return document


def ensure_index() -> str:
    """Create the index behind the alias if there is none; returns the alias."""
    client = get_client()
    alias = alias_name()
    with _creating:  # a query's parts run side by side: one of them creates it
        if not client.indices.exists_alias(name=alias):
            concrete = f"{alias}_{timezone.now():%Y%m%d%H%M%S%f}"
            client.indices.create(index=concrete, mappings=MAPPING, settings=INDEX_SETTINGS)
            client.indices.put_alias(index=concrete, name=alias)
    return alias


_creating = threading.Lock()


def _actions(purchases: Iterable[Purchase], index: str):
    for purchase in purchases:
        yield {
            "_op_type": "index",
            "_index": index,
            "_id": str(purchase.pk),
            "_source": purchase_document(purchase),
        }


def purchases_index_ids(*, purchase_ids: list[int], refresh: bool = False) -> int:
    """Index (or remove) these purchases; returns how many documents were written."""
    client = get_client()
    alias = ensure_index()
    found = list(Purchase.objects.filter(pk__in=purchase_ids))
    written, _ = helpers.bulk(client, _actions(found, alias), refresh=refresh)
    gone = set(purchase_ids) - {p.pk for p in found}
    for pk in gone:
        client.delete(index=alias, id=str(pk), ignore_status=404, refresh=refresh)
    return written


def purchases_reindex(*, batch_size: int = 5000) -> int:
    """Build a fresh index from every purchase, then point the alias at it (no gap in figures)."""
    client = get_client()
    alias = alias_name()
    concrete = f"{alias}_{timezone.now():%Y%m%d%H%M%S%f}"
    client.indices.create(
        index=concrete, mappings=MAPPING, settings={**INDEX_SETTINGS, "refresh_interval": "-1"}
    )
    written, _ = helpers.bulk(
        client,
        _actions(Purchase.objects.order_by("pk").iterator(chunk_size=batch_size), concrete),
        chunk_size=batch_size,
    )
    client.indices.put_settings(index=concrete, settings={"refresh_interval": "1s"})
    client.indices.refresh(index=concrete)
    # One segment before figures are read from it: global ordinals are then the segment's own,
    # with no per-document mapping from segment to index ordinals (later purchases add small
    # segments, which Elasticsearch merges as usual).
    client.options(request_timeout=3600).indices.forcemerge(index=concrete, max_num_segments=1)
    old = (
        list(client.indices.get_alias(name=alias).keys())
        if client.indices.exists_alias(name=alias)
        else []
    )
    actions = [{"add": {"index": concrete, "alias": alias}}]
    actions += [{"remove": {"index": name, "alias": alias}} for name in old]
    client.indices.update_aliases(actions=actions)
    for name in old:
        client.indices.delete(index=name, ignore_unavailable=True)
    return written


def _month_text(value) -> str:
    return value.isoformat()[:7] if isinstance(value, date) else str(value)


def _filters(query: DemandQuery, excluded: list[dict] | None) -> tuple[list[dict], list[dict]]:
    """The query's filters, and the clauses that leave out ``excluded`` cells."""
    period = {"gte": _month_number(query.start), "lte": _month_number(query.end)}
    must = [{"range": {"month_number": period}}]
    for name, values in query.filters:
        field = DIMENSIONS[name]
        if name == "month":
            must.append({"terms": {"month": [_month_text(value) for value in values]}})
        else:
            must.append({"terms": {field: list(values)}})
    hidden: dict[str, list[str]] = {}
    for cell in excluded or []:
        grid = [field for field in cell if field not in ("month", "category")]
        if len(grid) != 1 or grid[0] not in GRID_FIELDS.values() or "category" not in cell:
            raise ValueError("Excluded cells are a month, a category and one grid dimension.")
        field = grid[0]
        value = cell[field]
        if field == "organisation_id":
            value = str(value) if value else "-"
        name = next(name for name, f in GRID_FIELDS.items() if f == field)
        hidden.setdefault(f"cell_{name}", []).append(
            cell_id(_month_text(cell["month"]), cell["category"], value or "")
        )
    must_not = [{"terms": {field: ids}} for field, ids in hidden.items()]
    return must, must_not


_SPEND = {"s": {"sum": {"field": "amount_pence"}}}
_HOLDERS = {"h": {"cardinality": {"field": "budget_holder_id", "precision_threshold": PRECISION}}}
# Buckets per request: Elasticsearch's default ``search.max_buckets``. A terms aggregation
# asked for this many returns the first ones and says how many documents it left out; a
# composite aggregation pages through the rest.
PAGE = 65_536
# Key field of each set of dimensions a single terms aggregation answers: the dimension's own
# field, or a key holding several (``KEY_FIELDS``).
_KEYED: dict[frozenset[str], tuple[str, tuple[str, ...]]] = {
    **{frozenset((name,)): (field, (name,)) for name, field in DIMENSIONS.items()},
    **{frozenset(dims): (field, dims) for field, dims in KEY_FIELDS.items()},
}
# Searches run beside the database's exact people counts (different servers, so the figures
# take the longer of the two rather than their sum).
_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="demand-es")


def _search(client, **body) -> dict:
    """A search of the purchases alias; the index is created first if there is none."""
    try:
        return client.search(index=alias_name(), size=0, **body)
    except NotFoundError:
        ensure_index()
        return client.search(index=alias_name(), size=0, **body)


def _total(client, body_query: dict, aggs: dict) -> list[tuple[tuple, dict]]:
    result = _search(client, query=body_query, aggs=aggs, track_total_hits=True)
    return [((), dict(result.get("aggregations", {}), doc_count=result["hits"]["total"]["value"]))]


def _searches(query: DemandQuery, body_query: dict, aggs: dict) -> list:
    """The searches that answer ``query``, each a callable returning (group key, bucket) for
    its groups (one bucket, key (), without groups); together every group once."""
    client = get_client()
    if not query.group_by:
        return [partial(_total, client, body_query, aggs)]
    keyed = _KEYED.get(frozenset(query.group_by))
    if keyed and len(keyed[1]) == len(query.group_by):
        return [
            partial(_keyed, client, query, part, aggs, *keyed)
            for part in _category_parts(query, body_query, keyed[1])
        ]
    if len(query.group_by) <= 2 or "provider" not in query.group_by:
        return [partial(_nested, client, query, body_query, aggs)]
    return [partial(_composite, client, query, body_query, aggs)]


# Keys with providers under two other dimensions (category x locality x provider: ~80,000 in a
# year of 5,000,000 purchases) are searched in this many parts by category, side by side, so
# Elasticsearch builds and writes their buckets on more than one thread.
CATEGORY_PARTS = 2


def _category_parts(query: DemandQuery, body_query: dict, dims: tuple[str, ...]) -> list[dict]:
    """``body_query`` as disjoint parts by category (every category in exactly one part: the
    last part is every category the others leave out)."""
    if "provider" not in dims or len(dims) < 3 or CATEGORY_PARTS < 2:
        return [body_query]
    categories = list(query.filter_dict.get("category") or ServiceCategory.values)
    chunks = [categories[i::CATEGORY_PARTS] for i in range(CATEGORY_PARTS)]
    chunks = [chunk for chunk in chunks if chunk]
    if len(chunks) < 2:
        return [body_query]
    bool_query = body_query["bool"]
    parts = [
        {"bool": {**bool_query, "filter": [*bool_query["filter"], {"terms": {"category": chunk}}]}}
        for chunk in chunks[:-1]
    ]
    others = [category for chunk in chunks[:-1] for category in chunk]
    parts.append(
        {
            "bool": {
                **bool_query,
                "must_not": [*bool_query["must_not"], {"terms": {"category": others}}],
            }
        }
    )
    return parts


def _keyed(client, query, body_query, aggs, field, dims) -> list[tuple[tuple, dict]]:
    """Groups from one terms aggregation over ``field``, whose values hold ``dims`` joined
    by ``|``: every key in key order, the first ``PAGE`` of them from the terms aggregation
    (which reads the field's global ordinals straight into an array) and any after them from
    composite pages."""
    terms = {"field": field, "size": PAGE, "shard_size": PAGE, "order": {"_key": "asc"}}
    result = _search(client, query=body_query, aggs={"g": {"terms": terms, "aggs": aggs}})
    groups = result["aggregations"]["g"]
    buckets = groups["buckets"]
    if groups["sum_other_doc_count"]:
        after = {"k": buckets[-1]["key"]}
        while after:
            composite = {"size": PAGE, "sources": [{"k": {"terms": {"field": field}}}]}
            result = _search(
                client,
                query=body_query,
                aggs={"g": {"composite": {**composite, "after": after}, "aggs": aggs}},
            )
            page = result["aggregations"]["g"]
            for bucket in page["buckets"]:
                bucket["key"] = bucket["key"]["k"]
            buckets += page["buckets"]
            after = page.get("after_key") if len(page["buckets"]) == PAGE else None
    if len(dims) == 1:
        return [((bucket["key"],), bucket) for bucket in buckets]
    at = [dims.index(name) for name in query.group_by]
    out = []
    for bucket in buckets:
        parts = bucket["key"].split("|")
        out.append((tuple(parts[i] for i in at), bucket))
    return out


def _composite(client, query, body_query, aggs) -> list[tuple[tuple, dict]]:
    """Groups no key field holds, with providers under two more dimensions (more buckets
    than nested terms may return): composite pages over the dimensions' fields."""
    sources = [{name: {"terms": {"field": DIMENSIONS[name]}}} for name in query.group_by]
    out, after = [], None
    while True:
        composite = {"size": PAGE, "sources": sources}
        if after:
            composite["after"] = after
        result = _search(
            client, query=body_query, aggs={"g": {"composite": composite, "aggs": aggs}}
        )
        groups = result["aggregations"]["g"]
        for bucket in groups["buckets"]:
            out.append((tuple(bucket["key"][name] for name in query.group_by), bucket))
        after = groups.get("after_key")
        if not after or len(groups["buckets"]) < PAGE:
            break
    return out


# Values of one dimension a terms aggregation returns: every one (the index has one shard, so
# the counts are exact, not a top-N estimate).
TERMS_SIZE = 10_000


def _nested(client, query, body_query, aggs) -> list[tuple[tuple, dict]]:
    """Groups no key field holds, as nested ``terms`` aggregations (a year of month x care
    group x sector is a few thousand buckets)."""
    nested = aggs
    for name in reversed(query.group_by):
        nested = {name: {"terms": {"field": DIMENSIONS[name], "size": TERMS_SIZE}, "aggs": nested}}
    result = _search(client, query=body_query, aggs=nested)
    out = []

    def walk(level: dict, names: tuple[str, ...], key: tuple) -> None:
        for bucket in level[names[0]]["buckets"]:
            if len(names) == 1:
                out.append(((*key, bucket["key"]), bucket))
            else:
                walk(bucket, names[1:], (*key, bucket["key"]))

    walk(result["aggregations"], tuple(query.group_by), ())
    return out


def _rows(
    query: DemandQuery, found: list[tuple[tuple, dict]], counts: dict | None, *, people: bool
) -> list[dict]:
    """Figure rows in group order from (key, bucket) pairs (buckets come nearly in key order,
    so the sort is mostly a pass over runs)."""
    found.sort(key=itemgetter(0))
    names = query.group_by
    if not people:
        return [
            dict(
                zip(names, key, strict=True),
                spend_pence=int(b["s"]["value"] or 0),
                purchases=n,
                holders=None,
            )
            for key, b in found
            if (n := b["doc_count"])
        ]
    if counts is not None:
        get = counts.get
        return [
            dict(
                zip(names, key, strict=True),
                spend_pence=int(b["s"]["value"] or 0),
                purchases=n,
                holders=int(get(key, 0)),
            )
            for key, b in found
            if (n := b["doc_count"])
        ]
    return [
        dict(
            zip(names, key, strict=True),
            spend_pence=int(b["s"]["value"] or 0),
            purchases=n,
            holders=int(b["h"]["value"] or 0),
        )
        for key, b in found
        if (n := b["doc_count"])
    ]


def _has_exact_holders(query: DemandQuery, excluded: list[dict] | None) -> bool:
    """Whether ``exact_holders`` answers ``query`` (a rollup grouping splits by every
    dimension it groups, filters or leaves cells out by)."""
    needed = set(query.group_by) | {name for name, _ in query.filters}
    for cell in excluded or []:
        needed |= {name for name, field in DIMENSIONS.items() if field in cell}
    return grouping_for(needed) is not None


def es_figures(
    *, query: DemandQuery, excluded: list[dict] | None = None, people: bool = True
) -> list[dict]:
    """The same rows as ``selectors.rollup_figures``: spend and purchases from aggregations.

    Distinct people come from the rollups' exact counts (``exact_holders``)
    whenever a rollup grouping splits by the query's dimensions, which is
    every query disclosure control allows: ``cardinality`` is an estimate,
    slow over many buckets at a precision that makes it near-exact, and a
    people count decides whether a figure is published. Combinations no
    grouping holds (analysts only) fall back to ``cardinality``. The search
    runs in a worker thread while this one counts people in the database.
    """
    must, must_not = _filters(query, excluded)
    exact = people and _has_exact_holders(query, excluded)
    aggs = {**_SPEND, **_HOLDERS} if people and not exact else dict(_SPEND)
    body_query = {"bool": {"filter": must, "must_not": must_not}}
    searching = [_POOL.submit(search) for search in _searches(query, body_query, aggs)]
    try:
        counts = exact_holders(query=query, excluded=excluded) if exact else None
    finally:
        found = [pair for future in searching for pair in future.result()]
    return _rows(query, found, None if counts is None else counts[1], people=people)


def es_refresh() -> None:
    if settings.ELASTICSEARCH_URL:
        get_client().indices.refresh(index=alias_name())
