"""Search and provider profile benchmark (issue 3 item 10).

    python -m bench.search --scale N --base-url http://127.0.0.1:8765 [--concurrency 8] [--duration 15]
    python -m bench.search --build --services 20000 --reviews 100000   # top the data up first
    python -m bench.search --in-process ...                            # Django test client, no server

Goals: search p95 < 80 ms and profile p95 < 60 ms at 8 concurrent clients, and
our search endpoint's p50 under twice the p50 of the bare Elasticsearch query
it sends. Needs the server's DATABASE_URL and ELASTICSEARCH_URL in the
environment (to find provider slugs and to time the bare query).

``--build`` adds benchmark organisations and services (names start
"Benchmark") until there are ``--services`` live services, gives them
OrganisationRating rows whose review counts add up to ``--reviews`` (the
rating totals search and profiles read; review rows themselves are
bench/reviews.py's business), then rebuilds the search index.

Measured (closed model):
  GET /find/?...               a mix of free text, filters, postcode + distance and sorts
  GET /providers/<slug>/       profiles of random providers
  bare ES query                the exact query /find/ sends, straight to Elasticsearch
"""

import argparse
import json
import os
import statistics
import sys
import threading
import time
from urllib.parse import urlencode

from bench.load import Request, run_load

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")

SEARCHES = [
    {"q": "help getting up in the morning", "postcode": "N3 2SB"},
    {"q": "home care", "postcode": "N12", "max_price": "25", "card": "1", "vacancies": "1"},
    {"q": "lunch club"},
    {"category": "day_opportunities", "care_group": "learning_disability", "sort": "rating"},
    {"q": "respite", "postcode": "EN5", "distance": "10", "sort": "distance"},
    {"category": "home_care", "cqc_rating": "good", "sort": "price"},
    {"q": "personal assistant", "language": "polish"},
    {"postcode": "NW4", "distance": "3", "day": "saturday"},
    {"q": "befriending", "sector": "voluntary", "page": "2"},
    {"category": "meals", "accessibility": "wheelchair", "max_price": "8"},
]
CATEGORIES = [
    ("home_care", "hour", 1900, 2900, "Home Care"),
    ("personal_assistants", "hour", 1300, 1800, "Personal Assistants"),
    ("day_opportunities", "session", 4000, 7000, "Day Centre"),
    ("short_breaks", "day", 9000, 16000, "Short Breaks"),
    ("meals", "meal", 450, 800, "Lunch Club"),
    ("transport", "journey", 400, 1500, "Community Transport"),
    ("befriending", "session", 0, 1200, "Befriending"),
    ("social_leisure", "session", 300, 2500, "Social Club"),
]


def _setup_django() -> None:
    import django

    django.setup()


def build(*, services: int, reviews: int, seed: int = 2010) -> dict:
    """Top the directory up to ``services`` live services and index them."""
    import random
    from datetime import time as clock
    from decimal import Decimal

    from django.db import transaction
    from django.utils import timezone

    from marketplace.providers.geo import DISTRICT_CENTROIDS
    from marketplace.providers.models import (
        CostOption,
        CqcRating,
        Organisation,
        RegularSchedule,
        Sector,
        Service,
        ServiceArea,
        ServiceCareGroup,
        ServiceLanguage,
        ServiceLocation,
    )
    from marketplace.reviews.models import OrganisationRating
    from search.services import search_index_rebuild

    rng = random.Random(seed)
    started = time.perf_counter()
    missing = services - Service.objects.published().count()
    districts = list(DISTRICT_CENTROIDS)
    groups = ["older_people", "physical_sensory", "learning_disability", "mental_health", "carers"]
    ratings = [
        CqcRating.OUTSTANDING,
        CqcRating.GOOD,
        CqcRating.GOOD,
        CqcRating.REQUIRES_IMPROVEMENT,
        "",
    ]
    languages = [
        "English",
        "Polish",
        "Gujarati",
        "Somali",
        "Turkish",
        "Farsi",
        "British Sign Language",
    ]
    added = 0
    now = timezone.now()
    while missing > 0:
        batch = min(missing, 2000)
        with transaction.atomic():
            base = Organisation.objects.count()
            organisations = Organisation.objects.bulk_create(
                [
                    Organisation(
                        name=f"Benchmark Provider {base + n}",
                        slug=f"benchmark-provider-{base + n}",
                        sector=rng.choice(Sector.values),
                        description="A benchmark provider.",
                        live=True,
                    )
                    for n in range(batch // 2 + 1)
                ]
            )
            rows = []
            for n in range(batch):
                category, unit, low, high, noun = rng.choice(CATEGORIES)
                district = rng.choice(districts)
                rows.append(
                    (
                        Service(
                            organisation=rng.choice(organisations),
                            name=f"{district} {noun} {base + n}",
                            description=f"Benchmark {noun.lower()} service near {district}, help at home and in the community.",
                            category=category,
                            accepts_prepayment_card=rng.random() < 0.6,
                            vacancies=rng.choice([None, 0, 1, 2, 5]),
                            cqc_rating=rng.choice(ratings),
                            live=True,
                            last_confirmed_at=now,
                        ),
                        district,
                        unit,
                        rng.randrange(low, high + 1, 10),
                    )
                )
            created = Service.objects.bulk_create([row[0] for row in rows])
            CostOption.objects.bulk_create(
                [
                    CostOption(service=s, amount_pence=p, unit=u)
                    for s, (_, _, u, p) in zip(created, rows, strict=True)
                ]
            )
            ServiceCareGroup.objects.bulk_create(
                [
                    ServiceCareGroup(service=s, care_group=g)
                    for s in created
                    for g in rng.sample(groups, 2)
                ]
            )
            ServiceArea.objects.bulk_create(
                [
                    ServiceArea(service=s, postcode_district=d)
                    for s, (_, d, _, _) in zip(created, rows, strict=True)
                ]
            )
            ServiceLocation.objects.bulk_create(
                [
                    ServiceLocation(
                        service=s,
                        name="Office",
                        address_1="1 High Road",
                        postcode=d,
                        postcode_district=d,
                        latitude=Decimal(
                            f"{DISTRICT_CENTROIDS[d][0] + rng.uniform(-0.01, 0.01):.6f}"
                        ),
                        longitude=Decimal(
                            f"{DISTRICT_CENTROIDS[d][1] + rng.uniform(-0.01, 0.01):.6f}"
                        ),
                    )
                    for s, (_, d, _, _) in zip(created, rows, strict=True)
                ]
            )
            RegularSchedule.objects.bulk_create(
                [
                    RegularSchedule(service=s, weekday=day, opens_at=clock(9), closes_at=clock(17))
                    for s in created
                    for day in sorted(rng.sample(range(7), rng.randrange(2, 8)))
                ]
            )
            ServiceLanguage.objects.bulk_create(
                [
                    ServiceLanguage(service=s, name=name)
                    for s in created
                    for name in {"English", rng.choice(languages)}
                ]
            )
        missing -= batch
        added += batch
    from bench.reviews import top_up

    reviews_added = top_up(reviews)
    have = sum(OrganisationRating.objects.values_list("review_count", flat=True))
    if have < reviews:
        organisation_ids = list(
            Organisation.objects.filter(rating__isnull=True).values_list("pk", flat=True)
        )
        per, extra = divmod(reviews - have, max(1, len(organisation_ids)))
        counts = [
            max(1, per + (1 if number < extra else 0)) for number in range(len(organisation_ids))
        ]
        OrganisationRating.objects.bulk_create(
            [
                OrganisationRating(
                    organisation_id=pk,
                    review_count=count,
                    rating_total=count * rng.randrange(2, 6),
                    smoothed_rating=Decimal(f"{rng.uniform(2.5, 4.8):.3f}"),
                )
                for pk, count in zip(organisation_ids, counts, strict=True)
            ],
            batch_size=2000,
        )
    indexed = search_index_rebuild()
    return {
        "services_added": added,
        "reviews_added": reviews_added,
        "indexed": indexed,
        "build_s": round(time.perf_counter() - started, 1),
    }


def _percentiles(name: str, samples: list[float], elapsed: float, concurrency: int) -> dict:
    ordered = sorted(samples)
    return {
        "name": name,
        "requests": len(ordered),
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2),
        "throughput_rps": round(len(ordered) / elapsed, 1),
        "concurrency": concurrency,
    }


def _closed_loop(name: str, call, *, count: int, concurrency: int, duration: float) -> dict:
    """Run ``call(index)`` from ``concurrency`` threads for ``duration`` seconds."""
    samples: list[float] = []
    lock = threading.Lock()
    counter = iter(range(10**9))

    def worker():
        while time.perf_counter() < deadline:
            index = next(counter)
            started = time.perf_counter()
            call(index % count)
            took = (time.perf_counter() - started) * 1000
            with lock:
                samples.append(took)

    for index in range(min(count, 10)):
        call(index)
    started = time.perf_counter()
    deadline = started + duration
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return _percentiles(name, samples, time.perf_counter() - started, concurrency)


def _bare_es(searches):
    """A function running the exact Elasticsearch query /find/ sends for search ``i``."""
    from search.backends.elasticsearch import build_search
    from search.client import get_client
    from search.filters import ServiceSearchFilter
    from search.index import alias_name
    from search.models import SearchEntry

    bodies = []
    for params in searches:
        filterset = ServiceSearchFilter(params, queryset=SearchEntry.objects.none())
        assert filterset.is_valid(), filterset.form.errors
        bodies.append(build_search(filterset.form.cleaned_data).to_dict())
    client, alias = get_client(), alias_name()
    return lambda i: client.search(index=alias, body=bodies[i])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--base-url", default="http://127.0.0.1:8765")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument(
        "--in-process", action="store_true", help="Django test client instead of HTTP"
    )
    parser.add_argument("--build", action="store_true", help="Top the data up first")
    parser.add_argument(
        "--services", type=int, default=0, help="Live services to reach (default 1,000 x scale)"
    )
    parser.add_argument(
        "--reviews", type=int, default=0, help="Review total to reach (default 5,000 x scale)"
    )
    args = parser.parse_args(argv)
    _setup_django()
    from django.conf import settings

    from marketplace.providers.models import Organisation

    figures: dict = {"scale": args.scale}
    if args.build:
        figures["build"] = build(
            services=args.services or 1000 * args.scale, reviews=args.reviews or 5000 * args.scale
        )
    searches = [dict(params) for params in SEARCHES]
    search_paths = [f"/find/?{urlencode(params)}" for params in searches]
    slugs = list(
        Organisation.objects.published().order_by("?").values_list("slug", flat=True)[:300]
    )
    profile_paths = [f"/providers/{slug}/" for slug in slugs]

    rows = []
    if args.in_process:
        from django.test import Client

        local = threading.local()

        def get(path):
            if not hasattr(local, "client"):
                local.client = Client(HTTP_HOST="127.0.0.1")
            response = local.client.get(path)
            assert response.status_code == 200, (path, response.status_code)

    for concurrency in sorted({1, args.concurrency}):
        for name, paths in (
            ("GET /find/?...", search_paths),
            ("GET /providers/<slug>/", profile_paths),
        ):
            if args.in_process:
                rows.append(
                    _closed_loop(
                        name,
                        lambda i, paths=paths: get(paths[i]),
                        count=len(paths),
                        concurrency=concurrency,
                        duration=args.duration,
                    )
                )
            else:
                # Over HTTP the shared driver sends the requests (keep-alive, reconnects).
                result = run_load(
                    name,
                    args.base_url,
                    [Request(path) for path in paths],
                    concurrency=concurrency,
                    duration_s=args.duration,
                )
                assert result.errors == 0, (name, result.statuses)
                row = result.as_row()
                rows.append(
                    {
                        key: row[key]
                        for key in (
                            "name",
                            "requests",
                            "p50_ms",
                            "p95_ms",
                            "throughput_rps",
                            "concurrency",
                        )
                    }
                )
        if settings.ELASTICSEARCH_URL:
            rows.append(
                _closed_loop(
                    "bare Elasticsearch query",
                    _bare_es(searches),
                    count=len(searches),
                    concurrency=concurrency,
                    duration=args.duration,
                )
            )
    figures["results"] = rows
    for concurrency in sorted({1, args.concurrency}):
        endpoint = next(
            r for r in rows if r["name"] == "GET /find/?..." and r["concurrency"] == concurrency
        )
        bare = next(
            (r for r in rows if r["name"].startswith("bare") and r["concurrency"] == concurrency),
            None,
        )
        if bare:
            figures[f"search_to_bare_es_p50_ratio_c{concurrency}"] = round(
                endpoint["p50_ms"] / bare["p50_ms"], 2
            )
    from search.models import SearchEntry

    figures["live_services"] = SearchEntry.objects.count()
    figures["mode"] = (
        "in-process (Django test client)" if args.in_process else f"HTTP {args.base_url}"
    )
    print(f"{'endpoint':<28} {'conc':>4} {'reqs':>6} {'p50 ms':>8} {'p95 ms':>8} {'req/s':>7}")
    for row in rows:
        print(
            f"{row['name']:<28} {row['concurrency']:>4} {row['requests']:>6} {row['p50_ms']:>8} "
            f"{row['p95_ms']:>8} {row['throughput_rps']:>7}"
        )
    print(json.dumps({key: value for key, value in figures.items() if key != "results"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
