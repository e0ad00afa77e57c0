"""The embedded default: the same search, answered from the database.

Reads search.SearchEntry (built from the same ServiceDocument as the
Elasticsearch index). Free text is ``contains`` over the entry's words with
the shared synonym alternatives, each word also matching the indexed words
within Elasticsearch's fuzziness AUTO (search.vocabulary); distance is a bounding-box pre-filter in SQL
then an exact haversine check in Python.
"""

from collections import Counter
from functools import reduce
from operator import or_

from django.db.models import Case, F, IntegerField, Q, Value, When

from marketplace.providers.geo import bounding_box, haversine_metres

from ..filters import CQC_MINIMUM_RANK, METRES_PER_MILE, PAGE_SIZE
from ..models import SearchEntry, SearchEntryLocation
from ..results import SearchResult, ServiceHit
from ..text import query_alternatives, word_pattern
from ..vocabulary import corrections, vocabulary_version
from .common import FACET_FIELDS, facet_values

BACKEND = "database"


def _word_condition(word: str, version: tuple) -> Q:
    """The word itself (search.text.word_pattern), or any indexed word within its edit
    budget (search.vocabulary: Elasticsearch's fuzziness AUTO)."""
    return reduce(
        or_,
        (Q(text__contains=f" {term} ") for term in corrections(word, version=version)),
        Q(text__contains=word_pattern(word)),
    )


def _text_condition(q: str) -> Q | None:
    alternatives = query_alternatives(q)
    if not alternatives:
        return None
    version = vocabulary_version()
    return reduce(
        or_,
        (
            reduce(
                lambda left, right: left & right,
                (_word_condition(word, version) for word in words),
            )
            for words in alternatives
        ),
    )


def _radius_metres(cleaned: dict) -> float:
    return cleaned["distance_miles"] * METRES_PER_MILE


def apply_filters(queryset, cleaned: dict):
    """Every filter of search.filters.ServiceSearchFilter as ORM conditions.

    Distance is approximate here (a bounding box, or the postcode district among
    the areas served); ``search`` removes the entries outside the circle.
    """
    condition = _text_condition(cleaned.get("q") or "")
    if condition is not None:
        queryset = queryset.filter(condition)
    if cleaned.get("category"):
        queryset = queryset.filter(category=cleaned["category"])
    if cleaned.get("care_group"):
        queryset = queryset.filter(care_groups__contains=f"|{cleaned['care_group']}|")
    if cleaned.get("sector"):
        queryset = queryset.filter(sector=cleaned["sector"])
    if cleaned.get("max_price_pence") is not None:
        queryset = queryset.filter(min_price_pence__lte=cleaned["max_price_pence"])
    if cleaned.get("cqc_rating"):
        queryset = queryset.filter(cqc_rating_rank__gte=CQC_MINIMUM_RANK[cleaned["cqc_rating"]])
    if cleaned.get("card"):
        queryset = queryset.filter(takes_card=True)
    if cleaned.get("vacancies"):
        queryset = queryset.filter(has_vacancies=True)
    if cleaned.get("language"):
        queryset = queryset.filter(languages__icontains=f"|{cleaned['language']}|")
    if cleaned.get("day"):
        queryset = queryset.filter(days__contains=f"|{cleaned['day']}|")
    if cleaned.get("accessibility"):
        queryset = queryset.filter(accessibility__contains=f"|{cleaned['accessibility']}|")
    if cleaned.get("origin"):
        lat, lon = cleaned["origin"]
        min_lat, max_lat, min_lon, max_lon = bounding_box(lat, lon, _radius_metres(cleaned))
        nearby = SearchEntryLocation.objects.filter(
            latitude__range=(min_lat, max_lat), longitude__range=(min_lon, max_lon)
        ).values("entry_id")
        queryset = queryset.filter(
            Q(pk__in=nearby) | Q(areas__contains=f"|{cleaned['postcode_district']}|")
        )
    return queryset


def _distances(entry_ids: list[int], cleaned: dict) -> dict[int, float]:
    """The nearest location of each entry, in metres from the searched postcode."""
    lat, lon = cleaned["origin"]
    nearest: dict[int, float] = {}
    for entry_id, latitude, longitude in SearchEntryLocation.objects.filter(
        entry_id__in=entry_ids
    ).values_list("entry_id", "latitude", "longitude"):
        metres = haversine_metres(lat, lon, latitude, longitude)
        if metres < nearest.get(entry_id, float("inf")):
            nearest[entry_id] = metres
    return nearest


def _counts(rows) -> dict[str, dict]:
    counters: dict[str, Counter] = {name: Counter() for name in FACET_FIELDS}
    for row in rows:
        category, care_groups, sector, cqc_rank, card, languages, days, vacancies, accessibility = (
            row
        )
        counters["category"][category] += 1
        counters["sector"][sector] += 1
        counters["card"][bool(card)] += 1
        counters["vacancies"][bool(vacancies)] += 1
        if cqc_rank:
            counters["cqc_rating"][_RANK_TO_RATING[cqc_rank]] += 1
        for name, joined in (
            ("care_group", care_groups),
            ("language", languages),
            ("day", days),
            ("accessibility", accessibility),
        ):
            for value in joined.strip("|").split("|") if joined else ():
                counters[name][value] += 1
    return {name: dict(counter) for name, counter in counters.items()}


def _rank_to_rating() -> dict[int, str]:
    from marketplace.providers.models import CQC_RATING_RANK

    return {rank: str(rating.value) for rating, rank in CQC_RATING_RANK.items()}


_RANK_TO_RATING = _rank_to_rating()
_FACET_COLUMNS = (
    "category",
    "care_groups",
    "sector",
    "cqc_rating_rank",
    "takes_card",
    "languages",
    "days",
    "has_vacancies",
    "accessibility",
)


def _relevance_order(queryset, q: str):
    """Best match first: the typed words in the service's name beat a synonym in its description."""
    alternatives = query_alternatives(q)
    if not alternatives:
        return queryset.order_by(F("rating_average").desc(nulls_last=True), "name", "service_id")
    typed = alternatives[0]
    name_match = reduce(
        lambda left, right: left & right, (Q(name__icontains=word) for word in typed)
    )
    return queryset.annotate(
        name_score=Case(
            When(name_match, then=Value(1)), default=Value(0), output_field=IntegerField()
        )
    ).order_by("-name_score", F("rating_average").desc(nulls_last=True), "name", "service_id")


def _in_circle(queryset, cleaned: dict):
    """Keep the entries of ``queryset`` within the radius (or serving the postcode district).

    Returns the narrowed queryset and each candidate's distance in metres.
    """
    candidates = list(queryset.values_list("pk", "areas"))
    distances = _distances([pk for pk, _ in candidates], cleaned)
    radius = _radius_metres(cleaned)
    district = f"|{cleaned['postcode_district']}|"
    keep = [
        pk
        for pk, areas in candidates
        if distances.get(pk, float("inf")) <= radius or district in (areas or "")
    ]
    if len(keep) < len(candidates):
        queryset = SearchEntry.objects.filter(pk__in=keep)
    return queryset, distances


def facet_counts(base, cleaned: dict, narrowed) -> dict[str, dict]:
    """Each facet counted over every filter but its own, as Elasticsearch's post_filter does.

    ``narrowed`` is ``base`` with every filter applied: the counts of facets nobody
    chose come from it in one pass; each chosen facet takes one more pass without
    its own filter, so someone can see what choosing another value would give.
    """
    counts = _counts(narrowed.values_list(*_FACET_COLUMNS))
    for name in FACET_FIELDS:
        if not cleaned.get(name):
            continue
        others = apply_filters(base, {**cleaned, name: None})
        if cleaned.get("origin"):
            others, _ = _in_circle(others, cleaned)
        counts[name] = _counts(others.values_list(*_FACET_COLUMNS))[name]
    return counts


def search(filterset) -> SearchResult:
    """Run a valid ServiceSearchFilter against the database."""
    cleaned = filterset.form.cleaned_data
    queryset = filterset.qs
    distances: dict[int, float] = {}
    if cleaned.get("origin"):
        queryset, distances = _in_circle(queryset, cleaned)
    total = queryset.count()
    facets = facet_values(facet_counts(filterset.queryset, cleaned, queryset), cleaned)
    page = min(cleaned["page"], max(1, -(-total // PAGE_SIZE)))
    start = (page - 1) * PAGE_SIZE
    sort = cleaned["sort"]
    if sort == "distance" and cleaned.get("origin"):
        ordered = sorted(
            queryset.values_list("pk", "name", "service_id"),
            key=lambda row: (distances.get(row[0], float("inf")), row[1], row[2]),
        )
        page_pks = [row[0] for row in ordered[start : start + PAGE_SIZE]]
        by_pk = SearchEntry.objects.in_bulk(page_pks)
        entries = [by_pk[pk] for pk in page_pks]
    else:
        if sort == "rating":
            queryset = queryset.order_by(
                F("rating_average").desc(nulls_last=True), "-rating_count", "name", "service_id"
            )
        elif sort == "price":
            queryset = queryset.order_by(
                F("min_price_pence").asc(nulls_last=True), "name", "service_id"
            )
        else:
            queryset = _relevance_order(queryset, cleaned.get("q") or "")
        entries = list(queryset[start : start + PAGE_SIZE])
    if cleaned.get("origin") and not distances:
        distances = _distances([entry.pk for entry in entries], cleaned)
    items = [
        ServiceHit(entry.service_id, entry.document, distances.get(entry.pk)) for entry in entries
    ]
    return SearchResult(items=items, total=total, facets=facets, page=page, backend=BACKEND)


class PendingResult:
    """The database's answer to a search, run when ``result()`` asks for it (the same
    interface as the Elasticsearch backend's, whose query is sent before)."""

    def __init__(self, filterset):
        self.filterset = filterset

    def result(self) -> SearchResult:
        return search(self.filterset)


def search_start(filterset) -> PendingResult:
    return PendingResult(filterset)


def suggest(prefix: str, *, limit: int = 8) -> list[str]:
    """Service and organisation names starting with ``prefix`` (any word of the name)."""
    prefix = " ".join(prefix.split()).lower()
    if len(prefix) < 2:
        return []
    names = (
        SearchEntry.objects.filter(Q(name__istartswith=prefix) | Q(name__icontains=f" {prefix}"))
        .order_by(F("rating_count").desc(), "name")
        .values_list("name", flat=True)[: limit * 3]
    )
    organisations = SearchEntry.objects.filter(
        document__organisation_name__istartswith=prefix
    ).values_list("document__organisation_name", flat=True)[: limit * 3]
    seen: list[str] = []
    for name in [*names, *organisations]:
        if name not in seen:
            seen.append(name)
    return seen[:limit]
