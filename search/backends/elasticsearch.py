"""The Elasticsearch backend: cleaned ServiceSearchFilter data as one ES query.

Free text: every word of one synonym alternative must match (fuzziness AUTO
for typos), on the same ``text`` field the database fallback searches; name
matches score higher. Filters are bool filters, distance is geo_distance (or
the postcode district among the areas served). The chosen facets filter the
hits through ``post_filter``, so each facet's terms aggregation can apply
every other chosen facet but not its own (as the database fallback does).
"""

from elasticsearch_dsl import A, Q, Search

from marketplace.providers.geo import haversine_metres

from ..client import get_client
from ..filters import CQC_MINIMUM_RANK, PAGE_SIZE
from ..index import alias_name
from ..results import SearchResult, ServiceHit
from ..text import query_alternatives
from .common import FACET_FIELDS, facet_values

BACKEND = "elasticsearch"


def _text_query(q: str):
    alternatives = query_alternatives(q)
    if not alternatives:
        return None
    clauses = [
        Q("match", text={"query": " ".join(words), "operator": "and", "fuzziness": "AUTO"})
        for words in alternatives
    ]
    typed = " ".join(alternatives[0])
    return Q(
        "bool",
        must=[Q("bool", should=clauses, minimum_should_match=1)],
        should=[
            Q("match", name={"query": typed, "operator": "and", "boost": 3}),
            Q("match", organisation_name={"query": typed, "operator": "and", "boost": 2}),
        ],
    )


def _facet_filters(cleaned: dict) -> dict:
    """The chosen facets' filters, by facet name (search.backends.common.FACET_FIELDS)."""
    filters = {}
    if cleaned.get("category"):
        filters["category"] = Q("term", category=cleaned["category"])
    if cleaned.get("care_group"):
        filters["care_group"] = Q("term", care_groups=cleaned["care_group"])
    if cleaned.get("sector"):
        filters["sector"] = Q("term", sector=cleaned["sector"])
    if cleaned.get("cqc_rating"):
        filters["cqc_rating"] = Q(
            "range", cqc_rating_rank={"gte": CQC_MINIMUM_RANK[cleaned["cqc_rating"]]}
        )
    if cleaned.get("card"):
        filters["card"] = Q("term", takes_card=True)
    if cleaned.get("vacancies"):
        filters["vacancies"] = Q("term", has_vacancies=True)
    if cleaned.get("language"):
        filters["language"] = Q("term", languages=cleaned["language"])
    if cleaned.get("day"):
        filters["day"] = Q("term", days=cleaned["day"])
    if cleaned.get("accessibility"):
        filters["accessibility"] = Q("term", accessibility=cleaned["accessibility"])
    return filters


def _filters(cleaned: dict) -> list:
    """The filters that are not facets (price, distance): they narrow the facet counts too."""
    filters = []
    if cleaned.get("max_price_pence") is not None:
        filters.append(Q("range", min_price_pence={"lte": cleaned["max_price_pence"]}))
    if cleaned.get("origin"):
        lat, lon = cleaned["origin"]
        filters.append(
            Q(
                "bool",
                should=[
                    Q(
                        "geo_distance",
                        distance=f"{cleaned['distance_miles']}mi",
                        locations={"lat": lat, "lon": lon},
                    ),
                    Q("term", areas=cleaned["postcode_district"]),
                ],
                minimum_should_match=1,
            )
        )
    return filters


def build_search(cleaned: dict) -> Search:
    """The Search object for cleaned filter data: query, sort, page and facet aggregations."""
    search = Search(using=get_client(), index=alias_name()).extra(track_total_hits=True)
    text = _text_query(cleaned.get("q") or "")
    search = search.query(
        Q("bool", must=[text] if text else [Q("match_all")], filter=_filters(cleaned))
    )
    sort = cleaned["sort"]
    if sort == "distance" and cleaned.get("origin"):
        lat, lon = cleaned["origin"]
        search = search.sort(
            {"_geo_distance": {"locations": {"lat": lat, "lon": lon}, "order": "asc", "unit": "m"}},
            "name.raw",
            "service_id",
        )
    elif sort == "rating":
        search = search.sort(
            {"rating_average": {"order": "desc", "missing": "_last"}},
            {"rating_count": {"order": "desc"}},
            "name.raw",
            "service_id",
        )
    elif sort == "price":
        search = search.sort(
            {"min_price_pence": {"order": "asc", "missing": "_last"}}, "name.raw", "service_id"
        )
    elif cleaned.get("q"):
        search = search.sort(
            "_score",
            {"rating_average": {"order": "desc", "missing": "_last"}},
            "name.raw",
            "service_id",
        )
    else:
        search = search.sort(
            {"rating_average": {"order": "desc", "missing": "_last"}}, "name.raw", "service_id"
        )
    # Facets: the chosen ones filter the hits after the aggregations (post_filter), and
    # each facet's counts apply every chosen facet but its own.
    facet_filters = _facet_filters(cleaned)
    if facet_filters:
        search = search.post_filter(Q("bool", filter=list(facet_filters.values())))
    for name, field in FACET_FIELDS.items():
        others = [query for other, query in facet_filters.items() if other != name]
        search.aggs.bucket(
            name, A("filter", Q("bool", filter=others) if others else Q("match_all"))
        ).bucket("values", A("terms", field=field, size=100))
    start = (cleaned["page"] - 1) * PAGE_SIZE
    return search[start : start + PAGE_SIZE]


def _nearest(origin, locations) -> float | None:
    if not origin or not locations:
        return None
    return min(
        haversine_metres(origin[0], origin[1], point["lat"], point["lon"]) for point in locations
    )


def _execute(cleaned: dict) -> dict:
    """Send the query and return Elasticsearch's answer as plain JSON: the same request
    ``Search.execute()`` sends, without wrapping every hit and bucket in objects."""
    search = build_search(cleaned)
    return get_client().search(index=alias_name(), body=search.to_dict()).body


def search(filterset) -> SearchResult:
    """Run a valid ServiceSearchFilter against Elasticsearch."""
    cleaned = filterset.form.cleaned_data
    response = _execute(cleaned)
    total = response["hits"]["total"]["value"]
    page_count = max(1, -(-total // PAGE_SIZE))
    if cleaned["page"] > page_count and total:
        cleaned = {**cleaned, "page": page_count}
        response = _execute(cleaned)
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


def suggest(prefix: str, *, limit: int = 8) -> list[str]:
    """Names completing ``prefix``, from the completion suggester."""
    prefix = " ".join(prefix.split()).lower()
    if len(prefix) < 2:
        return []
    response = get_client().search(
        index=alias_name(),
        suggest={
            "names": {
                "prefix": prefix,
                "completion": {"field": "suggest", "size": limit * 2, "skip_duplicates": True},
            }
        },
        source=["name", "organisation_name"],
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
