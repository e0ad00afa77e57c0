"""Template helpers for the public directory pages."""

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from django import template

register = template.Library()


@register.filter
@lru_cache(maxsize=1024)  # a few hundred distinct averages; a card shows one each
def stars_glyphs(value):
    """Five star characters for a rating, for decoration beside its text: 3.6 -> ★★★★☆."""
    if value is None:
        return "☆☆☆☆☆"
    filled = int(Decimal(str(value)).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    filled = max(0, min(5, filled))
    return "★" * filled + "☆" * (5 - filled)


@register.filter
def day_list(days):
    """``["monday", "tuesday"]`` -> ``"Monday, Tuesday"``."""
    return ", ".join(day.capitalize() for day in days or []) or "Ask the provider"
