"""The Open Referral UK API (HSDS-UK-3.0), read-only and open to every origin.

Only published services appear. Each list page costs a fixed number of
queries whatever its length. Bad parameters answer 400 with a reason.
"""

import json
import math
import uuid
from datetime import time
from functools import lru_cache
from pathlib import Path

from django.db.models import Q
from django.http import Http404, HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_safe

from marketplace.providers.geo import (
    PostcodeError,
    bounding_box,
    coordinates_for_postcode,
    haversine_metres,
    postcode_district,
)
from marketplace.providers.models import WEEKDAY_CODES, Service, ServiceLocation, Weekday
from marketplace.providers.selectors import services_published

from . import serializers

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200
MAX_PROXIMITY_METRES = 100_000


class BadParameter(Exception):
    pass


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message, "status": status}, status=status)


def _api(view):
    """Answer JSON errors for bad parameters and missing records, GET/HEAD only."""

    @require_safe
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except BadParameter as error:
            return _error(400, str(error))
        except Http404 as error:
            return _error(404, str(error) or "Not found.")

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _int_param(
    request, name: str, *, default: int | None = None, minimum: int = 0, maximum: int | None = None
):
    raw = request.GET.get(name, "").strip()
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadParameter(f"{name} must be a whole number, not “{raw}”.") from None
    if value < minimum or (maximum is not None and value > maximum):
        limit = f" and at most {maximum}" if maximum is not None else ""
        raise BadParameter(f"{name} must be at least {minimum}{limit}.")
    return value


def _number_param(request, name: str) -> float | None:
    raw = request.GET.get(name, "").strip()
    if raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        raise BadParameter(f"{name} must be a number, not “{raw}”.") from None
    if not math.isfinite(value) or value < 0:
        raise BadParameter(f"{name} must be a number of 0 or more.")
    return value


def _uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Http404(f"No {what} with id “{value}”.") from None


_DAY_NAMES = {day.label.lower(): day.value for day in Weekday} | {
    code.lower(): index for index, code in enumerate(WEEKDAY_CODES)
}


def _filter_services(request, services):
    search = request.GET.get("search", "").strip()
    if search:
        for word in search.split()[:8]:
            services = services.filter(
                Q(name__icontains=word)
                | Q(description__icontains=word)
                | Q(organisation__name__icontains=word)
            )
    term_id = request.GET.get("taxonomy_term_id", "").strip()
    if term_id:
        term = serializers.TERMS_BY_ID.get(term_id.lower())
        if term is None:
            raise BadParameter(
                f"There is no taxonomy term with id “{term_id}”. See /api/oruk/taxonomy_terms."
            )
        if term["taxonomy_id"] == str(serializers.CATEGORY_TAXONOMY_ID):
            services = services.filter(category=term["term"])
        else:
            services = services.filter(care_groups__care_group=term["term"])
    taxonomy_id = request.GET.get("taxonomy_id", "").strip()
    if taxonomy_id:
        if taxonomy_id.lower() not in {str(t) for t in serializers.TAXONOMIES}:
            raise BadParameter(
                f"There is no taxonomy with id “{taxonomy_id}”. See /api/oruk/taxonomies."
            )
        if taxonomy_id.lower() == str(serializers.GROUP_TAXONOMY_ID):
            # Services with any term of that taxonomy (every service has a category).
            services = services.filter(care_groups__isnull=False)
    minimum_age = _number_param(request, "minimum_age")
    if minimum_age is not None:
        services = services.filter(minimum_age__gte=minimum_age)
    maximum_age = _number_param(request, "maximum_age")
    if maximum_age is not None:
        services = services.filter(maximum_age__lte=maximum_age)
    # day, start_time and end_time describe one opening: a single schedule must meet all three.
    opening = {}
    day = request.GET.get("day", "").strip()
    if day:
        weekday = _DAY_NAMES.get(day.lower())
        if weekday is None:
            raise BadParameter(f"day must be a day of the week such as MO or Monday, not “{day}”.")
        opening["schedules__weekday"] = weekday
    start_time = _time_param(request, "start_time")
    if start_time is not None:
        opening["schedules__opens_at__gte"] = start_time
    end_time = _time_param(request, "end_time")
    if end_time is not None:
        opening["schedules__closes_at__lte"] = end_time
    if start_time is not None and end_time is not None and end_time <= start_time:
        raise BadParameter("end_time must be later than start_time.")
    if opening:
        services = services.filter(**opening)
    return services.distinct()


def _time_param(request, name: str) -> time | None:
    """A time of day as ``HH:MM`` or ``HH:MM:SS`` (24-hour clock)."""
    raw = request.GET.get(name, "").strip()
    if raw == "":
        return None
    try:
        if len(raw) not in (5, 8):
            raise ValueError(raw)
        return time.fromisoformat(raw)
    except ValueError:
        raise BadParameter(
            f"{name} must be a time of day such as 09:30 or 17:00:00, not “{raw}”."
        ) from None


def _page(request) -> tuple[int, int]:
    per_page = _int_param(
        request, "per_page", default=DEFAULT_PER_PAGE, minimum=1, maximum=MAX_PER_PAGE
    )
    page = _int_param(request, "page", default=1, minimum=1)
    return page, per_page


def _envelope(*, contents: list, total: int, page: int, per_page: int) -> dict:
    total_pages = max(1, math.ceil(total / per_page))
    return {
        "total_items": total,
        "total_pages": total_pages,
        "page_number": page,
        "size": len(contents),
        "first_page": page == 1,
        "last_page": page >= total_pages,
        "empty": total == 0,
        "contents": contents,
    }


def _ratings(organisation_ids: list[int]) -> dict:
    """Rating summaries from the reviews app, one query for the page."""
    try:
        from marketplace.reviews.selectors import rating_summaries
    except ImportError:  # the reviews app is optional for the API
        return {}
    return rating_summaries(organisation_ids=sorted(set(organisation_ids)))


@_api
def index(request: HttpRequest) -> JsonResponse:
    """What this API is: ORUK 3.0, and where its OpenAPI description is."""
    return JsonResponse(
        {
            "version": "3.0",
            "profile": "HSDS-UK-3.0",
            "profile_url": "https://openreferraluk.org/",
            "openapi_url": request.build_absolute_uri(reverse("providers:oruk:openapi")),
        }
    )


@lru_cache(maxsize=1)
def _openapi_document() -> dict:
    return json.loads((Path(__file__).parent / "openapi.json").read_text())


@_api
def openapi(request: HttpRequest) -> JsonResponse:
    """The ORUK 3.0 OpenAPI description, pointed at this server."""
    document = dict(_openapi_document())
    document["servers"] = [
        {"url": request.build_absolute_uri(reverse("providers:oruk:index")).rstrip("/")}
    ]
    return JsonResponse(document)


@_api
def services(request: HttpRequest) -> JsonResponse:
    """Published services, one-to-one fields only, filtered and paginated."""
    queryset = _filter_services(request, Service.objects.published())
    page, per_page = _page(request)
    total = queryset.count()
    start = (page - 1) * per_page
    rows = list(
        queryset.select_related("organisation").order_by("name", "pk")[start : start + per_page]
    )
    ratings = _ratings([service.organisation_id for service in rows])
    contents = [
        serializers.service_list_json(s, rating=ratings.get(s.organisation_id)) for s in rows
    ]
    return JsonResponse(_envelope(contents=contents, total=total, page=page, per_page=per_page))


@_api
def service_detail(request: HttpRequest, pk: str) -> JsonResponse:
    """One published service, fully nested."""
    service = (
        services_published()
        .select_related("organisation__consortium")
        .filter(oruk_id=_uuid(pk, "service"))
        .first()
    )
    if service is None:
        raise Http404(f"No service with id “{pk}”.")
    rating = _ratings([service.organisation_id]).get(service.organisation_id)
    return JsonResponse(serializers.service_json(service, rating=rating))


def _locations_queryset():
    return (
        ServiceLocation.objects.filter(service__in=Service.objects.published())
        .select_related("service__organisation")
        .prefetch_related("service__accessibility")
    )


@_api
def service_at_locations(request: HttpRequest) -> JsonResponse:
    """Where published services run, filtered like /services plus postcode and proximity (metres)."""
    matching = _filter_services(request, Service.objects.published())
    locations = _locations_queryset().filter(service__in=matching.values("pk"))
    page, per_page = _page(request)
    postcode = request.GET.get("postcode", "").strip()
    proximity = _number_param(request, "proximity")
    if proximity is not None and not postcode:
        raise BadParameter("proximity needs a postcode to measure from.")
    if proximity is not None and proximity > MAX_PROXIMITY_METRES:
        raise BadParameter(f"proximity must be at most {MAX_PROXIMITY_METRES} metres.")
    distances: dict[int, float] = {}
    if postcode:
        try:
            latitude, longitude = coordinates_for_postcode(postcode)
            district = postcode_district(postcode)
        except PostcodeError as error:
            raise BadParameter(str(error)) from None
        if proximity is None:
            # ORUK: without proximity, services whose area covers the postcode.
            locations = locations.filter(
                Q(service__areas__postcode_district=district) | Q(postcode_district=district)
            ).distinct()
        else:
            min_lat, max_lat, min_lon, max_lon = bounding_box(latitude, longitude, proximity)
            candidates = locations.filter(
                latitude__gte=min_lat,
                latitude__lte=max_lat,
                longitude__gte=min_lon,
                longitude__lte=max_lon,
            ).values_list("pk", "latitude", "longitude")
            for pk, lat, lon in candidates:
                distance = haversine_metres(latitude, longitude, lat, lon)
                if distance <= proximity:
                    distances[pk] = distance
            ordered = sorted(distances, key=lambda pk: (distances[pk], pk))
            total = len(ordered)
            start = (page - 1) * per_page
            page_ids = ordered[start : start + per_page]
            by_id = locations.in_bulk(page_ids)
            rows = [by_id[pk] for pk in page_ids if pk in by_id]
            return _sal_response(
                rows, total=total, page=page, per_page=per_page, distances=distances
            )
    total = locations.count()
    start = (page - 1) * per_page
    rows = list(locations.order_by("service__name", "name", "pk")[start : start + per_page])
    return _sal_response(rows, total=total, page=page, per_page=per_page, distances=distances)


def _sal_response(rows, *, total, page, per_page, distances) -> JsonResponse:
    ratings = _ratings([row.service.organisation_id for row in rows])
    contents = [
        serializers.service_at_location_json(
            row,
            rating=ratings.get(row.service.organisation_id),
            full=False,
            distance=distances.get(row.pk),
        )
        for row in rows
    ]
    return JsonResponse(_envelope(contents=contents, total=total, page=page, per_page=per_page))


@_api
def service_at_location_detail(request: HttpRequest, pk: str) -> JsonResponse:
    """One place a published service runs, with the service fully nested."""
    location = (
        ServiceLocation.objects.filter(
            service_at_location_id=_uuid(pk, "service at location"),
            service__in=Service.objects.published(),
        )
        .select_related("service__organisation__consortium")
        .prefetch_related(
            "service__cost_options",
            "service__care_groups",
            "service__areas",
            "service__schedules",
            "service__languages",
            "service__accessibility",
        )
        .first()
    )
    if location is None:
        raise Http404(f"No service at location with id “{pk}”.")
    rating = _ratings([location.service.organisation_id]).get(location.service.organisation_id)
    return JsonResponse(serializers.service_at_location_json(location, rating=rating, full=True))


@_api
def taxonomies(request: HttpRequest) -> JsonResponse:
    contents = [
        serializers.taxonomy(taxonomy_id, with_terms=False)
        for taxonomy_id in serializers.TAXONOMIES
    ]
    page, per_page = _page(request)
    start = (page - 1) * per_page
    return JsonResponse(
        _envelope(
            contents=contents[start : start + per_page],
            total=len(contents),
            page=page,
            per_page=per_page,
        )
    )


@_api
def taxonomy_detail(request: HttpRequest, pk: str) -> JsonResponse:
    taxonomy_id = _uuid(pk, "taxonomy")
    if taxonomy_id not in serializers.TAXONOMIES:
        raise Http404(f"No taxonomy with id “{pk}”.")
    return JsonResponse(serializers.taxonomy(taxonomy_id, with_terms=True))


@_api
def taxonomy_terms(request: HttpRequest) -> JsonResponse:
    terms = list(serializers.TERMS_BY_ID.values())
    taxonomy_id = request.GET.get("taxonomy_id", "").strip().lower()
    if taxonomy_id:
        if taxonomy_id not in {str(t) for t in serializers.TAXONOMIES}:
            raise BadParameter(
                f"There is no taxonomy with id “{taxonomy_id}”. See /api/oruk/taxonomies."
            )
        terms = [term for term in terms if term["taxonomy_id"] == taxonomy_id]
    page, per_page = _page(request)
    start = (page - 1) * per_page
    return JsonResponse(
        _envelope(
            contents=terms[start : start + per_page], total=len(terms), page=page, per_page=per_page
        )
    )


@_api
def taxonomy_term_detail(request: HttpRequest, pk: str) -> JsonResponse:
    term = serializers.TERMS_BY_ID.get(str(_uuid(pk, "taxonomy term")))
    if term is None:
        raise Http404(f"No taxonomy term with id “{pk}”.")
    return JsonResponse(term)
