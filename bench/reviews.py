"""Reviews benchmark: provider review pages and the rating reads search and ORUK use.

    python -m bench.reviews --scale N --base-url http://127.0.0.1:8765

Needs the same DATABASE_URL as the server (bin/bench exports it). Issue 3 sets
100,000 reviews for 20,000 services; this tops the demo data up to
``--reviews`` (default 5,000 per scale step, so scale 20 gives 100,000)
published reviews. The top-up reuses the demo's verified purchases, so it
ignores the one-review-per-year rule: it is load, not demo data, and every
row it adds has the title "Benchmark review".

Measured over HTTP (closed model, ``--concurrency`` clients):
  GET /providers/<slug>/reviews/           first page, busiest providers
  GET /providers/<slug>/reviews/?reviews_page=3
Measured in-process (no HTTP):
  rating_summaries for 20 organisations    (a search results page)
  rating_summaries_refresh                 (nightly recompute of every provider)
  reviews_publish_due with 1,000 due       (rolled back afterwards)

``--in-process`` drives the pages through Django's test client instead of
HTTP, for a quick figure without a running server.
"""

import argparse
import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

from bench.load import time_calls

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")


def _setup_django() -> None:
    import django

    django.setup()


def top_up(target: int) -> int:
    """Add published benchmark reviews until there are ``target``; returns how many were added."""
    from django.db import transaction
    from django.utils import timezone

    from marketplace.payments.models import Purchase
    from marketplace.reviews.models import AuthorRole, Review, ReviewStatus

    have = Review.objects.published().count()
    if have >= target:
        return 0
    purchases = list(
        Purchase.objects.filter(organisation__isnull=False, amount_pence__gt=0)
        .values_list("pk", "budget_holder_id", "organisation_id")
        .order_by("pk")[:50000]
    )
    if not purchases:
        print("bench.reviews: no purchases with a provider to verify reviews; nothing added.")
        return 0
    now = timezone.now()
    rows = []
    for number in range(target - have):
        purchase_id, holder_id, organisation_id = purchases[number % len(purchases)]
        rating = 1 + (number * 7919) % 5
        rows.append(
            Review(
                organisation_id=organisation_id,
                budget_holder_id=holder_id,
                purchase_id=purchase_id,
                author_role=AuthorRole.BUDGET_HOLDER,
                rating=rating,
                dignity=rating,
                reliability=max(1, rating - 1),
                choice=rating,
                value=min(5, rating + 1),
                title="Benchmark review",
                body="Benchmark review text. " * 8,
                public_title="Benchmark review",
                public_body="Benchmark review text. " * 8,
                status=ReviewStatus.PUBLISHED,
                submitted_at=now - timedelta(days=10 + number % 700),
                published_at=now - timedelta(days=3 + number % 700),
            )
        )
    with transaction.atomic():
        Review.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


def in_process_figures() -> dict:
    from django.db import transaction
    from django.utils import timezone

    from marketplace.reviews.models import OrganisationRating, Review, ReviewStatus
    from marketplace.reviews.selectors import rating_summaries
    from marketplace.reviews.services import rating_summaries_refresh, reviews_publish_due

    figures = {}
    started = time.perf_counter()
    rated = rating_summaries_refresh()
    figures["rating_summaries_refresh"] = {
        "organisations": rated,
        "ms": round((time.perf_counter() - started) * 1000, 1),
    }
    ids = list(OrganisationRating.objects.values_list("organisation_id", flat=True)[:20])
    figures["rating_summaries (20 organisations)"] = time_calls(
        lambda: rating_summaries(organisation_ids=ids), repeat=300
    )

    class Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            due = list(Review.objects.published().order_by("pk")[:1000])
            Review.objects.filter(pk__in=[r.pk for r in due]).update(
                status=ReviewStatus.AWAITING_REPLY, reply_due_at=timezone.now()
            )
            started = time.perf_counter()
            published = reviews_publish_due()
            figures["reviews_publish_due"] = {
                "published": published,
                "ms": round((time.perf_counter() - started) * 1000, 1),
            }
            raise Rollback
    except Rollback:
        pass
    return figures


def busiest_slugs(count: int = 40) -> list[str]:
    from marketplace.reviews.models import OrganisationRating

    return list(
        OrganisationRating.objects.order_by("-review_count").values_list(
            "organisation__slug", flat=True
        )[:count]
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base-url", default="http://127.0.0.1:8765")
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument(
        "--reviews", type=int, help="Published reviews to reach (default 5000 x scale)"
    )
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--in-process", action="store_true", help="Use Django's test client, not HTTP"
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    _setup_django()

    from marketplace.reviews.models import Review

    added = top_up(args.reviews or 5000 * args.scale)
    figures = {"reviews_added": added, "published_reviews": Review.objects.published().count()}
    figures.update(in_process_figures())
    slugs = busiest_slugs()
    if not slugs:
        print("bench.reviews: no rated providers; run seed_demo first.")
        return 1
    paths = [f"/providers/{slug}/reviews/" for slug in slugs]
    later = [f"/providers/{slug}/reviews/?reviews_page=3" for slug in slugs]

    if args.in_process:
        from django.test import Client

        client = Client(HTTP_HOST="127.0.0.1")
        for name, batch in (("reviews page 1", paths), ("reviews page 3", later)):
            state = {"i": 0}

            def get(batch=batch, state=state):
                response = client.get(batch[state["i"] % len(batch)])
                state["i"] += 1
                assert response.status_code == 200, response.status_code

            figures[f"{name} (in-process, 1 client)"] = time_calls(get, repeat=200)
    else:
        from bench.load import Request, report, run_load

        results = [
            run_load(
                "GET /providers/<slug>/reviews/",
                args.base_url,
                [Request(path) for path in paths],
                concurrency=args.concurrency,
                duration_s=args.duration,
            ),
            run_load(
                "GET /providers/<slug>/reviews/?reviews_page=3",
                args.base_url,
                [Request(path) for path in later],
                concurrency=args.concurrency,
                duration_s=args.duration,
            ),
        ]
        report(results, title=f"Reviews at {figures['published_reviews']} published reviews")
        figures["http"] = [result.as_row() for result in results]

    print(json.dumps(figures, indent=2, default=str))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
