"""The Elasticsearch backend: cleaned ServiceSearchFilter data as one ES query.

Free text: every word of one synonym alternative must match (fuzziness AUTO
for typos), on the same ``text`` field the database fallback searches; name
matches score higher. Filters are bool filters, distance is geo_distance (or
the postcode district among the areas served). The chosen facets filter the
hits through ``post_filter``, so each facet's terms aggregation can apply
every other chosen facet but not its own (as the database fallback does).
"""

from marketplace.providers.geo import haversine_metres

from ..client import search_json, search_send
from ..filters import CQC_MINIMUM_RANK, PAGE_SIZE
from ..index import alias_name
from ..results import SearchResult, ServiceHit
from ..text import query_alternatives
from .common import FACET_FIELDS, facet_values

BACKEND = "elasticsearch"


# What a results page shows of each hit (search.presenters.result_card; the landing
# pages' shared card) and the locations its distance is measured to. The rest of the
# document (the searchable text, the suggester's inputs, the facet keys) stays in
# Elasticsearch: less to send, and less JSON for the web process to decode.
RESULT_FIELDS = [
    "name",
    "summary",
    "organisation_name",
    "organisation_slug",
    "sector_label",
    "category_label",
    "min_price_pence",
    "price_unit_label",
    "cqc_rating",
    "cqc_rating_date",
    "takes_card",
    "vacancies",
    "has_vacancies",
    "vacancies_confirmed_on",
    "locations",
    "rating_count",
    "rating_average",
    "last_checked",
    "temporarily_closed",
]
_MATCH_ALL = {"match_all": {}}


def _text_query(q: str) -> dict | None:
    alternatives = query_alternatives(q)
    if not alternatives:
        return None
    clauses = [
        {"match": {"text": {"query": " ".join(words), "operator": "and", "fuzziness": "AUTO"}}}
        for words in alternatives
    ]
    typed = " ".join(alternatives[0])
    return {
        "bool": {
            "must": [{"bool": {"should": clauses, "minimum_should_match": 1}}],
            "should": [
                {"match": {"name": {"query": typed, "operator": "and", "boost": 3}}},
                {"match": {"organisation_name": {"query": typed, "operator": "and", "boost": 2}}},
            ],
        }
    }


def _facet_filters(cleaned: dict) -> dict:
    """The chosen facets' filters, by facet name (search.backends.common.FACET_FIELDS)."""
    filters = {}
    if cleaned.get("category"):
        filters["category"] = {"term": {"category": cleaned["category"]}}
    if cleaned.get("care_group"):
        filters["care_group"] = {"term": {"care_groups": cleaned["care_group"]}}
    if cleaned.get("sector"):
        filters["sector"] = {"term": {"sector": cleaned["sector"]}}
    if cleaned.get("cqc_rating"):
        filters["cqc_rating"] = {
            "range": {"cqc_rating_rank": {"gte": CQC_MINIMUM_RANK[cleaned["cqc_rating"]]}}
        }
    if cleaned.get("card"):
        filters["card"] = {"term": {"takes_card": True}}
    if cleaned.get("vacancies"):
        filters["vacancies"] = {"term": {"has_vacancies": True}}
    if cleaned.get("language"):
        filters["language"] = {"term": {"languages": cleaned["language"]}}
    if cleaned.get("day"):
        filters["day"] = {"term": {"days": cleaned["day"]}}
    if cleaned.get("accessibility"):
        filters["accessibility"] = {"term": {"accessibility": cleaned["accessibility"]}}
    return filters


def _filters(cleaned: dict) -> list:
    """The filters that are not facets (price, distance): they narrow the facet counts too."""
    filters = []
    if cleaned.get("max_price_pence") is not None:
        filters.append({"range": {"min_price_pence": {"lte": cleaned["max_price_pence"]}}})
    if cleaned.get("origin"):
        lat, lon = cleaned["origin"]
        filters.append(
            {
                "bool": {
                    "should": [
                        {
                            "geo_distance": {
                                "distance": f"{cleaned['distance_miles']}mi",
                                "locations": {"lat": lat, "lon": lon},
                            }
                        },
                        {"term": {"areas": cleaned["postcode_district"]}},
                    ],
                    "minimum_should_match": 1,
                }
            }
        )
    return filters


def _sort(cleaned: dict) -> list:
    sort = cleaned["sort"]
    by_rating = {"rating_average": {"order": "desc", "missing": "_last"}}
    if sort == "distance" and cleaned.get("origin"):
        lat, lon = cleaned["origin"]
        return [
            {"_geo_distance": {"locations": {"lat": lat, "lon": lon}, "order": "asc", "unit": "m"}},
            "name.raw",
            "service_id",
        ]
    if sort == "rating":
        return [by_rating, {"rating_count": {"order": "desc"}}, "name.raw", "service_id"]
    if sort == "price":
        return [{"min_price_pence": {"order": "asc", "missing": "_last"}}, "name.raw", "service_id"]
    if cleaned.get("q"):
        return ["_score", by_rating, "name.raw", "service_id"]
    return [by_rating, "name.raw", "service_id"]


def search_body(cleaned: dict) -> dict:
    """The request body for cleaned filter data: query, sort, page, facet aggregations,
    and only the fields a result shows. Plain JSON, built directly (the query DSL's
    objects cost more CPU than the rest of the request's Python)."""
    text = _text_query(cleaned.get("q") or "")
    query = {"must": [text or _MATCH_ALL]}
    filters = _filters(cleaned)
    if filters:
        query["filter"] = filters
    body = {
        "query": {"bool": query},
        "sort": _sort(cleaned),
        "track_total_hits": True,
        "_source": {"includes": RESULT_FIELDS},
        "from": (cleaned["page"] - 1) * PAGE_SIZE,
        "size": PAGE_SIZE,
    }
    # Facets: the chosen ones filter the hits after the aggregations (post_filter), and
    # each facet's counts apply every chosen facet but its own.
    facet_filters = _facet_filters(cleaned)
    if facet_filters:
        body["post_filter"] = {"bool": {"filter": list(facet_filters.values())}}
    aggregations = {}
    for name, field in FACET_FIELDS.items():
        others = [query for other, query in facet_filters.items() if other != name]
        aggregations[name] = {
            "filter": {"bool": {"filter": others}} if others else _MATCH_ALL,
            "aggs": {"values": {"terms": {"field": field, "size": 100}}},
        }
    body["aggs"] = aggregations
    return body


def _nearest(origin, locations) -> float | None:
    if not origin or not locations:
        return None
    return min(
        haversine_metres(origin[0], origin[1], point["lat"], point["lon"]) for point in locations
    )


def _send(cleaned: dict):
    """Send the query without waiting for the answer (search.client.PendingSearch)."""
    return search_send(index=alias_name(), body=search_body(cleaned))


class PendingResult:
    """A search sent to Elasticsearch; ``result()`` reads the answer into a SearchResult.

    ``result()`` raises search.client.SearchUnavailable when Elasticsearch does not
    answer."""

    def __init__(self, cleaned: dict):
        self.cleaned = cleaned
        self._pending = _send(cleaned)

    def result(self) -> SearchResult:
        cleaned = self.cleaned
        # Plain JSON: no response objects wrapping every hit and bucket.
        response = self._pending.json()
        total = response["hits"]["total"]["value"]
        page_count = max(1, -(-total // PAGE_SIZE))
        if cleaned["page"] > page_count and total:
            # Past the last page: show the last one instead (a second request).
            cleaned = {**cleaned, "page": page_count}
            response = _send(cleaned).json()
        counts = {}
        aggregations = response["aggregations"]
        for name, field in FACET_FIELDS.items():
            buckets = aggregations[name]["values"]["buckets"]
            if field in {"takes_card", "has_vacancies"}:
                counts[name] = {bool(bucket["key"]): bucket["doc_count"] for bucket in buckets}
            else:
                counts[name] = {bucket["key"]: bucket["doc_count"] for bucket in buckets}
        origin = cleaned.get("origin")
        items = [
            ServiceHit(
                int(hit["_id"]), hit["_source"], _nearest(origin, hit["_source"].get("locations"))
            )
            for hit in response["hits"]["hits"]
        ]
        return SearchResult(
            items=items,
            total=total,
            facets=facet_values(counts, cleaned),
            page=cleaned["page"],
            backend=BACKEND,
        )


def search_start(filterset) -> PendingResult:
    """Send a valid ServiceSearchFilter's query to Elasticsearch and return at once;
    the caller reads the answer with ``result()`` when it needs it (search.selectors)."""
    return PendingResult(filterset.form.cleaned_data)


def suggest(prefix: str, *, limit: int = 8) -> list[str]:
    """Names completing ``prefix``, from the completion suggester.

    Raises search.client.SearchUnavailable when Elasticsearch does not answer."""
    prefix = " ".join(prefix.split()).lower()
    if len(prefix) < 2:
        return []
    response = search_json(
        index=alias_name(),
        body={
            "suggest": {
                "names": {
                    "prefix": prefix,
                    "completion": {
                        "field": "suggest",
                        "size": limit * 2,
                        "skip_duplicates": True,
                    },
                }
            },
            "_source": ["name", "organisation_name"],
        },
    )
    names: list[str] = []
    for option in response["suggest"]["names"][0]["options"]:
        source = option["_source"]
        name = (
            source["name"]
            if source["name"].lower().endswith(option["text"].lower())
            else source["organisation_name"]
        )
        if name not in names:
            names.append(name)
    return names[:limit]
