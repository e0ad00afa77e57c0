"""The per-process cache of the embedded default holds a whole directory's profiles."""

from django.core.cache import cache


def test_the_default_cache_keeps_more_than_a_directory_of_profiles():
    # seed_demo makes 300+ providers; each cached profile body is one entry, beside
    # the page chrome and search advice. Django's own default (300) culls a third
    # of the cache once it is full.
    for number in range(1200):
        cache.set(f"profile-{number}", number)
    assert all(cache.get(f"profile-{number}") == number for number in range(1200))
