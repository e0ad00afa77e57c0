"""Demo data for search: build both indexes, landing pages, and six months of search history.

The history is what a council would have logged: mostly searches that found
something, and a steady trickle that found nothing (transport in EN5 and HA8,
interpreting in Polish) so the commissioning pages have unmet demand to show.
"""

from datetime import datetime, time, timedelta

from django.utils import timezone

from cms.demo import DemoContext

from .models import SearchBackend, SearchEntry, SearchLog
from .services import search_index_rebuild

# (query, category, care group, districts, share of searches) for searches that find things.
USUAL_SEARCHES = [
    ("help getting up in the morning", "", "older_people", ["N3", "N12", "N2", "NW4"], 12),
    ("home care", "home_care", "older_people", ["N3", "N12", "N20", "EN5", "NW7"], 20),
    ("lunch club", "meals", "", ["N3", "N12", "N11", "NW4"], 8),
    ("", "day_opportunities", "learning_disability", ["NW4", "NW9", "HA8"], 8),
    ("personal assistant", "personal_assistants", "physical_sensory", ["N3", "N2", "NW11"], 7),
    ("respite", "short_breaks", "", ["N20", "EN4", "EN5"], 5),
    ("befriending", "befriending", "mental_health", ["N11", "N14"], 4),
    ("", "equipment", "physical_sensory", ["N3", "HA8"], 3),
]
# Searches that found nothing: the unmet demand a commissioner should see.
UNMET_SEARCHES = [
    ("transport", "transport", "", ["EN5", "HA8"], 6),
    ("polish interpreter", "interpreting", "", ["NW9"], 2),
    ("autism day centre", "day_opportunities", "learning_disability", ["EN4"], 2),
]
HISTORY_DAYS = 182


def _logs(ctx: DemoContext, searches, *, found: bool, counts: dict[str, int]) -> list[SearchLog]:
    rng = ctx.rng
    logs = []
    for query, category, care_group, districts, weight in searches:
        for _ in range(weight * 6 * ctx.scale):
            day = ctx.today - timedelta(days=rng.randrange(HISTORY_DAYS))
            at = timezone.make_aware(
                datetime.combine(day, time(rng.randrange(7, 22), rng.randrange(60)))
            )
            filters = {"sort": "relevance"}
            if rng.random() < 0.3:
                filters["card"] = True
            if rng.random() < 0.15:
                filters["vacancies"] = True
            total = counts.get(category, sum(counts.values())) if found else 0
            logs.append(
                SearchLog(
                    at=at,
                    query=query,
                    category=category,
                    care_group=care_group,
                    postcode_district=rng.choice(districts),
                    filters=filters,
                    result_count=max(1, total // rng.choice([1, 2, 3])) if found else 0,
                    backend=SearchBackend.DATABASE,
                )
            )
    return logs


def _landing_pages() -> None:
    from cms.directory_pages import AreaLandingPage, CategoryLandingPage
    from cms.models import HomePage

    home = HomePage.objects.first()
    if home is None or CategoryLandingPage.objects.exists():
        return
    for category, title, intro in [
        (
            "home_care",
            "Home care in Barnet",
            "Carers who visit you at home to help with washing, dressing, meals and medicines.",
        ),
        (
            "meals",
            "Meals and lunch clubs",
            "Hot meals delivered to your door, or a lunch club where you can eat with other people.",
        ),
        (
            "day_opportunities",
            "Day opportunities",
            "Day centres and activities to learn, work, keep active and meet people.",
        ),
    ]:
        home.add_child(
            instance=CategoryLandingPage(
                title=title,
                slug=category.replace("_", "-"),
                category=category,
                intro=f"<p>{intro}</p>",
            )
        )
    for district, place in [("N3", "Finchley"), ("NW4", "Hendon"), ("EN5", "Barnet and Arkley")]:
        home.add_child(
            instance=AreaLandingPage(
                title=f"Care and support in {place}",
                slug=f"care-in-{place.split()[0].lower()}",
                postcode_district=district,
                place_name=place,
                distance_miles=3,
                intro=f"<p>Services based in or visiting {place} ({district}).</p>",
            )
        )


def seed(ctx: DemoContext) -> None:
    indexed = search_index_rebuild()
    ctx.made["search_indexed"] = indexed
    counts: dict[str, int] = {}
    for category in SearchEntry.objects.values_list("category", flat=True):
        counts[category] = counts.get(category, 0) + 1
    logs = _logs(ctx, USUAL_SEARCHES, found=True, counts=counts) + _logs(
        ctx, UNMET_SEARCHES, found=False, counts=counts
    )
    SearchLog.objects.bulk_create(logs, batch_size=1000)
    _landing_pages()
