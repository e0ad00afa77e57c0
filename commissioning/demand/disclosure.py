"""Disclosure control: no published figure can identify a person.

Rules, wherever figures leave the council's own analysts (exports, the Market
Position Statement, the API and pages for anyone without the
``demand.view_unrounded_figures`` permission):

1. **Primary suppression.** A cell resting on fewer than 8 distinct budget
   holders is hidden (the NHS HES rule: counts of 1 to 7 suppressed).
2. **Rounding.** Every other count of people or purchases is rounded to the
   nearest 5, and spend to the nearest £10.
3. **A consistent grid.** Suppression is decided once, on fixed cells: one
   calendar month by service category by one more dimension (a *grid*:
   locality, care group, sector, provider or payment channel). A query may
   only group and filter by the dimensions of one grid, and filters select
   whole cells, so every published figure is a sum over whole grid cells.
   Hidden cells are left out of *every* published figure, totals included:
   a total is the sum of the cells you may see, so "total minus the others"
   gives you nothing, and neither does differencing a query with and without
   a filter, or two overlapping periods (both sides only ever contain
   visible cells).
4. **Secondary suppression.** Different grids cut the same month and
   category differently, so the category total from one grid minus the
   total from another equals (hidden cells of the second) minus (hidden
   cells of the first). To stop that revealing a single cell, whenever a
   row (month and category) or a column (month and the other dimension) of
   a grid has exactly one hidden cell, the next-smallest cell in it is
   hidden too, repeated until no row or column has exactly one.
5. Commissioners never see transactions: these figures are the only view of
   purchases the commissioning pages offer.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.conf import settings

from .selectors import DIMENSIONS, DemandQuery, demand_figures, rollup_figures, row_key

THRESHOLD = 8
ROUND_TO = 5
SPEND_ROUND_PENCE = 1000

# The grids a published query can use: month x category x one other dimension.
GRIDS: tuple[tuple[str, str], ...] = (
    ("category", "locality"),
    ("category", "care_group"),
    ("category", "sector"),
    ("category", "provider"),
    ("category", "channel"),
)

SUPPRESSED = None  # a hidden figure: shown as "[c]" (confidential), null in JSON


class DisclosureError(ValueError):
    """A query that published figures cannot answer safely; the message says why."""


def threshold() -> int:
    return getattr(settings, "DEMAND_SUPPRESSION_THRESHOLD", THRESHOLD)


def round_count(value: int) -> int:
    """Nearest multiple of 5, halves up (12 -> 10, 13 -> 15)."""
    return (
        int((value + ROUND_TO // 2) // ROUND_TO * ROUND_TO) if value >= 0 else -round_count(-value)
    )


def round_spend(pence: int) -> int:
    half = SPEND_ROUND_PENCE // 2
    if pence < 0:
        return -round_spend(-pence)
    return (pence + half) // SPEND_ROUND_PENCE * SPEND_ROUND_PENCE


def publish_count(value: int) -> int | None:
    """A count of people on its own (not from the rollups): hidden below 8, else rounded."""
    return SUPPRESSED if 0 < value < threshold() else round_count(value)


def grid_for(*, dimensions: set[str]) -> tuple[str, str]:
    """The first grid whose dimensions cover a query's group-by and filters (month is always in)."""
    wanted = set(dimensions) - {"month"}
    for grid in GRIDS:
        if wanted <= set(grid):
            return grid
    raise DisclosureError(
        "Published figures can be broken down by month and service category and at most one of "
        "locality, care group, sector, provider or payment channel."
    )


def _hide_secondary(cells: dict[tuple[str, str], int], hidden: set[tuple[str, str]]) -> None:
    """Hide the next-smallest cell of every row or column with exactly one hidden cell.

    Alternate passes over rows (axis 0) and columns (axis 1) until no line
    has exactly one hidden cell. Lines on one axis share no cells, so a pass
    only needs the lines that have exactly one hidden cell when it starts,
    and only a newly hidden cell changes a line's count: each pass looks at
    those lines alone instead of the whole grid.
    """
    lines: tuple[dict, dict] = (defaultdict(list), defaultdict(list))
    for key in cells:
        lines[0][key[0]].append(key)
        lines[1][key[1]].append(key)
    counts = [
        {line: sum(k in hidden for k in keys) for line, keys in lines[axis].items()}
        for axis in (0, 1)
    ]
    single = [{line for line, count in counts[axis].items() if count == 1} for axis in (0, 1)]
    axis = 0
    while single[0] or single[1]:
        for line in list(single[axis]):
            single[axis].discard(line)
            visible = [k for k in lines[axis][line] if k not in hidden]
            if not visible:
                continue
            cell = min(visible, key=lambda k: (cells[k], k))
            hidden.add(cell)
            for side in (0, 1):
                counts[side][cell[side]] += 1
                if counts[side][cell[side]] == 1:
                    single[side].add(cell[side])
                else:
                    single[side].discard(cell[side])
        axis = 1 - axis


def hidden_cells(*, start: date, end: date, grid: tuple[str, str]) -> list[dict]:
    """The grid cells to leave out of every published figure for these months.

    Decided per month over the whole grid, never per query, so the same cell
    is hidden whatever the filters or period around it. Read from the rollup
    cells even when Elasticsearch answers the figures: their people counts
    are exact (Elasticsearch's are estimates above its precision threshold),
    and a grid is one row per cell there.
    """
    base = rollup_figures(query=DemandQuery(start=start, end=end, group_by=("month", *grid)))
    by_month: dict[str, dict[tuple[str, str], int]] = defaultdict(dict)
    for row in base:
        by_month[row["month"]][(row[grid[0]], row[grid[1]])] = row["holders"]
    limit = threshold()
    out = []
    for month, cells in by_month.items():
        hidden = {key for key, holders in cells.items() if holders < limit}
        if hidden:
            _hide_secondary(cells, hidden)
        for key in hidden:
            cell = {"month": date.fromisoformat(f"{month}-01")}
            for name, value in zip(grid, key, strict=True):
                column = DIMENSIONS[name]
                if name == "provider":
                    cell["organisation_id"] = None if value == "-" else int(value)
                else:
                    cell[column] = value
            out.append(cell)
    return out


@dataclass
class Published:
    """Figures fit to leave the council: rows, plus how many grid cells were held back."""

    rows: list[dict]
    hidden_cells: int
    grid: tuple[str, str]


def published_figures(*, query: DemandQuery) -> Published:
    """``query``'s figures with suppression, secondary suppression and rounding applied.

    A row appears with ``spend_pence``, ``purchases`` and ``holders`` all None
    (``suppressed=True``) when every cell under it is hidden.
    """
    grid = grid_for(dimensions=set(query.group_by) | {name for name, _ in query.filters})
    hidden = hidden_cells(start=query.start, end=query.end, grid=grid)
    visible = {row_key(r, query.group_by): r for r in demand_figures(query=query, excluded=hidden)}
    all_rows = demand_figures(query=query) if hidden else list(visible.values())
    limit = threshold()
    rows = []
    for row in all_rows:
        key = row_key(row, query.group_by)
        shown = visible.get(key)
        out = {name: row[name] for name in query.group_by}
        if shown is None or shown["holders"] < limit:
            out.update(
                spend_pence=SUPPRESSED, purchases=SUPPRESSED, holders=SUPPRESSED, suppressed=True
            )
        else:
            out.update(
                spend_pence=round_spend(shown["spend_pence"]),
                purchases=round_count(shown["purchases"]),
                holders=round_count(shown["holders"]),
                suppressed=False,
                partial=bool(
                    shown["holders"] != row["holders"] or shown["spend_pence"] != row["spend_pence"]
                ),
            )
        rows.append(out)
    return Published(rows=rows, hidden_cells=len(hidden), grid=grid)


def analyst_figures(*, query: DemandQuery) -> list[dict]:
    """Exact figures for the council's analysts, each flagged ``small`` when under the threshold."""
    limit = threshold()
    rows = demand_figures(query=query)
    for row in rows:
        row["suppressed"] = False
        row["small"] = row["holders"] < limit
    return rows


def may_see_unrounded(user) -> bool:
    """Council analysts: commissioners given the permission, and administrators."""
    return bool(user and user.is_authenticated and user.has_perm("demand.view_unrounded_figures"))
