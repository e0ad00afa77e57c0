"""No URL pattern of ours is shadowed by another: every path each pattern answers
resolves to that pattern, whatever order the apps' URL lists are included in."""

import re

from django.urls import URLResolver, get_resolver, resolve
from django.urls.resolvers import RoutePattern

# Values each path converter accepts, including ones that look like another
# pattern's fixed words ("new", "claim"), which is how one pattern could take
# another's paths.
SAMPLES = {
    "int": ["1", "2024"],
    "slug": ["new", "a-provider", "claim", "add"],
    "str": ["new", "x", "add"],
    "path": ["a/b", "new"],
    "uuid": ["12345678-1234-5678-1234-567812345678"],
    "quarter": ["2026-Q3"],
}
OURS = (
    "search",
    "marketplace.",
    "commissioning.",
    "cms.",
    "config.",
)


def _our_routes(resolver, prefix=""):
    for entry in resolver.url_patterns:
        if not isinstance(entry.pattern, RoutePattern):
            continue  # regular-expression routes are Wagtail's and Django admin's
        route = prefix + str(entry.pattern._route)
        if isinstance(entry, URLResolver):
            yield from _our_routes(entry, route)
        elif entry.lookup_str.startswith(OURS):
            yield route, entry.lookup_str


def _paths(route):
    paths = [""]
    for part in re.split(r"(<[^>]+>)", route):
        if part.startswith("<"):
            converter = part[1:-1].split(":")[0] if ":" in part else "str"
            paths = [done + value for done in paths for value in SAMPLES[converter]]
        else:
            paths = [done + part for done in paths]
    return paths


def test_every_path_of_every_pattern_reaches_that_pattern():
    routes = list(_our_routes(get_resolver()))
    assert len(routes) > 100
    assert ("find/", "search.views.search_results") in routes
    assert ("webhooks/stripe/", "marketplace.budgets.webhooks.stripe_webhook") in routes
    wrong = []
    for route, _view in routes:
        for path in _paths(route):
            match = resolve("/" + path)
            if match.route != route:
                wrong.append((path, route, match.route))
    assert wrong == []
