"""The public directory: search, provider profiles, shortlist and compare.

All public and GET-shareable; the shortlist lives in the session so it works
signed out. No personal data is shown, so nothing here writes to the audit log.
"""

import logging
import secrets
from functools import partial

from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from cms.templatetags.govuk import query_link_maker
from config.chrome import reversed_once

from .advice import related_advice_for
from .filters import DEFAULT_DISTANCE_MILES
from .presenters import (
    facet_options_html,
    options_html,
    pagination_html,
    payment_filters_html,
    result_cards_html,
    results_column_html,
    select_facet_html,
)
from .profile_cache import (
    fill_visitor_parts,
    optional_includes,
    profile_body_cached,
    profile_body_render,
)
from .selectors import (
    organisation_for_profile,
    search_services_start,
    services_for_compare,
)
from .services import search_log_record
from .shortlist import (
    MAX_ITEMS,
    parse_ids,
    shortlist_add,
    shortlist_clear,
    shortlist_ids,
    shortlist_remove,
)

logger = logging.getLogger(__name__)

COMPARE_MAX = 5
# The results page's select filters, in the order shown, with their "any" option.
FACET_SELECTS = [
    ("category", "Any type"),
    ("care_group", "Anyone"),
    ("cqc_rating", "Any rating"),
    ("sector", "Any"),
    ("day", "Any day"),
    ("language", "Any language"),
    ("accessibility", "Any"),
]


def _urls(request) -> dict[str, str]:
    """The results page's own links (each reversed once per process)."""
    return {name: reversed_once(f"search:{name}", request) for name in _URL_NAMES}


_URL_NAMES = ("results", "autocomplete", "shortlist", "shortlist_change")


# The results page's own boxes: what the template shows of each (plain values, so the
# template reads dictionaries instead of calling bound-field properties some forty times).
_BOXES = ("q", "postcode", "max_price", "distance", "sort")


def _box_values(form) -> dict[str, dict]:
    values = {}
    for name in _BOXES:
        field = form[name]
        value = field.value()
        values[name] = {
            "id": field.auto_id,
            "value": "" if value is None else value,
            "errors": field.errors,
            "help_text": field.help_text,
            "label": field.label,
        }
    return values


def _pagination(request, result) -> dict | None:
    """GOV.UK pagination: previous/next plus page numbers with ellipses."""
    if result.page_count <= 1:
        return None
    page_link = query_link_maker(request.GET, "page")

    def link(number):
        return page_link(number if number > 1 else None)

    numbers = sorted(
        {1, result.page_count, result.page - 1, result.page, result.page + 1}
        & set(range(1, result.page_count + 1))
    )
    items, previous = [], 0
    for number in numbers:
        if number - previous > 1:
            items.append({"ellipsis": True})
        items.append({"number": number, "href": link(number), "current": number == result.page})
        previous = number
    return {
        "items": items,
        "previous": link(result.page - 1) if result.page > 1 else None,
        "next": link(result.page + 1) if result.page < result.page_count else None,
    }


class _ResultsPage(HttpResponse):
    """The results page, with its search logged once the visitor has the page.

    The WSGI (or ASGI) server calls ``close()`` after it has sent the whole body, so
    making the log row (and writing the batch it completes: search.services.
    SearchLogWriter) is not part of the time a visitor waits for results; the worker
    process still does the work before its next request. A failure is logged here and
    never reaches the visitor: the page has already gone (a batch that could not be
    written waits for the next try).
    """

    def __init__(self, content, *, log_search, **kwargs):
        super().__init__(content, **kwargs)
        self._log_search = log_search

    def close(self):
        log_search, self._log_search = self._log_search, None
        try:
            if log_search is not None:
                log_search()
        except Exception:  # noqa: BLE001 - the visitor has the page; report, do not raise
            logger.exception("Search log row not written")
        finally:
            super().close()


# Stand-ins for the parts of the results page that need the search engine's answer,
# while the rest of the page renders (search_results). The random part is new in each
# process, so no text a visitor types can pose as one.
_STAND_IN = f"\x00{secrets.token_hex(8)}:"
_PARTS = ("category", "payment", "selects", "results")
_STAND_INS = {name: mark_safe(f"{_STAND_IN}{name}\x00") for name in _PARTS}  # noqa: S308


def _fill(frame: str, parts: dict[str, str]) -> str:
    """The frame with each stand-in replaced by its part (each stands exactly once)."""
    for name in _PARTS:
        stand_in = _STAND_INS[name]
        if frame.count(stand_in) != 1:
            raise ImproperlyConfigured(f"search/results.html must show parts.{name} once.")
        frame = frame.replace(stand_in, parts[name], 1)
    return frame


@require_GET
def search_results(request):
    """The results page.

    The query goes to Elasticsearch first. While Elasticsearch searches (about 3 ms),
    the page's frame is rendered: the chrome, the search boxes, related advice and the
    shortlist link, everything that does not need the answer, with stand-ins for the
    four parts that do (the category filter, the payment filters, the other select
    filters, the results column). Once the answer is read, the parts are rendered and
    written into the frame. With the database backend the search runs when its answer
    is asked for, so the order changes nothing there.
    """
    search = search_services_start(params=request.GET)
    filterset = search.filterset
    form = filterset.form
    cleaned = form.cleaned_data if filterset.is_valid() else {}
    searched = bool(request.GET)
    shortlist = set(shortlist_ids(request.session))
    urls = _urls(request)
    fields = _box_values(form)
    sort_options = options_html(form.fields["sort"].choices, cleaned.get("sort") or "")
    frame = render_to_string(
        "search/results.html",
        {
            "urls": urls,
            "fields": fields,
            "filter": filterset,
            "form": form,
            "distance_options": options_html(
                form.fields["distance"].choices,
                str(cleaned.get("distance_miles") or DEFAULT_DISTANCE_MILES),
            ),
            "searched": searched,
            "cleaned": cleaned,
            "advice": related_advice_for(query=cleaned["q"]) if cleaned.get("q") else [],
            "shortlist": shortlist,
            "parts": _STAND_INS,
        },
        request,
    )

    result = search.result()
    log_search = (
        partial(
            search_log_record,
            cleaned=cleaned,
            result_count=result.total,
            backend=result.backend,
        )
        if filterset.is_valid() and searched and not result.unavailable
        else None
    )
    options = facet_options_html(result.facets)
    selects = {
        name: select_facet_html(form[name], options_html=options.get(name, ""), empty=empty)
        for name, empty in FACET_SELECTS
    }
    parts = {
        "category": selects.pop("category"),
        "payment": payment_filters_html(result.facets, cleaned),
        "selects": _selects_html(selects.values()),
        "results": results_column_html(
            result,
            cleaned=cleaned,
            sort_id=fields["sort"]["id"],
            sort_options=sort_options,
            cards_html=result_cards_html(
                result.items,
                shortlist=shortlist,
                # Only a page with shortlist forms sets the CSRF cookie, as
                # {% csrf_token %} did.
                csrf_token=get_token(request) if result.items else "",
                action_url=urls["shortlist_change"],
                next_path=request.get_full_path(),
            ),
            pagination_html=pagination_html(
                _pagination(request, result) if not (result.errors or result.unavailable) else None
            ),
        ),
    }
    # 503 when the search engine did not answer: the page says so, and is not a result.
    return _ResultsPage(
        _fill(frame, parts),
        status=503 if result.unavailable else 200,
        log_search=log_search,
    )


def _selects_html(selects) -> str:
    """The care group, rating, sector, day, language and accessibility filters, in one box."""
    return '<div class="app-facet">\n      ' + "\n      ".join(selects) + "\n    </div>"


def _may_review_html(request, organisation) -> str:
    if not optional_includes("reviews/includes/write_review_link.html"):
        return ""
    from marketplace.reviews.selectors import ProfileReviews, user_may_review

    user = request.user
    may_review = bool(
        user.is_authenticated and user_may_review(user=user, organisation=organisation)
    )
    reviews = ProfileReviews(
        organisation=organisation, summary=None, page=None, may_review=may_review
    )
    return render_to_string(
        "reviews/includes/write_review_link.html",
        {"organisation": organisation, "reviews": reviews},
    )


@require_GET
def provider_profile(request, slug: str):
    organisation = organisation_for_profile(slug=slug)
    if organisation is None:
        raise Http404("No provider with that address.")
    # Only the plain address is cached: other review pages are rendered fresh.
    if request.GET:
        body = profile_body_render(organisation=organisation, request=request)
    else:
        body = profile_body_cached(organisation=organisation)
    shortlist = set(shortlist_ids(request.session))
    html = fill_visitor_parts(
        body["html"],
        shortlist=shortlist,
        csrf_token=get_token(request),
        action_url=reversed_once("search:shortlist_change", request),
        next_path=request.get_full_path(),
        service_names=body["service_names"],
        may_review_html=_may_review_html(request, organisation),
    )
    # Rendered by the template engine and format_html, so already escaped.
    body_html = mark_safe(html)  # noqa: S308
    context = {"organisation": organisation, "body": body_html, "shortlist": shortlist}
    return render(request, "directory/profile.html", context)


def _back(request, fallback: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


@require_POST
def shortlist_change(request):
    service_id = parse_ids(request.POST.get("service", ""))
    action = request.POST.get("action")
    if action == "clear":
        shortlist_clear(request.session)
        messages.success(request, "Your shortlist is now empty.")
    elif service_id and action == "add":
        found = services_for_compare(service_ids=service_id)
        if not found:
            raise Http404("That service is not in the directory.")
        if shortlist_add(request.session, service_id=service_id[0]):
            messages.success(request, f"{found[0].name} is on your shortlist.")
        else:
            messages.error(
                request,
                f"Your shortlist is full. Remove a service to add another (up to {MAX_ITEMS}).",
            )
    elif service_id and action == "remove":
        shortlist_remove(request.session, service_id=service_id[0])
        messages.success(request, "Removed from your shortlist.")
    return redirect(_back(request, reverse("search:shortlist")))


def _share_url(request, ids: list[int]) -> str:
    path = reverse("search:shortlist_shared")
    return (
        request.build_absolute_uri(f"{path}?ids={','.join(str(pk) for pk in ids)}") if ids else ""
    )


@require_GET
def shortlist(request):
    ids = shortlist_ids(request.session)
    services = services_for_compare(service_ids=ids)
    return render(
        request,
        "directory/shortlist.html",
        {
            "services": services,
            "share_url": _share_url(request, [hit.service_id for hit in services]),
            "shared": False,
        },
    )


@require_GET
def shortlist_shared(request):
    """Someone else's shortlist, from a shared link: read-only, with a compare link."""
    services = services_for_compare(service_ids=parse_ids(request.GET.get("ids")))
    return render(
        request,
        "directory/shortlist.html",
        {
            "services": services,
            "share_url": _share_url(request, [hit.service_id for hit in services]),
            "shared": True,
            "mine": set(shortlist_ids(request.session)),
        },
    )


@require_GET
def compare(request):
    ids = parse_ids(request.GET.get("ids")) or shortlist_ids(request.session)
    services = services_for_compare(service_ids=ids[:COMPARE_MAX])
    return render(
        request,
        "directory/compare.html",
        {
            "services": services,
            "too_many": len(ids) > COMPARE_MAX,
            "compare_max": COMPARE_MAX,
            "share_url": request.build_absolute_uri(
                f"{reverse('search:compare')}?ids={','.join(str(hit.service_id) for hit in services)}"
            )
            if services
            else "",
        },
    )
