"""Keeping the demand rollups in step with purchases."""

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth

from config.tasks import enqueue_on_commit
from marketplace.payments.models import Purchase

from .models import DemandRollup, DemandRollupMember

logger = logging.getLogger(__name__)

CELL_FIELDS = (
    "month",
    "category",
    "postcode_district",
    "care_group",
    "organisation_id",
    "sector",
    "channel",
)
_CHUNK = 500


def cell_key(cell: dict) -> str:
    """The unique key of a cell, e.g. ``2026-03-01|home_care|N3|older_people|12|private|card``."""
    return "|".join(
        [
            cell["month"].isoformat(),
            cell["category"],
            cell["postcode_district"],
            cell["care_group"],
            str(cell["organisation_id"]) if cell["organisation_id"] is not None else "-",
            cell["sector"] or "",
            cell["channel"],
        ]
    )


def purchase_cell(purchase: Purchase) -> dict:
    """The rollup cell a purchase falls in, from its denormalised fields."""
    return {
        "month": purchase.occurred_on.replace(day=1),
        "category": purchase.category,
        "postcode_district": purchase.postcode_district,
        "care_group": purchase.care_group,
        "organisation_id": purchase.organisation_id,
        "sector": purchase.sector or "",
        "channel": purchase.channel,
    }


@dataclass
class _Delta:
    cell: dict
    spend_pence: int = 0
    purchase_count: int = 0
    holders: Counter = field(default_factory=Counter)


def _chunks(items: list, size: int = _CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


@transaction.atomic
def demand_rollups_apply(*, purchases: Iterable[Purchase], sign: int) -> int:
    """Add (``sign=1``) or take away (``sign=-1``) purchases; returns the cells touched.

    Guarantees: runs inside the caller's transaction, so the rollups change
    if and only if the purchases do; the touched cells are locked first
    (``select_for_update``), so concurrent writers to the same cell queue
    rather than lose an update; distinct budget holders stay exact because a
    member row appears with a person's first purchase in a cell and goes with
    their last. Cells left with no purchases are deleted. To reclassify a
    purchase, call with ``sign=-1`` while it still has its old values, then
    change it, then call with ``sign=1``. Elasticsearch (when configured) is
    updated after commit.
    """
    if sign not in (1, -1):
        raise ValueError("sign must be 1 or -1")
    purchases = list(purchases)
    deltas: dict[str, _Delta] = {}
    for purchase in purchases:
        cell = purchase_cell(purchase)
        delta = deltas.setdefault(cell_key(cell), _Delta(cell=cell))
        delta.spend_pence += sign * purchase.amount_pence
        delta.purchase_count += sign
        delta.holders[purchase.budget_holder_id] += sign
    if not deltas:
        return 0
    keys = list(deltas)
    DemandRollup.objects.bulk_create(
        [DemandRollup(cell_key=key, **deltas[key].cell) for key in keys], ignore_conflicts=True
    )
    rollups: dict[str, DemandRollup] = {}
    for chunk in _chunks(keys):
        for rollup in DemandRollup.objects.select_for_update().filter(cell_key__in=chunk):
            rollups[rollup.cell_key] = rollup
    by_id = {rollup.pk: key for key, rollup in rollups.items()}
    members: dict[tuple[int, int], DemandRollupMember] = {}
    for chunk in _chunks(list(by_id)):
        holder_ids = {h for pk in chunk for h in deltas[by_id[pk]].holders}
        for member in DemandRollupMember.objects.filter(
            rollup_id__in=chunk, budget_holder_id__in=holder_ids
        ):
            members[(member.rollup_id, member.budget_holder_id)] = member
    to_create, to_update, to_delete = [], [], []
    for key, delta in deltas.items():
        rollup = rollups[key]
        rollup.spend_pence += delta.spend_pence
        rollup.purchase_count += delta.purchase_count
        for holder_id, change in delta.holders.items():
            if change == 0:
                continue
            member = members.get((rollup.pk, holder_id))
            before = member.purchase_count if member else 0
            after = before + change
            if after < 0:
                logger.warning("Demand rollup %s was out of step; run rebuild_demand_rollups.", key)
                after = 0
            if before == 0 and after > 0:
                rollup.holder_count += 1
                to_create.append(
                    DemandRollupMember(
                        rollup=rollup, budget_holder_id=holder_id, purchase_count=after
                    )
                )
            elif before > 0 and after == 0:
                rollup.holder_count -= 1
                to_delete.append(member.pk)
            elif member is not None:
                member.purchase_count = after
                to_update.append(member)
    DemandRollupMember.objects.bulk_create(to_create, batch_size=1000)
    DemandRollupMember.objects.bulk_update(to_update, ["purchase_count"], batch_size=1000)
    for chunk in _chunks(to_delete):
        DemandRollupMember.objects.filter(pk__in=chunk).delete()
    empty = [r.pk for r in rollups.values() if r.purchase_count <= 0]
    live = [r for r in rollups.values() if r.purchase_count > 0]
    DemandRollup.objects.bulk_update(
        live, ["spend_pence", "purchase_count", "holder_count"], batch_size=1000
    )
    for chunk in _chunks(empty):
        DemandRollup.objects.filter(pk__in=chunk).delete()
    if settings.ELASTICSEARCH_URL:
        from .tasks import purchases_index

        enqueue_on_commit(purchases_index, purchase_ids=[p.pk for p in purchases])
    return len(deltas)


def demand_rollup_apply(*, purchase: Purchase, sign: int) -> None:
    """Add or take away one purchase: call in the same transaction that saves it (see above)."""
    demand_rollups_apply(purchases=[purchase], sign=sign)


def _naive_cells(purchases=None) -> dict[str, dict]:
    """Every cell straight from the purchases table (the GROUP BY the rollups must equal)."""
    purchases = purchases if purchases is not None else Purchase.objects.all()
    rows = (
        purchases.annotate(month=TruncMonth("occurred_on"))
        .values(*CELL_FIELDS)
        .annotate(
            spend_pence=Sum("amount_pence"),
            purchase_count=Count("pk"),
            holder_count=Count("budget_holder_id", distinct=True),
        )
        .order_by()
    )
    cells = {}
    for row in rows:
        row["month"] = _as_date(row["month"])
        cells[cell_key(row)] = row
    return cells


def _as_date(value) -> date:
    return value.date() if hasattr(value, "date") and callable(value.date) else value


@transaction.atomic
def demand_rollups_rebuild() -> tuple[int, int]:
    """Recompute every rollup from the purchases; returns ``(cells, members)``.

    Guarantees: all or nothing (one transaction), and afterwards the rollups
    equal a GROUP BY over ``Purchase``. For repair and bulk loads; page
    views never call it.
    """
    DemandRollupMember.objects.all().delete()
    DemandRollup.objects.all().delete()
    rows = (
        Purchase.objects.annotate(month=TruncMonth("occurred_on"))
        .values(*CELL_FIELDS, "budget_holder_id")
        .annotate(spend_pence=Sum("amount_pence"), purchase_count=Count("pk"))
        .order_by()
    )
    cells: dict[str, DemandRollup] = {}
    holders: dict[str, list[tuple[int, int]]] = {}
    for row in rows.iterator(chunk_size=5000):
        row["month"] = _as_date(row["month"])
        key = cell_key(row)
        rollup = cells.get(key)
        if rollup is None:
            rollup = cells[key] = DemandRollup(
                cell_key=key, **{name: row[name] for name in CELL_FIELDS}
            )
            holders[key] = []
        rollup.spend_pence += row["spend_pence"]
        rollup.purchase_count += row["purchase_count"]
        rollup.holder_count += 1
        holders[key].append((row["budget_holder_id"], row["purchase_count"]))
    DemandRollup.objects.bulk_create(cells.values(), batch_size=2000)
    ids = dict(DemandRollup.objects.values_list("cell_key", "pk"))
    members = [
        DemandRollupMember(rollup_id=ids[key], budget_holder_id=holder_id, purchase_count=count)
        for key, people in holders.items()
        for holder_id, count in people
    ]
    DemandRollupMember.objects.bulk_create(members, batch_size=5000)
    return len(cells), len(members)


def demand_rollups_differences() -> list[str]:
    """Where the rollups differ from a naive GROUP BY over purchases (empty when in step)."""
    naive = _naive_cells()
    stored = {
        r["cell_key"]: r
        for r in DemandRollup.objects.values(
            "cell_key", "spend_pence", "purchase_count", "holder_count"
        )
    }
    problems = []
    for key in sorted(set(naive) | set(stored)):
        want, have = naive.get(key), stored.get(key)
        if want is None or have is None:
            problems.append(f"{key}: {'missing' if have is None else 'not in purchases'}")
            continue
        for name in ("spend_pence", "purchase_count", "holder_count"):
            if want[name] != have[name]:
                problems.append(f"{key}: {name} is {have[name]}, purchases say {want[name]}")
    member_total = DemandRollupMember.objects.count()
    naive_members = sum(row["holder_count"] for row in naive.values())
    if member_total != naive_members:
        problems.append(f"members: {member_total} stored, purchases say {naive_members}")
    return problems
