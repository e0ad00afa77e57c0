"""Related advice beside search results, cached because advice pages change rarely.

Searching the advice pages costs a full-text query for every search, for a box
that changes only when an editor publishes, unpublishes, moves, restricts or
deletes a page. The answer for each normalised query is kept in the default
cache with the generation number it was read under; any of those page events
moves the generation on, so the next search reads the pages afresh. With a cache
shared between processes (Redis) that is immediate everywhere; with the
per-process default (LocMemCache), other processes catch up within
ADVICE_CACHE_SECONDS. The generation and the answer are read together (one
round trip to Redis).
"""

import hashlib

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save

from .text import normalise_query

ADVICE_CACHE_SECONDS = 300
_GENERATION_KEY = "search:advice:generation"


def advice_cache_clear() -> None:
    """Forget every cached answer (an advice page was published, moved, deleted...)."""
    try:
        cache.incr(_GENERATION_KEY)
    except ValueError:  # not set yet, or evicted: any new number will do
        cache.add(_GENERATION_KEY, 1, None)


def related_advice_for(*, query: str, limit: int = 3) -> list[dict]:
    """Up to ``limit`` live, public information pages for a search: title, url, summary."""
    from .selectors import related_advice

    words = normalise_query(query)
    if len(words) < 3:
        return []
    digest = hashlib.sha1(f"{limit}:{words}".encode(), usedforsecurity=False).hexdigest()
    key = f"search:advice:{digest}"
    cached = cache.get_many([_GENERATION_KEY, key])
    generation = cached.get(_GENERATION_KEY)
    if generation is None:
        cache.add(_GENERATION_KEY, 1, None)
        generation = cache.get(_GENERATION_KEY, 1)
    stored = cached.get(key)
    if stored is not None and stored[0] == generation:
        return stored[1]
    found = [
        {"title": page.title, "url": page.url, "summary": getattr(page, "summary", "")}
        for page in (page.specific for page in related_advice(query=words, limit=limit))
    ]
    cache.set(key, (generation, found), ADVICE_CACHE_SECONDS)
    return found


def _page_changed(sender, **kwargs):
    advice_cache_clear()


def _page_saved_or_deleted(sender, instance, raw=False, **kwargs):
    from wagtail.models import Page, PageViewRestriction

    # Pages save under their own class (InformationPage...), so listen to every
    # model and keep only pages and their view restrictions.
    if not raw and isinstance(instance, Page | PageViewRestriction):
        advice_cache_clear()


def connect() -> None:
    from wagtail.signals import page_published, page_unpublished, post_page_move

    for signal in (page_published, page_unpublished, post_page_move):
        signal.connect(_page_changed, dispatch_uid=f"search-advice-{signal}")
    post_save.connect(_page_saved_or_deleted, dispatch_uid="search-advice-saved")
    post_delete.connect(_page_saved_or_deleted, dispatch_uid="search-advice-deleted")
