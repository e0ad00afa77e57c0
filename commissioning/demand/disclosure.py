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
from operator import itemgetter

from django.conf import settings

from .collector import gc_paused
from .selectors import (
    DIMENSIONS,
    DemandQuery,
    GridKeys,
    demand_figures,
    exact_holders,
    grid_cells,
)

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
    # Hidden cells per line, counted from the (few) hidden cells rather than every cell.
    counts: list[dict] = [dict.fromkeys(lines[0], 0), dict.fromkeys(lines[1], 0)]
    for key in hidden:
        counts[0][key[0]] += 1
        counts[1][key[1]] += 1
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


def _hidden_keys(cells: list[tuple], grid: tuple[str, str]) -> set[tuple[date, str, str]]:
    """The ``(month, grid value, grid value)`` cells to hide, decided month by month."""
    by_month: dict[date, dict[tuple[str, str], int]] = defaultdict(dict)
    for month, first, second, _, _, holders in cells:
        by_month[month][(first, second)] = holders
    limit = threshold()
    out = set()
    for month, grid_cells_of_month in by_month.items():
        hidden = {key for key, holders in grid_cells_of_month.items() if holders < limit}
        if hidden:
            _hide_secondary(grid_cells_of_month, hidden)
        out |= {(month, *key) for key in hidden}
    return out


def _cell(key: tuple[date, str, str], grid: tuple[str, str]) -> dict:
    """A hidden cell as rollup fields name it (what ``rollup_figures`` excludes)."""
    month, *values = key
    cell = {"month": month}
    for name, value in zip(grid, values, strict=True):
        if name == "provider":
            cell["organisation_id"] = None if value == "-" else int(value)
        else:
            cell[DIMENSIONS[name]] = value
    return cell


def _cells(keys, grid: tuple[str, str]) -> list[dict]:
    return [_cell(key, grid) for key in keys]


def hidden_cells(*, start: date, end: date, grid: tuple[str, str]) -> list[dict]:
    """The grid cells to leave out of every published figure for these months.

    Decided per month over the whole grid, never per query, so the same cell
    is hidden whatever the filters or period around it. Read from the rollup
    cells even when Elasticsearch answers the figures: their people counts
    are exact (Elasticsearch's are estimates above its precision threshold),
    and a grid is one row per cell there.
    """
    cells = grid_cells(start=start, end=end, grid=grid)
    return _cells(sorted(_hidden_keys(cells, grid)), grid)


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

    Every published figure is a sum over whole grid cells, so spend and
    purchases are summed here from the grid's cells, which deciding the
    hidden cells has already read (with and without the hidden ones, in one
    pass and on either backend). People do not add up across cells: they
    come from the rollups' exact counts with the hidden cells' months taken
    out of each person's months (``selectors.exact_holders``), except when
    each row is one grid cell.

    Python's garbage collector is held off meanwhile: a provider grid is tens
    of thousands of cells (``collector``).
    """
    with gc_paused():
        return _published_figures(query=query)


def _published_figures(*, query: DemandQuery) -> Published:
    """``published_figures``' work."""
    grid = grid_for(dimensions=set(query.group_by) | {name for name, _ in query.filters})
    cells = grid_cells(start=query.start, end=query.end, grid=grid)
    hidden = _hidden_keys(cells, grid)
    # Where each of the cell's values sits in a row key ("month", then the grid's two).
    names = ("month", *grid)
    picks = [names.index(name) for name in query.group_by]
    # Months as rows (and filters) name them, "2026-03": a few, written once each.
    texts = {month: month.isoformat()[:7] for month in {cell[0] for cell in cells}}
    filters = [
        (names.index(name), {str(value) for value in values}) for name, values in query.filters
    ]
    # The row key of a cell: its values at ``picks`` (a tuple even for one), months as text.
    if 0 in picks:

        def key_of(cell: tuple) -> tuple:
            return tuple([texts[cell[0]] if at == 0 else cell[at] for at in picks])

    elif len(picks) < 2:
        key_of = itemgetter(slice(picks[0], picks[0] + 1) if picks else slice(0))
    else:
        key_of = itemgetter(*picks)
    # Each row's sums sit at its position in flat lists (spend, purchases, people; with every
    # cell, then with the visible ones), not in a list of their own: a grid has thousands of
    # rows, and a container per row that lives through the loop is what sets off Python's
    # full garbage collections (~70 ms each, one in ~7 calls for category x provider).
    position: dict[tuple, int] = {}
    spend_all, purchases_all, people_all = [], [], []
    spend_seen, purchases_seen, people_seen = [], [], []
    # The grid's cells are tens of thousands of rows: one plain loop, no per-cell filter
    # test when there are none.
    for cell in cells:
        if filters and any(
            (texts[cell[0]] if at == 0 else str(cell[at])) not in values for at, values in filters
        ):
            continue
        key = key_of(cell)
        month, first, second, spend, purchases, people = cell
        at = position.get(key)
        if at is None:
            at = position[key] = len(spend_all)
            for sums in (spend_all, purchases_all, people_all):
                sums.append(0)
            for sums in (spend_seen, purchases_seen, people_seen):
                sums.append(0)
        spend_all[at] += spend
        purchases_all[at] += purchases
        people_all[at] += people  # people: right only when a row is one cell
        if (month, first, second) not in hidden:
            spend_seen[at] += spend
            purchases_seen[at] += purchases
            people_seen[at] += people
    if not set(grid) | {"month"} <= set(query.group_by):
        every, shown = exact_holders(query=query, excluded=GridKeys(grid, hidden))
        for key, at in position.items():
            people_all[at] = every.get(key, 0)
            people_seen[at] = shown.get(key, 0)
    limit = threshold()
    rows = []
    for key in sorted(key for key, at in position.items() if purchases_all[at]):
        at = position[key]
        out = dict(zip(query.group_by, key, strict=True))
        # No visible cell: nothing seen (a cell has at least one purchase).
        if not purchases_seen[at] or people_seen[at] < limit:
            out.update(
                spend_pence=SUPPRESSED, purchases=SUPPRESSED, holders=SUPPRESSED, suppressed=True
            )
        else:
            out.update(
                spend_pence=round_spend(spend_seen[at]),
                purchases=round_count(purchases_seen[at]),
                holders=round_count(people_seen[at]),
                suppressed=False,
                partial=bool(people_seen[at] != people_all[at] or spend_seen[at] != spend_all[at]),
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
