"""Autocomplete for the directory's search box: service and provider names, and categories.

``GET /find/suggest?q=...`` (also ``/find/autocomplete``) answers JSON for the
progressive enhancement in frontend/js/autocomplete.mjs; the search box is an
ordinary GET form without it. Names come from the search backend in use
(Elasticsearch's completion suggester, or ``istartswith`` on the database);
categories are matched here, from the one category list, the same for both.
"""

import re

from django.http import JsonResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from marketplace.providers.taxonomy import ServiceCategory

from .client import SearchUnavailable
from .selectors import search_suggestions
from .text import SYNONYMS, normalise_query

MIN_PREFIX_LENGTH = 2
MAX_PREFIX_LENGTH = 100
MAX_NAMES = 8
MAX_CATEGORIES = 3


def _starts_a_word(text: str, prefix: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(prefix)}", text.lower()) is not None


def category_suggestions(*, prefix: str, limit: int = MAX_CATEGORIES) -> list[dict]:
    """Categories whose name, or a word people use for them, starts with ``prefix``.

    "resp" offers Short breaks (people say "respite"); each comes with the link
    to the results filtered to that category.
    """
    prefix = normalise_query(prefix)
    if len(prefix) < MIN_PREFIX_LENGTH:
        return []
    found = []
    for value, label in ServiceCategory.choices:
        words = [label, value.replace("_", " ")]
        words += [
            phrase
            for phrases, meanings in SYNONYMS
            if any(_starts_a_word(label, meaning) for meaning in meanings)
            for phrase in phrases
            if len(phrase) > 3
        ]
        if any(_starts_a_word(word, prefix) for word in words):
            found.append(
                {
                    "value": value,
                    "label": str(label),
                    "href": f"{reverse('search:results')}?{urlencode({'category': value})}",
                }
            )
    return found[:limit]


@require_GET
def suggest(request):
    """``{"suggestions": [name, ...], "categories": [{value, label, href}, ...]}``.

    Fewer than 2 characters suggest nothing; more than 100 is a 400 with a reason.
    When Elasticsearch cannot be reached or answers an error, a 503 with a reason
    (never cached); the search box still works as a plain form. Answers may be
    cached for a minute (they hold nothing personal).
    """
    prefix = " ".join((request.GET.get("q") or "").split())
    if len(prefix) > MAX_PREFIX_LENGTH:
        return JsonResponse(
            {"error": f"Type at most {MAX_PREFIX_LENGTH} characters to get suggestions."},
            status=400,
        )
    if len(prefix) < MIN_PREFIX_LENGTH:
        names, categories = [], []
    else:
        categories = category_suggestions(prefix=prefix)
        try:
            names = search_suggestions(prefix=prefix, limit=MAX_NAMES)
        except SearchUnavailable:  # logged by search.client
            response = JsonResponse(
                {
                    "error": "Name suggestions are not working at the moment. "
                    "You can still search.",
                    "suggestions": [],
                    "categories": categories,
                },
                status=503,
            )
            response["Cache-Control"] = "no-store"
            return response
    response = JsonResponse({"suggestions": names, "categories": categories})
    response["Cache-Control"] = "public, max-age=60"
    return response
