"""Demand figures at scale: rollups vs a naive GROUP BY, and Elasticsearch aggregations.

    DATABASE_URL=postgres://.../scc_bench .venv/bin/python -m bench.demand --scale 1000000 [--elasticsearch]

Loads ``--scale`` synthetic purchases (PostgreSQL COPY), rebuilds the rollups,
times an incremental update for one day's purchases, then each dashboard
query (p95 over ``--repeat`` runs) from the rollups, from a naive GROUP BY over
purchases and, with ``--elasticsearch``, from the purchases index. Run it
against a throwaway database that has been migrated.
"""

import argparse
import io
import os
import random
import statistics
import time
from datetime import date, timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count, Sum  # noqa: E402
from django.db.models.functions import TruncMonth  # noqa: E402
from django.test import override_settings  # noqa: E402

from commissioning.demand.disclosure import published_figures  # noqa: E402
from commissioning.demand.selectors import DemandQuery, rollup_figures  # noqa: E402
from commissioning.demand.services import demand_rollups_apply, demand_rollups_rebuild  # noqa: E402
from marketplace.accounts.models import BudgetHolder, CareGroup  # noqa: E402
from marketplace.payments.models import Purchase  # noqa: E402
from marketplace.providers.models import Organisation, Sector  # noqa: E402
from marketplace.providers.taxonomy import ServiceCategory  # noqa: E402

DISTRICTS = [f"N{n}" for n in range(1, 23)] + ["EN4", "EN5", "NW4", "NW7", "NW9", "HA8"]


def p95(samples):
    return sorted(samples)[max(0, int(len(samples) * 0.95) - 1)] * 1000


def load(scale: int, start: date, days: int, rng: random.Random):
    holders_needed = max(1000, scale // 150)
    BudgetHolder.objects.bulk_create(
        [
            BudgetHolder(
                full_name=f"Bench {i}",
                date_of_birth=date(1950, 1, 1),
                care_group=rng.choice(CareGroup.values),
                postcode=f"{rng.choice(DISTRICTS)} 1AA",
                council_reference=f"BENCH-{i:08d}",
            )
            for i in range(holders_needed)
        ],
        batch_size=5000,
    )
    holders = list(
        BudgetHolder.objects.filter(council_reference__startswith="BENCH-").values_list(
            "pk", "care_group", "postcode"
        )
    )
    Organisation.objects.bulk_create(
        [
            Organisation(
                name=f"Bench provider {i}",
                slug=f"bench-provider-{i}",
                sector=rng.choice(Sector.values),
            )
            for i in range(300)
        ]
    )
    orgs = list(
        Organisation.objects.filter(slug__startswith="bench-provider-").values_list("pk", "sector")
    )
    categories = ServiceCategory.values
    buffer = io.StringIO()
    for i in range(scale):
        holder_id, care_group, postcode = rng.choice(holders)
        org_id, sector = rng.choice(orgs)
        day = start + timedelta(days=rng.randrange(days))
        buffer.write(
            f"{holder_id}\t{org_id}\t{rng.choice(categories)}\t{rng.randrange(500, 9000)}\t{day}\tmarketplace\t"
            f"bench-{i}\t\t\tmatched\t100\t{care_group}\t{postcode.split()[0]}\t{sector}\tnow()\t\t\t\n"
        )
    buffer.seek(0)
    columns = (
        "budget_holder_id, organisation_id, category, amount_pence, occurred_on, channel, source_reference, "
        "merchant_name, merchant_category_code, match_status, match_confidence, care_group, postcode_district, "
        "sector, created_at, merchant_key, merchant_postcode, stripe_merchant_id"
    )
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY payments_purchase ({columns}) FROM STDIN") as copy,
    ):
        copy.write(buffer.read().replace("now()", str(django.utils.timezone.now())))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--elasticsearch", action="store_true")
    parser.add_argument("--base-url", default="", help="unused: queries run in-process")
    args = parser.parse_args()
    rng = random.Random(5)
    start, days = date(2024, 1, 1), 730
    if not Purchase.objects.filter(source_reference__startswith="bench-").exists():
        t = time.perf_counter()
        load(args.scale, start, days, rng)
        print(f"loaded {args.scale:,} purchases in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        cells, members = demand_rollups_rebuild()
        print(f"rebuild: {cells:,} cells, {members:,} members in {time.perf_counter() - t:.1f} s")
        with connection.cursor() as cursor:
            # What autovacuum would do soon after a bulk load: statistics and the visibility
            # map, so dashboard queries can use index-only scans.
            for table in ("demand_demandrollup", "demand_demandrollupmember", "payments_purchase"):
                cursor.execute(f"VACUUM ANALYZE {table}")
    per_day = args.scale // days
    day_purchases = []
    holders = list(
        BudgetHolder.objects.filter(council_reference__startswith="BENCH-").values_list(
            "pk", flat=True
        )[:2000]
    )
    org = Organisation.objects.filter(slug__startswith="bench-provider-").first()
    for i in range(per_day):
        day_purchases.append(
            Purchase(
                budget_holder_id=rng.choice(holders),
                organisation=org,
                category=rng.choice(ServiceCategory.values),
                amount_pence=rng.randrange(500, 9000),
                occurred_on=start + timedelta(days=days - 1),
                channel="card",
                source_reference=f"bench-day-{time.time_ns()}-{i}",
                match_status="matched",
                care_group=CareGroup.OLDER_PEOPLE,
                postcode_district=rng.choice(DISTRICTS),
                sector=org.sector,
            )
        )
    t = time.perf_counter()
    with transaction.atomic():
        Purchase.objects.bulk_create(day_purchases, batch_size=5000)
        demand_rollups_apply(purchases=day_purchases, sign=1)
    print(
        f"incremental: a day's {per_day:,} purchases inserted and applied in {time.perf_counter() - t:.2f} s"
    )
    t = time.perf_counter()
    with transaction.atomic():
        demand_rollups_apply(purchases=day_purchases, sign=-1)
        demand_rollups_apply(purchases=day_purchases, sign=1)
    print(f"incremental: the same day taken away and put back in {time.perf_counter() - t:.2f} s")

    end = start + timedelta(days=days - 1)
    year = DemandQuery(start=date(end.year, 1, 1), end=end.replace(day=1))
    queries = {
        "total": year,
        "by category": year.with_changes(group_by=("category",)),
        "by locality": year.with_changes(group_by=("locality",)),
        "category x locality": year.with_changes(group_by=("category", "locality")),
        "by month": year.with_changes(group_by=("month",)),
        "category x provider": year.with_changes(group_by=("category", "provider")),
        "by care group": year.with_changes(group_by=("care_group",)),
        "month x category x loc": year.with_changes(group_by=("month", "category", "locality")),
    }

    def naive(q):
        fields = [
            {
                "category": "category",
                "locality": "postcode_district",
                "provider": "organisation_id",
                "care_group": "care_group",
            }.get(n, "month")
            for n in q.group_by
        ]
        qs = Purchase.objects.filter(
            occurred_on__gte=q.start, occurred_on__lt=end + timedelta(days=1)
        ).annotate(month=TruncMonth("occurred_on"))
        if fields:
            return list(
                qs.values(*fields)
                .annotate(
                    s=Sum("amount_pence"), c=Count("pk"), h=Count("budget_holder_id", distinct=True)
                )
                .order_by()
            )
        return qs.aggregate(
            s=Sum("amount_pence"), c=Count("pk"), h=Count("budget_holder_id", distinct=True)
        )

    backends = [("rollups", lambda q: rollup_figures(query=q)), ("naive GROUP BY", naive)]
    if args.elasticsearch:
        from commissioning.demand.elasticsearch import es_figures, purchases_reindex

        t = time.perf_counter()
        purchases_reindex()
        print(f"elasticsearch reindex in {time.perf_counter() - t:.1f} s")
        backends.append(("elasticsearch", lambda q: es_figures(query=q)))

    def published_from_rollups(q):
        with override_settings(ELASTICSEARCH_URL=""):
            return published_figures(query=q)

    backends.append(("published (rollups + disclosure)", published_from_rollups))
    for name, run in backends:
        for label, query in queries.items():
            samples = []
            for _ in range(args.repeat if name != "naive GROUP BY" else 3):
                t = time.perf_counter()
                run(query)
                samples.append(time.perf_counter() - t)
            print(
                f"{name:34} {label:22} p95 {p95(samples):8.1f} ms  median {statistics.median(samples) * 1000:8.1f} ms"
            )
    print(f"database: {settings.DATABASES['default']['NAME']}")


if __name__ == "__main__":
    main()
