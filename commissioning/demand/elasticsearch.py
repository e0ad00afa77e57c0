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

Beside the purchases, a cells index holds one document per month, category,
postcode district and provider with its spend and purchases (``CELLS_ALIAS``;
~446,000 documents a year of 5,000,000 purchases, against ~2,500,000
purchases). Figures grouped, filtered and left out by those dimensions alone
(every dashboard grid but care group, sector and channel, and market
concentration) aggregate the cells; the rest aggregate the purchases. The
cells are sums of the purchases index, never counted up or down: each change
sums the cells its purchases were and are in afresh (``cells_update``), one
change at a time, so a purchase indexed twice, moved or deleted leaves them
right.

Purchases are indexed after commit by ``tasks.purchases_index`` and in bulk by
``manage.py reindex_demand_purchases``, which builds a new purchases index and
its cells and swaps both aliases in one step, so figures never go missing
during a rebuild. A new mapping comes with a new alias version (``ALIAS``):
deployments run ``reindex_demand_purchases`` after upgrading (until then
figures come from the purchases, with a warning, if the cells are missing).
"""

import logging
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date
from functools import partial
from operator import itemgetter

from elasticsearch import NotFoundError, helpers

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from marketplace.payments.models import Purchase
from marketplace.providers.taxonomy import ServiceCategory
from search.client import get_client, index_name

from .collector import gc_paused
from .models import GROUPINGS
from .selectors import (
    DIMENSIONS,
    DemandQuery,
    exact_holders,
    grouping_for,
    market_shares,
    person_month_figures,
    row_maker,
)

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


# The cells index: one document per month, category, postcode district and provider with
# its spend and purchases, summed from the purchases index (``cells_update`` keeps it
# current; ``purchases_reindex`` builds it with the purchases index). Figures grouped, filtered
# and left out by those dimensions alone (every dashboard grid but care group, sector and
# channel) aggregate its ~446,000 documents a year instead of ~2,500,000 purchases. Named
# after the purchases alias, so a new purchases mapping brings a new cells index too.
CELLS_ALIAS = f"{ALIAS}_cells1"
CELL_DIMENSIONS = frozenset(("month", "category", "locality", "provider"))
CELL_FIELD = "group_category_locality_provider"  # a cell's key within its month
CELL_KEY_FIELDS = {
    field: dims for field, dims in KEY_FIELDS.items() if set(dims) <= CELL_DIMENSIONS
}
CELLS_MAPPING = {
    "properties": {
        name: prop
        for name, prop in MAPPING["properties"].items()
        if name in ("month", "month_number", "category", "postcode_district", "organisation_id")
        or name in CELL_KEY_FIELDS
    }
    | {"spend_pence": {"type": "long"}, "purchases": {"type": "long"}}
}


def alias_name() -> str:
    return index_name(ALIAS)


def cells_alias_name() -> str:
    return index_name(CELLS_ALIAS)


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


def cell_document(month: str, key: str, spend_pence: int, purchases: int) -> dict:
    """The cells index's document for one month's cell (``key`` as ``CELL_FIELD`` holds it)."""
    category, district, organisation = key.split("|")
    document = {
        "month": month,
        "month_number": _month_number(month),
        "category": category,
        "postcode_district": district,
        "organisation_id": organisation,
        "spend_pence": spend_pence,
        "purchases": purchases,
    }
    for field, dims in CELL_KEY_FIELDS.items():
        document[field] = "|".join(document[DIMENSIONS[name]] for name in dims)
    return document


def _new_index(client, alias: str, mappings: dict, **extra) -> str:
    concrete = f"{alias}_{timezone.now():%Y%m%d%H%M%S%f}"
    client.indices.create(index=concrete, mappings=mappings, settings={**INDEX_SETTINGS, **extra})
    return concrete


def _behind(client, alias: str) -> list[str]:
    """The indexes an alias points at (none if there is no such alias)."""
    if not client.indices.exists_alias(name=alias):
        return []
    return list(client.indices.get_alias(name=alias).keys())


def _point(client, targets: dict[str, str]) -> None:
    """Point each alias at its new index in one step, then delete the indexes they left."""
    old = {alias: _behind(client, alias) for alias in targets}
    actions = [{"add": {"index": concrete, "alias": alias}} for alias, concrete in targets.items()]
    actions += [
        {"remove": {"index": name, "alias": alias}}
        for alias, names in old.items()
        for name in names
    ]
    client.indices.update_aliases(actions=actions)
    for names in old.values():
        for name in names:
            client.indices.delete(index=name, ignore_unavailable=True)


def ensure_index() -> str:
    """Create the purchases index if there is none (with a new, empty cells index: cells
    summed from another purchases index would not match it); returns the purchases alias."""
    client = get_client()
    alias = alias_name()
    with _creating:  # a query's parts run side by side: one of them creates it
        if not client.indices.exists_alias(name=alias):
            _point(
                client,
                {
                    alias: _new_index(client, alias, MAPPING),
                    cells_alias_name(): _new_index(client, cells_alias_name(), CELLS_MAPPING),
                },
            )
    return alias


_creating = threading.Lock()
# Cells are summed from the purchases index after each change to it; two changes summed at
# once could write an older sum after a newer one, so the change and its sums run one at a
# time (a PostgreSQL advisory lock across processes; a thread lock elsewhere).
_CELLS_LOCK_KEY = 0x5CC0_DE3A
_cells_thread_lock = threading.Lock()


@contextmanager
def _cells_lock():
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CELLS_LOCK_KEY])
            yield
    else:
        with _cells_thread_lock:
            yield


def _actions(purchases: Iterable[Purchase], index: str):
    for purchase in purchases:
        yield {
            "_op_type": "index",
            "_index": index,
            "_id": str(purchase.pk),
            "_source": purchase_document(purchase),
        }


def purchases_index_ids(*, purchase_ids: list[int], refresh: bool = False) -> int:
    """Index (or remove) these purchases and update the cells they were and are in; returns
    how many purchases were indexed."""
    client = get_client()
    alias = ensure_index()
    with _cells_lock():
        # The cells each purchase was in (a changed purchase may move), read in real time.
        before = client.mget(
            index=alias, ids=[str(pk) for pk in purchase_ids], source_includes=["month", CELL_FIELD]
        )
        cells = {
            (doc["_source"]["month"], doc["_source"][CELL_FIELD])
            for doc in before["docs"]
            if doc.get("found")
        }
        found = list(Purchase.objects.filter(pk__in=purchase_ids))
        documents = {purchase.pk: purchase_document(purchase) for purchase in found}
        cells |= {(document["month"], document[CELL_FIELD]) for document in documents.values()}
        actions = [
            {"_op_type": "index", "_index": alias, "_id": str(pk), "_source": document}
            for pk, document in documents.items()
        ]
        # Purchases no longer in the database leave the index (a 404: never indexed).
        actions += [
            {"_op_type": "delete", "_index": alias, "_id": str(pk)}
            for pk in sorted(set(purchase_ids) - set(documents))
        ]
        helpers.bulk(client, actions, refresh=refresh, ignore_status=(404,))
        cells_update(cells=cells)
    return len(documents)


# Cells summed per request when updating: a terms aggregation's ``include`` list.
CELLS_PER_REQUEST = 10_000


def cells_update(*, cells: Iterable[tuple[str, str]]) -> int:
    """Sum these cells (``(month, key)`` pairs) afresh from the purchases index and write
    them, deleting those left with no purchases; returns how many were written or deleted.
    Run under ``_cells_lock``. Nothing to do while there is no cells index (a deployment
    that has not yet run ``reindex_demand_purchases``: figures come from purchases)."""
    client = get_client()
    index = cells_alias_name()
    by_month: dict[str, set[str]] = {}
    for month, key in cells:
        by_month.setdefault(month, set()).add(key)
    if not by_month or not client.indices.exists_alias(name=index):
        return 0
    client.indices.refresh(index=alias_name())
    actions = []
    for month, keys in sorted(by_month.items()):
        ordered = sorted(keys)
        for at in range(0, len(ordered), CELLS_PER_REQUEST):
            chunk = ordered[at : at + CELLS_PER_REQUEST]
            parts = [key.split("|") for key in chunk]
            # The indexed fields narrow the month to the cells' values; ``include`` keeps
            # exactly the cells asked for.
            narrow = [
                {"terms": {field: sorted({part[i] for part in parts})}}
                for i, field in enumerate(("category", "postcode_district", "organisation_id"))
            ]
            result = _search(
                client,
                alias_name(),
                query={"bool": {"filter": [{"term": {"month": month}}, *narrow]}},
                aggs={
                    "g": {
                        "terms": {"field": CELL_FIELD, "include": chunk, "size": len(chunk)},
                        "aggs": _SPEND,
                    }
                },
            )
            sums = {b["key"]: b for b in result["aggregations"]["g"]["buckets"]}
            for key in chunk:
                bucket = sums.get(key)
                action = {"_index": index, "_id": f"{month}|{key}"}
                if bucket is None:
                    actions.append({**action, "_op_type": "delete"})
                else:
                    spend = int(bucket["s"]["value"] or 0)
                    document = cell_document(month, key, spend, bucket["doc_count"])
                    actions.append({**action, "_op_type": "index", "_source": document})
    done, _ = helpers.bulk(client, actions, ignore_status=(404,))
    return done


def _cells_from(client, purchases: str):
    """Index actions for every cell of a purchases index, month by month (composite pages over
    each month's keys)."""
    months = _search(
        client,
        purchases,
        aggs={"m": {"terms": {"field": "month", "size": TERMS_SIZE, "order": {"_key": "asc"}}}},
    )["aggregations"]["m"]["buckets"]
    for month in (bucket["key"] for bucket in months):
        after = None
        while True:
            composite = {"size": PAGE, "sources": [{"k": {"terms": {"field": CELL_FIELD}}}]}
            if after:
                composite["after"] = after
            page = _search(
                client,
                purchases,
                query={"term": {"month": month}},
                aggs={"g": {"composite": composite, "aggs": _SPEND}},
            )["aggregations"]["g"]
            for bucket in page["buckets"]:
                key = bucket["key"]["k"]
                yield {
                    "_op_type": "index",
                    "_id": f"{month}|{key}",
                    "_source": cell_document(
                        month, key, int(bucket["s"]["value"] or 0), bucket["doc_count"]
                    ),
                }
            after = page.get("after_key")
            if not after or len(page["buckets"]) < PAGE:
                break


def _settle(client, index: str) -> None:
    """A freshly built index made ready for figures: refreshed, and merged to one segment
    (global ordinals are then the segment's own, with no per-document mapping from segment
    to index ordinals; later purchases add small segments, which Elasticsearch merges as
    usual)."""
    client.indices.put_settings(index=index, settings={"refresh_interval": "1s"})
    client.indices.refresh(index=index)
    client.options(request_timeout=3600).indices.forcemerge(index=index, max_num_segments=1)


def purchases_reindex(*, batch_size: int = 5000) -> int:
    """Build a fresh purchases index from every purchase and a cells index from it, then
    point both aliases at them in one step (no gap in figures)."""
    client = get_client()
    alias, cells = alias_name(), cells_alias_name()
    concrete = _new_index(client, alias, MAPPING, refresh_interval="-1")
    written, _ = helpers.bulk(
        client,
        _actions(Purchase.objects.order_by("pk").iterator(chunk_size=batch_size), concrete),
        chunk_size=batch_size,
    )
    _settle(client, concrete)
    cells_concrete = _new_index(client, cells, CELLS_MAPPING, refresh_interval="-1")
    actions = ({**action, "_index": cells_concrete} for action in _cells_from(client, concrete))
    helpers.bulk(client, actions, chunk_size=batch_size)
    _settle(client, cells_concrete)
    _point(client, {alias: concrete, cells: cells_concrete})
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
logger = logging.getLogger(__name__)


def _search(client, index: str, **body) -> dict:
    """A search of ``index``; the purchases index is created first if there is none (a
    missing cells index is the caller's to handle: see ``es_figures``)."""
    try:
        return client.search(index=index, size=0, **body)
    except NotFoundError:
        if index != alias_name():
            raise
        ensure_index()
        return client.search(index=index, size=0, **body)


def _total(client, index, body_query: dict, aggs: dict) -> list[tuple[tuple, dict]]:
    if index != alias_name():  # cells: purchases are summed, not counted as documents
        result = _search(client, index, query=body_query, aggs=aggs)
        return [((), dict(result.get("aggregations", {}), doc_count=0))]
    result = _search(client, index, query=body_query, aggs=aggs, track_total_hits=True)
    return [((), dict(result.get("aggregations", {}), doc_count=result["hits"]["total"]["value"]))]


def _searches(query: DemandQuery, body_query: dict, aggs: dict, index: str) -> list:
    """The searches of ``index`` that answer ``query``, each a callable returning (group
    key, bucket) for its groups (one bucket, key (), without groups); together every group
    once."""
    client = get_client()
    if not query.group_by:
        return [partial(_total, client, index, body_query, aggs)]
    keyed = _KEYED.get(frozenset(query.group_by))
    if keyed and len(keyed[1]) == len(query.group_by):
        return [
            partial(_keyed, client, index, query, part, aggs, *keyed)
            for part in _category_parts(query, body_query, keyed[1])
        ]
    if len(query.group_by) <= 2 or "provider" not in query.group_by:
        return [partial(_nested, client, index, query, body_query, aggs)]
    return [partial(_composite, client, index, query, body_query, aggs)]


# Keys with providers under two other dimensions (category x locality x provider: ~80,000 in a
# year of 5,000,000 purchases) are searched in this many parts by category, side by side, so
# Elasticsearch builds and writes their buckets on more than one thread while this process
# reads the parts already answered (on 2 cores, market concentration's p50 went 277 -> 225 ms
# from two parts to three; four was no better).
CATEGORY_PARTS = 3


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


def _keyed(client, index, query, body_query, aggs, field, dims) -> list[tuple[tuple, dict]]:
    """Groups from one terms aggregation over ``field``, whose values hold ``dims`` joined
    by ``|``, as (group, bucket) pairs in key order (``_keyed_buckets``)."""
    buckets = _keyed_buckets(client, index, body_query, aggs, field)
    if len(dims) == 1:
        return [((bucket["key"],), bucket) for bucket in buckets]
    at = [dims.index(name) for name in query.group_by]
    if at == list(range(len(dims))):  # the key's own order: the split is the group
        return [(tuple(bucket["key"].split("|")), bucket) for bucket in buckets]
    pick = itemgetter(*at)
    return [(pick(bucket["key"].split("|")), bucket) for bucket in buckets]


def _keyed_buckets(client, index, body_query, aggs, field, *, counted: bool = True) -> list[dict]:
    """Every bucket of a terms aggregation over ``field``, in key order: the first ``PAGE``
    from the terms aggregation (which reads the field's global ordinals straight into an
    array) and any after them from composite pages. ``counted=False``: without the
    buckets' document counts."""
    terms = {"field": field, "size": PAGE, "shard_size": PAGE, "order": {"_key": "asc"}}
    # Only what the rows read: ~80,000 buckets are megabytes of JSON.
    read = [f"{name}.value" for name in aggs] + (
        [] if "n" in aggs or not counted else ["doc_count"]
    )
    paths = [f"aggregations.g.buckets.{path}" for path in ("key", *read)]
    result = _search(
        client,
        index,
        query=body_query,
        aggs={"g": {"terms": terms, "aggs": aggs}},
        filter_path=[*paths, "aggregations.g.sum_other_doc_count"],
    )
    groups = result["aggregations"]["g"]
    buckets = groups.get("buckets", [])
    if groups["sum_other_doc_count"]:
        after = {"k": buckets[-1]["key"]}
        while after:
            composite = {"size": PAGE, "sources": [{"k": {"terms": {"field": field}}}]}
            result = _search(
                client,
                index,
                query=body_query,
                aggs={"g": {"composite": {**composite, "after": after}, "aggs": aggs}},
                filter_path=[*paths, "aggregations.g.after_key"],
            )
            page = result.get("aggregations", {}).get("g", {})
            page_buckets = page.get("buckets", [])
            for bucket in page_buckets:
                bucket["key"] = bucket["key"]["k"]
            buckets += page_buckets
            after = page.get("after_key") if len(page_buckets) == PAGE else None
    return buckets


def _composite(client, index, query, body_query, aggs) -> list[tuple[tuple, dict]]:
    """Groups no key field holds, with providers under two more dimensions (more buckets
    than nested terms may return): composite pages over the dimensions' fields."""
    sources = [{name: {"terms": {"field": DIMENSIONS[name]}}} for name in query.group_by]
    out, after = [], None
    while True:
        composite = {"size": PAGE, "sources": sources}
        if after:
            composite["after"] = after
        result = _search(
            client, index, query=body_query, aggs={"g": {"composite": composite, "aggs": aggs}}
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


def _nested(client, index, query, body_query, aggs) -> list[tuple[tuple, dict]]:
    """Groups no key field holds, as nested ``terms`` aggregations (a year of month x care
    group x sector is a few thousand buckets)."""
    nested = aggs
    for name in reversed(query.group_by):
        nested = {name: {"terms": {"field": DIMENSIONS[name], "size": TERMS_SIZE}, "aggs": nested}}
    result = _search(client, index, query=body_query, aggs=nested)
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
    query: DemandQuery,
    found: list[tuple[tuple, dict]],
    counts: dict | None,
    *,
    people: bool,
    in_cells: bool,
) -> list[dict]:
    """Figure rows in group order from (key, bucket) pairs (buckets come nearly in key order,
    so the sort is mostly a pass over runs). Purchases are the bucket's documents, or its
    summed ``n`` over cells."""
    found.sort(key=itemgetter(0))
    row = row_maker(query.group_by)
    rows = []
    append = rows.append
    get = counts.get if counts is not None else None
    for key, b in found:
        n = int(b["n"]["value"]) if in_cells else b["doc_count"]
        if not n:
            continue
        if not people:
            holders = None
        elif get is not None:
            holders = int(get(key, 0))
        else:
            holders = int(b["h"]["value"] or 0)
        append(row(key, int(b["s"]["value"] or 0), n, holders))
    return rows


def _names(query: DemandQuery, excluded: list[dict] | None) -> set[str]:
    """The dimensions a query groups, filters or leaves cells out by."""
    needed = set(query.group_by) | {name for name, _ in query.filters}
    for cell in excluded or []:
        needed |= {name for name, field in DIMENSIONS.items() if field in cell}
    return needed


def _has_exact_holders(query: DemandQuery, excluded: list[dict] | None) -> bool:
    """Whether ``exact_holders`` answers ``query`` (a rollup grouping splits by every
    dimension it groups, filters or leaves cells out by)."""
    return grouping_for(_names(query, excluded)) is not None


_CELL_SUMS = {"s": {"sum": {"field": "spend_pence"}}, "n": {"sum": {"field": "purchases"}}}


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

    Where the rollups count the people in one statement that sums spend and
    purchases in the same pass (``selectors.person_month_figures``: a grouping
    kept per year, grouped by all its dimensions, nothing left out), the rows
    come whole from that statement.

    Spend and purchases come from the cells index when the query's dimensions
    are all cell dimensions (month, category, locality, provider) and people
    are not counted there; else, or while there is no cells index (before a
    deployment's ``reindex_demand_purchases``), from the purchases.
    """
    with gc_paused():
        return _es_figures(query=query, excluded=excluded, people=people)


def _es_figures(*, query: DemandQuery, excluded: list[dict] | None, people: bool) -> list[dict]:
    """``es_figures`` with the garbage collector on hold."""
    exact = people and _has_exact_holders(query, excluded)
    if exact and not excluded:
        # The rollups count these people in one statement that sums spend and purchases in
        # the same pass: asking Elasticsearch for the spend as well would only add its work
        # (category x locality x provider: ~80,000 buckets, 420 ms against 250 ms here).
        rows = person_month_figures(query=query)
        if rows is not None:
            return rows
    in_cells = (exact or not people) and _names(query, excluded) <= CELL_DIMENSIONS
    if in_cells:
        aggs, index = _CELL_SUMS, cells_alias_name()
    else:
        aggs = {**_SPEND, **_HOLDERS} if people and not exact else dict(_SPEND)
        index = alias_name()
    must, must_not = _filters(query, excluded)
    body_query = {"bool": {"filter": must, "must_not": must_not}}
    searching = [_POOL.submit(search) for search in _searches(query, body_query, aggs, index)]
    try:
        counts = exact_holders(query=query, excluded=excluded) if exact else None
    finally:
        try:
            found = [pair for future in searching for pair in future.result()]
        except NotFoundError:
            if not in_cells:
                raise
            logger.warning(
                "The demand cells index %s is missing: figures come from the purchases "
                "index until manage.py reindex_demand_purchases builds it.",
                index,
            )
            in_cells = False
            searches = _searches(query, body_query, dict(_SPEND), alias_name())
            found = [pair for search in searches for pair in search()]
    counts = None if counts is None else counts[1]
    return _rows(query, found, counts, people=people, in_cells=in_cells)


def _market_spends(client, index, body_query, field) -> dict[str, tuple[list[int], list[str]]]:
    """Each market's providers' spend and the providers, in provider order, from the buckets
    of ``field`` (a market's values then the provider, ``home_care|N3|17``), keyed by the
    market's part of the key. Providers with no spend (or none left after refunds) and
    purchases with no provider take no share. Spend alone is summed: every cell holds at
    least one purchase (a refund is one too), so every bucket has purchases."""
    markets: dict[str, tuple[list[int], list[str]]] = {}
    spend_only = {"s": _CELL_SUMS["s"]}
    for bucket in _keyed_buckets(client, index, body_query, spend_only, field, counted=False):
        market, _, provider = bucket["key"].rpartition("|")
        spend = int(bucket["s"]["value"] or 0)
        if spend <= 0 or provider in ("-", ""):
            continue
        entry = markets.get(market)
        if entry is None:
            entry = markets[market] = ([], [])
        entry[0].append(spend)
        entry[1].append(provider)
    return markets


def es_concentration(*, query: DemandQuery, market_dims: tuple[str, ...]) -> list[dict] | None:
    """``selectors.market_concentration`` of ``query``'s spend by ``market_dims`` and
    provider, from the cells index: each part's buckets are gathered per market in its own
    worker as they arrive (no figure row per provider: an analysts' market grid is ~80,000
    buckets), and only the markets reach this thread.

    The same figures as ``market_concentration(rows=es_figures(..., people=False))``. None
    where the cells do not answer (other dimensions, or no cells index yet).
    """
    by_provider = query.with_changes(group_by=(*market_dims, "provider"))
    keyed = _KEYED.get(frozenset(by_provider.group_by))
    if (
        not _names(by_provider, None) <= CELL_DIMENSIONS
        or keyed is None
        or keyed[1] != by_provider.group_by
    ):
        return None
    must, must_not = _filters(by_provider, None)
    body_query = {"bool": {"filter": must, "must_not": must_not}}
    client, index, field = get_client(), cells_alias_name(), keyed[0]
    with gc_paused():
        # A market is one category's, so each lies wholly in one part.
        searching = [
            _POOL.submit(_market_spends, client, index, part, field)
            for part in _category_parts(by_provider, body_query, keyed[1])
        ]
        try:
            parts = [future.result() for future in searching]
        except NotFoundError:
            return None
    # In group order (the markets' values as a tuple, as rows sort; not the joined text, in
    # which "|" sorts after letters).
    markets = dict(
        sorted(
            (
                (tuple(market.split("|")), spends)
                for part in parts
                for market, spends in part.items()
            ),
            key=itemgetter(0),
        )
    )
    return market_shares(markets=markets, market_dims=market_dims)


def es_refresh() -> None:
    if settings.ELASTICSEARCH_URL:
        get_client().indices.refresh(
            index=f"{alias_name()},{cells_alias_name()}", ignore_unavailable=True
        )
