"""Demand figures for commissioners, read from the rollups (or Elasticsearch when configured).

Every figure about spend, purchases and people comes from ``DemandRollup``
cells (or the same cells' purchases in Elasticsearch), never from a full pass
over purchases per page view. Figures leave this module exact; disclosure
control (``disclosure.py``) decides what a caller may see.
"""

import statistics
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from marketplace.accounts.models import CareGroup
from marketplace.payments.models import Channel, Purchase
from marketplace.providers.models import Organisation, Sector
from marketplace.providers.taxonomy import ServiceCategory

from .models import (
    GROUPINGS,
    PATTERN_GROUPINGS,
    PERSON_INDEXED_GROUPING,
    WINDOW_STEP,
    WINDOW_YEARS,
    YEAR_GROUPINGS,
    BlockContract,
    DemandRollup,
    DemandRollupMember,
    DemandRollupPattern,
    DemandRollupReach,
    DemandRollupYear,
    FairCostRate,
)
from .reach import reach_kept

# Public dimension name -> rollup field.
DIMENSIONS: dict[str, str] = {
    "month": "month",
    "category": "category",
    "locality": "postcode_district",
    "care_group": "care_group",
    "provider": "organisation_id",
    "sector": "sector",
    "channel": "channel",
}
DIMENSION_LABELS = {
    "month": "Month",
    "category": "Service category",
    "locality": "Postcode district",
    "care_group": "Care group",
    "provider": "Provider",
    "sector": "Sector",
    "channel": "How it was paid",
}
MEASURES = ("spend_pence", "purchases", "holders")


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class DemandQuery:
    """Which months, broken down by which dimensions, limited to which values.

    ``start`` and ``end`` are first days of months, both included. Filters
    select whole values of a dimension, so a query always covers whole cells.
    """

    start: date
    end: date
    group_by: tuple[str, ...] = ()
    filters: tuple[tuple[str, tuple[str, ...]], ...] = field(default_factory=tuple)

    def __post_init__(self):
        for name in self.group_by + tuple(name for name, _ in self.filters):
            if name not in DIMENSIONS:
                raise ValueError(f"Unknown dimension: {name}")
        if self.end < self.start:
            raise ValueError("The period ends before it starts.")

    @property
    def months(self) -> int:
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1

    def month_starts(self) -> list[date]:
        """The first day of each month in the period, in order."""
        return [add_months(self.start, offset) for offset in range(self.months)]

    @property
    def filter_dict(self) -> dict[str, tuple[str, ...]]:
        return dict(self.filters)

    def shifted(self, months: int) -> "DemandQuery":
        return replace(self, start=add_months(self.start, months), end=add_months(self.end, months))

    def previous_period(self) -> "DemandQuery":
        return self.shifted(-self.months)

    def last_year(self) -> "DemandQuery":
        return self.shifted(-12)

    def with_changes(self, **changes) -> "DemandQuery":
        return replace(self, **changes)


def row_key(row: dict, group_by: tuple[str, ...]) -> tuple:
    return tuple(row[name] for name in group_by)


@dataclass(frozen=True)
class GridKeys:
    """Cells of one disclosure grid to leave out, as ``grid_cells`` names them: ``(month,
    value, value)`` tuples in the rollups' own form (months as dates, providers as text).

    What ``exact_holders`` takes besides ``excluded``'s dicts: a provider grid hides
    thousands of cells a month, and a dict per cell costs more than the people query.
    """

    grid: tuple[str, str]
    keys: frozenset[tuple] | set[tuple]

    def __len__(self) -> int:
        # No cells is nothing excluded, as an empty list is: the query may then read a
        # narrower grouping than the grid's.
        return len(self.keys)

    def as_excluded(self) -> list[dict]:
        """The same cells as ``excluded`` dicts (rollup field names, providers as ids)."""
        out = []
        for month, *values in self.keys:
            cell = {"month": month}
            for name, value in zip(self.grid, values, strict=True):
                if name == "provider":
                    cell["organisation_id"] = None if value == "-" else int(value)
                else:
                    cell[DIMENSIONS[name]] = value
            out.append(cell)
        return out


# ---------------------------------------------------------------------------
# The database path: rollup cells

# Rollup field (as disclosure control names cells) -> public dimension.
_FIELD_DIMENSION = {column: name for name, column in DIMENSIONS.items()}


def grouping_for(dimensions: set[str]) -> str | None:
    """The smallest rollup grouping whose cells split by every one of ``dimensions``."""
    wanted = set(dimensions) - {"month"}
    for grouping, dims in GROUPINGS.items():
        if wanted <= set(dims):
            return grouping
    return None


def _column(grouping: str, name: str) -> str:
    """The rollup column holding dimension ``name`` in ``grouping``."""
    if name in ("month", "category"):
        return name
    others = [d for d in GROUPINGS[grouping] if d != "category"]
    return ("value", "value2")[others.index(name)]


def _stored(name: str, value) -> str:
    """A dimension value as the rollups store it (providers as text, no provider as ``-``)."""
    if name == "provider":
        return "-" if value in (None, "", "-") else str(value)
    return "" if value is None else str(value)


def _db_value(name: str, value):
    if name == "month":
        month = value if isinstance(value, date) else date.fromisoformat(f"{value}-01")
        return month if connection.vendor == "postgresql" else month.isoformat()
    return _stored(name, value)


def _filter_sql(grouping: str, query: DemandQuery) -> tuple[list[str], list]:
    sql, params = [], []
    for name, values in query.filters:
        column = _column(grouping, name)
        sql.append(f"{column} IN ({', '.join(['%s'] * len(values))})")
        params += [_db_value(name, value) for value in values]
    return sql, params


def _where(grouping: str, query: DemandQuery, excluded: list[dict]) -> tuple[str, list]:
    sql = ["grouping = %s", "month >= %s", "month <= %s"]
    params = [grouping, _db_value("month", query.start), _db_value("month", query.end)]
    filters, filter_params = _filter_sql(grouping, query)
    sql += filters
    params += filter_params
    if excluded:
        fields = list(excluded[0])
        names = [_FIELD_DIMENSION[field] for field in fields]
        columns = ", ".join(_column(grouping, name) for name in names)
        row = "(" + ", ".join(["%s"] * len(names)) + ")"
        sql.append(f"({columns}) NOT IN (VALUES {', '.join([row] * len(excluded))})")
        for cell in excluded:
            params += [
                _db_value(name, cell[field]) for name, field in zip(names, fields, strict=True)
            ]
    return " AND ".join(sql), params


# What reading a year's cells of a ``YEAR_GROUPINGS`` grouping costs, in months' cells: a
# year has a row for every cell with a purchase in any of its months (category x locality x
# provider at 5,000,000 purchases: ~78,000 a year against ~37,000 a month).
_YEAR_COST = 2


def _cells_source(grouping: str, query: DemandQuery) -> tuple[str, str, list]:
    """Where a query's rollup cells come from, as ``FROM`` and ``WHERE`` text and parameters.

    The months' rows; or, for a grouping kept per year (``YEAR_GROUPINGS``) and
    a period that covers most of a year, that year's row less the months of the
    year outside the period (plus the months of other years inside it), when
    that reads fewer rows: twelve months across a year end are one year's cells
    and two months'. Exact (spend and purchases add up; a cell with no purchases
    in the period sums to none). ``holder_count`` summed is then the months'
    holder counts summed (person-months, from the year rows' ``holder_months``),
    as it is over the months' rows, not people; so only queries that count
    people some other way, or not at all, read them: not by month, and no month
    filters.
    """
    where, params = _where(grouping, query, [])
    plain = DemandRollup._meta.db_table, where, params
    names = {*query.group_by, *(name for name, _ in query.filters)}
    if grouping not in YEAR_GROUPINGS or "month" in names:
        return plain
    by_year: dict[int, list[date]] = defaultdict(list)
    for month in query.month_starts():
        by_year[month.year].append(month)
    years, minus, plus = [], [], []
    for year, inside in by_year.items():
        outside = [date(year, m, 1) for m in range(1, 13) if date(year, m, 1) not in inside]
        if _YEAR_COST + len(outside) < len(inside):
            years.append(year)
            minus += outside
        else:
            plus += inside
    if not years:
        return plain
    filters, filter_params = _filter_sql(grouping, query)
    also = "".join(f" AND {sql}" for sql in filters)
    columns = "category, value, value2"
    parts = [
        f"SELECT {columns}, spend_pence, purchase_count, holder_months AS holder_count "  # noqa: S608
        f"FROM {DemandRollupYear._meta.db_table} "
        f"WHERE grouping = %s AND year IN ({', '.join(['%s'] * len(years))}){also}"
    ]
    params = [grouping, *years, *filter_params]
    for sign, months in (("-", minus), ("", plus)):
        if months:
            parts.append(
                f"SELECT {columns}, {sign}spend_pence, {sign}purchase_count, {sign}holder_count "  # noqa: S608
                f"FROM {DemandRollup._meta.db_table} WHERE grouping = %s "
                f"AND month IN ({', '.join(['%s'] * len(months))}){also}"
            )
            params += [grouping, *(_db_value("month", m) for m in months), *filter_params]
    source = f"({' UNION ALL '.join(parts)}) cells"
    return source, "1 = 1", params


def _out(name: str, value) -> str:
    if name == "month":
        return value.isoformat()[:7] if isinstance(value, date) else str(value)[:7]
    return value


def _excluded_names(excluded: list[dict]) -> list[str]:
    for cell in excluded:
        if set(cell) != set(excluded[0]):
            raise ValueError("Excluded cells must all name the same dimensions.")
    return [_FIELD_DIMENSION[field] for field in excluded[0]] if excluded else []


def _hidden_flag(grouping: str, excluded: list[dict]) -> tuple[str, list]:
    """SQL that is 1 for a rollup row in an excluded cell, else 0 (and its parameters).

    On PostgreSQL the cells travel as one array per column, so thousands of
    hidden cells are a few parameters, not a VALUES list of thousands.
    """
    if not excluded:
        return "0", []
    fields = list(excluded[0])
    names = [_FIELD_DIMENSION[field] for field in fields]
    columns = ", ".join(_column(grouping, name) for name in names)
    values = [
        [_db_value(name, cell[field]) for cell in excluded]
        for name, field in zip(names, fields, strict=True)
    ]
    if connection.vendor == "postgresql":
        arrays = ", ".join(
            f"CAST(%s AS {'date' if name == 'month' else 'varchar'}[])" for name in names
        )
        return (
            f"CASE WHEN ({columns}) IN (SELECT * FROM unnest({arrays})) THEN 1 ELSE 0 END",  # noqa: S608
            values,
        )
    row = "(" + ", ".join(["%s"] * len(names)) + ")"
    params = [value for cell in zip(*values, strict=True) for value in cell]
    sql = f"CASE WHEN ({columns}) IN (VALUES {', '.join([row] * len(excluded))}) THEN 1 ELSE 0 END"
    return sql, params


def rollup_figures(
    *, query: DemandQuery, excluded: list[dict] | None = None, people: bool = True
) -> list[dict]:
    """Spend, purchases and distinct people per group, from the smallest rollup that answers.

    ``excluded`` lists cells (by rollup field values: month, category and one
    grid dimension) to leave out entirely: disclosure control uses it so
    hidden cells never feed a published figure. Distinct people come from
    the cells' ``holder_count`` when every row is one cell (for example a
    grid grouped by month), else from the reach rows (``_reach_holders``; on
    SQLite, ``COUNT(DISTINCT)`` over the members). A combination no grouping
    splits by (analysts only) is read from purchases.
    """
    return rollup_figures_split(query=query, excluded=excluded or [], people=people)[1]


def rollup_figures_split(
    *, query: DemandQuery, excluded: list[dict], people: bool = True
) -> tuple[list[dict], list[dict]]:
    """``query``'s rows with every cell, and with ``excluded`` cells left out, in one pass.

    Disclosure control needs both (a row is "partial" when they differ): one
    scan of the rollup cells sums both, and one pass over the reach rows
    counts people both ways (``people=False``: not at all, ``holders`` is
    None; for figures that need only spend). The SQL text holds only our own
    column names; values are parameters.
    """
    names = _excluded_names(excluded)
    needed = set(query.group_by) | {name for name, _ in query.filters} | set(names)
    grouping = grouping_for(needed)
    if grouping is None:
        if excluded:
            raise ValueError("Excluded cells must fall in a rollup grouping.")
        rows = purchase_figures(query=query)
        return rows, rows
    if people and not excluded:
        rows = _person_month_figures(grouping=grouping, query=query)
        if rows is not None:
            return rows, rows
    where, params = _where(grouping, query, [])
    flag, flag_params = _hidden_flag(grouping, excluded)
    columns = [_column(grouping, name) for name in query.group_by]
    select = "".join(f"{c}, " for c in columns)
    group = f" GROUP BY {', '.join(columns)}" if columns else ""
    one_cell_per_row = set(GROUPINGS[grouping]) | {"month"} <= set(query.group_by)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Distinct people: hash the (group, person) pairs in memory rather than sort on disk.
            cursor.execute("SET LOCAL work_mem = '64MB'")
            # Compiling these one-off scans with JIT costs more than it saves.
            cursor.execute("SET LOCAL jit = off")
        if excluded:
            visible = "CASE WHEN hidden = 0 THEN {} ELSE 0 END"
            cursor.execute(
                f"SELECT {select}SUM(spend_pence), SUM(purchase_count), SUM(holder_count), "  # noqa: S608
                f"SUM({visible.format('spend_pence')}), SUM({visible.format('purchase_count')}), "
                f"SUM({visible.format('holder_count')}) FROM (SELECT {select}spend_pence, "
                f"purchase_count, holder_count, {flag} AS hidden "
                f"FROM {DemandRollup._meta.db_table} WHERE {where}) cells{group}",
                [*flag_params, *params],
            )
        else:  # nothing hidden: the plain sums (half the work on hundreds of thousands of cells)
            holder_sum = "SUM(holder_count)" if people or one_cell_per_row else "0"
            source, source_where, source_params = _cells_source(grouping, query)
            cursor.execute(
                f"SELECT {select}CAST(SUM(spend_pence) AS bigint), SUM(purchase_count), "  # noqa: S608
                f"{holder_sum} FROM {source} WHERE {source_where}{group}",
                source_params,
            )
        sums = cursor.fetchall()
        holders = None
        if people and not one_cell_per_row:
            holders = _reach_holders(
                cursor, grouping=grouping, query=query, excluded=excluded, columns=columns
            )
            if holders is None:
                holders = _member_holders(cursor, grouping, query, excluded, columns)
    if not excluded:
        counts = None if holders is None else holders[0]
        every = _figure_rows(sums, query.group_by, counts, people or one_cell_per_row)
        return every, every
    every, shown = [], []
    outputs = [(every, slice(-6, -3) if excluded else slice(-3, None), 0)]
    outputs += [(shown, slice(-3, None), 1)] if excluded else []
    names = query.group_by
    month_at = names.index("month") if "month" in names else None
    size = len(names)
    count = None
    # An analysts' grid can be tens of thousands of rows: sort the database's tuples (months
    # sort the same as dates and as "2026-03") and build each row once, in order.
    for row in sorted(sums, key=lambda row: row[:size]):
        key = tuple(row[:size])
        out = dict(zip(names, key, strict=True))
        if month_at is not None:
            out["month"] = _out("month", key[month_at])
        for rows, measures, side in outputs:
            spend, purchases, cell_holders = row[measures]
            if not purchases:
                continue
            if people or one_cell_per_row:
                counts = None if holders is None else holders[side]
                count = int(cell_holders if counts is None else counts.get(key, 0))
            rows.append(
                {
                    **out,
                    "spend_pence": int(spend or 0),
                    "purchases": int(purchases),
                    "holders": count,
                }
            )
    return every, shown


def _tuple_order(columns: list[str]) -> str:
    """An ORDER BY key giving text columns the order Python gives their tuples (code points,
    so byte order: ``COLLATE "C"``), as one value rather than one sort key per column.

    An analysts' grid is ~78,000 rows, and comparing three keys row against row costs the
    sort about twice what one key does. The columns are joined by \\x01\\x01, with each
    \\x01 in a value written \\x01\\x02 (text holds no \\x00): that keeps each column's
    order and puts a value before every longer one it begins, as tuples compare.
    """
    if len(columns) == 1:
        return f'{columns[0]} COLLATE "C"'
    escaped = [f"replace({col}, E'\\x01', E'\\x01\\x02')" for col in columns]
    return "(" + " || E'\\x01\\x01' || ".join(escaped) + ') COLLATE "C"'


def _person_month_figures(*, grouping: str, query: DemandQuery) -> list[dict] | None:
    """Figure rows for a ``YEAR_GROUPINGS`` query grouped by all of its grouping's dimensions,
    people included, in one statement and without a row per person; None where this path
    does not answer (SQLite, by month or month filters, a period over two reach windows).

    Spend, purchases and person-months (each person once per month they bought in) add up
    over months, so all three come from the year rows less or plus months
    (``_cells_source``). A person who bought in k of the period's months is k person-months
    but one person, so people are person-months less k - 1 for each such person: a sum over
    the cell's month masks of two or more months, which the pattern table keeps for these
    groupings (the masks are the reach window's, so the period must lie in one window).
    Rows in group order, values as the rollups hold them (the order Python's tuples sort
    in: ``COLLATE "C"``, byte order). Exact.
    """
    names = {*query.group_by, *(name for name, _ in query.filters)}
    windows = _windows(query)
    if (
        grouping not in YEAR_GROUPINGS
        or not reach_kept()
        or "month" in names
        or set(query.group_by) != set(GROUPINGS[grouping])
        or len(windows) != 1
    ):
        return None
    columns = [_column(grouping, name) for name in query.group_by]
    select = ", ".join(columns)
    source, where, params = _cells_source(grouping, query)
    masks = ["grouping = %s", "first_year = %s"]
    mask_params: list = [grouping, windows[0]]
    for name, values in query.filters:
        masks.append(f"{_column(grouping, name)} IN ({', '.join(['%s'] * len(values))})")
        mask_params += [_stored(name, value) for value in values]
    period = _window_bits(query, windows[0])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute("SET LOCAL jit = off")
        # One aggregate over the cells' rows and, for the people, each mask's months in the
        # period beyond the first (masks with fewer than two there take nothing away).
        cursor.execute(
            f"SELECT {select}, CAST(SUM(spend_pence) AS bigint), "  # noqa: S608
            "CAST(SUM(purchase_count) AS bigint), CAST(SUM(holder_count) AS bigint) FROM ("
            f"SELECT {select}, spend_pence, purchase_count, holder_count FROM {source} "
            f"WHERE {where} UNION ALL SELECT {select}, 0, 0, "
            "-people * (bit_count(CAST(inside AS bit(64))) - 1) "
            f"FROM (SELECT {select}, people, months & CAST(%s AS bigint) AS inside "
            f"FROM {DemandRollupPattern._meta.db_table} WHERE {' AND '.join(masks)}) p "
            f"WHERE inside & (inside - 1) <> 0) cells GROUP BY {select} "
            f"HAVING SUM(purchase_count) <> 0 ORDER BY {_tuple_order(columns)}",
            [*params, period, *mask_params],
        )
        fetched = cursor.fetchall()
    row = row_maker(query.group_by)
    w = len(query.group_by)  # a row maker reads only the group's values from the tuple
    return [row(v, v[w], v[w + 1], v[w + 2]) for v in fetched]


def person_month_figures(*, query: DemandQuery) -> list[dict] | None:
    """``query``'s rows, people included, from the one statement of ``_person_month_figures``
    when it answers (its grouping's dimensions, a ``YEAR_GROUPINGS`` grouping, PostgreSQL,
    one reach window); else None."""
    grouping = grouping_for({*query.group_by, *(name for name, _ in query.filters)})
    if grouping is None:
        return None
    return _person_month_figures(grouping=grouping, query=query)


def row_maker(names: tuple[str, ...]):
    """A function making a figure row from a group's values (the first ``len(names)`` of
    ``k``) and its spend, purchases and people: a dict literal for up to three dimensions
    (an analysts' grid is ~80,000 rows, and ``dict(zip())`` takes half as long again)."""
    if len(names) == 1:
        (a,) = names
        return lambda k, s, n, h: {a: k[0], "spend_pence": s, "purchases": n, "holders": h}
    if len(names) == 2:
        a, b = names
        return lambda k, s, n, h: {
            a: k[0],
            b: k[1],
            "spend_pence": s,
            "purchases": n,
            "holders": h,
        }
    if len(names) == 3:
        a, b, c = names
        return lambda k, s, n, h: {
            a: k[0],
            b: k[1],
            c: k[2],
            "spend_pence": s,
            "purchases": n,
            "holders": h,
        }
    return lambda k, s, n, h: {
        **dict(zip(names, k, strict=False)),  # k may go on past the group's values
        "spend_pence": s,
        "purchases": n,
        "holders": h,
    }


def _figure_rows(sums: list[tuple], names: tuple[str, ...], counts, people: bool) -> list[dict]:
    """Figure rows, in group order, from ``(group values..., spend, purchases, people)``
    tuples (one per group), with people from ``counts`` when given, else from the tuples
    when ``people`` (each group one cell), else None. Groups with no purchases are left out.

    An analysts' grid is tens of thousands of groups: the tuples are sorted as they come
    (the group values decide, as no two groups share them; months sort the same as dates
    and as "2026-03") and each row is built once.
    """
    size = len(names)
    month_at = names.index("month") if "month" in names else None
    rows = []
    append = rows.append
    for row in sorted(sums):
        spend, purchases, holders = row[size:]
        if not purchases:
            continue
        key = row[:size]
        out = dict(zip(names, key, strict=True))
        if month_at is not None:
            out["month"] = _out("month", key[month_at])
        if counts is not None:
            holders = counts.get(key, 0)
        elif not people:
            holders = None
        out["spend_pence"] = int(spend or 0)
        out["purchases"] = int(purchases)
        out["holders"] = None if holders is None else int(holders)
        append(out)
    return rows


def grid_cells(*, start: date, end: date, grid: tuple[str, str]) -> list[tuple]:
    """Every cell of a disclosure grid in these months: ``(month, value, value, spend,
    purchases, people)`` tuples, months as dates (first days), read from the grid's rollup
    (one row a cell, exact people). Plain tuples as the database gives them: a provider grid
    has tens of thousands of cells."""
    grouping = grouping_for(set(grid))
    first, second = (_column(grouping, name) for name in grid)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT month, {first}, {second}, spend_pence, purchase_count, holder_count "  # noqa: S608
            f"FROM {DemandRollup._meta.db_table} WHERE grouping = %s AND month >= %s "
            "AND month <= %s AND purchase_count <> 0",
            [grouping, _db_value("month", start), _db_value("month", end)],
        )
        rows = cursor.fetchall()
    if rows and not isinstance(rows[0][0], date):  # a database that returns dates as text
        months = {month: date.fromisoformat(str(month)[:10]) for month in {r[0] for r in rows}}
        rows = [(months[row[0]], *row[1:]) for row in rows]
    return rows


def _member_holders(cursor, grouping, query, excluded, columns) -> tuple[dict, dict]:
    """Distinct people per group by ``COUNT(DISTINCT)`` over the member rows (SQLite, and
    queries filtered by month), with every cell and with ``excluded`` left out."""
    select = "".join(f"{c}, " for c in columns)
    group = f" GROUP BY {', '.join(columns)}" if columns else ""
    out = []
    for cells in ([], excluded) if excluded else ([],):
        where, params = _where(grouping, query, cells)
        cursor.execute(
            f"SELECT {select}COUNT(*) FROM (SELECT DISTINCT {select}budget_holder_id "  # noqa: S608
            f"FROM {DemandRollupMember._meta.db_table} WHERE {where}) people{group}",
            params,
        )
        out.append({tuple(row[:-1]): row[-1] for row in cursor.fetchall()})
    return out[0], out[-1]


def exact_holders(
    *, query: DemandQuery, excluded: "list[dict] | GridKeys | None" = None
) -> tuple[dict, dict] | None:
    """Distinct people per group, exactly, with every cell and with ``excluded`` left out.

    Keys are the group's values as figure rows show them (months as
    ``2026-03``). None when no rollup grouping splits by the query's
    dimensions. Elasticsearch's figures take their people from here: its
    ``cardinality`` is an estimate, and people counts decide suppression.
    ``excluded`` is a list of cells as rollup fields name them, or a grid's
    cells as ``GridKeys``.
    """
    excluded = excluded or []
    needed = set(query.group_by) | {name for name, _ in query.filters}
    if isinstance(excluded, GridKeys):
        needed |= {"month", *excluded.grid}
    else:
        needed |= set(_excluded_names(excluded))
    grouping = grouping_for(needed)
    if grouping is None:
        return None
    columns = [_column(grouping, name) for name in query.group_by]
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL work_mem = '64MB'")
            cursor.execute("SET LOCAL jit = off")
        if set(GROUPINGS[grouping]) | {"month"} <= set(query.group_by):
            if isinstance(excluded, GridKeys):
                excluded = excluded.as_excluded()
            where, params = _where(grouping, query, [])
            flag, flag_params = _hidden_flag(grouping, excluded)
            select = "".join(f"{c}, " for c in columns)
            cursor.execute(
                f"SELECT {select}holder_count, {flag} FROM {DemandRollup._meta.db_table} "  # noqa: S608
                f"WHERE {where}",
                [*flag_params, *params],
            )
            every, shown = {}, {}
            for row in cursor.fetchall():
                every[tuple(row[:-2])] = row[-2]
                if not row[-1]:
                    shown[tuple(row[:-2])] = row[-2]
            holders = (every, shown)
        else:
            holders = _reach_holders(
                cursor, grouping=grouping, query=query, excluded=excluded, columns=columns
            )
            if holders is None:
                if isinstance(excluded, GridKeys):
                    excluded = excluded.as_excluded()
                holders = _member_holders(cursor, grouping, query, excluded, columns)
    if "month" not in query.group_by:  # keys are already as rows show them
        return tuple(holders)
    return tuple(
        {
            tuple(_out(name, v) for name, v in zip(query.group_by, key, strict=True)): count
            for key, count in counts.items()
        }
        for counts in holders
    )


def _month_index(month: date) -> int:
    return month.year * 12 + month.month - 1


def _windows(query: DemandQuery) -> list[int]:
    """The first years of the reach windows a query reads, each month of it in exactly one.

    One window when the period fits in one (any period of up to 25 months
    does), else windows ``WINDOW_YEARS`` apart, which tile the calendar.
    """
    first = query.start.year - query.start.year % WINDOW_STEP
    return list(range(first, query.end.year + 1, WINDOW_YEARS))


def _window_bits(query: DemandQuery, first_year: int) -> int:
    """The months of ``query`` in the window starting in ``first_year``, as its reach bits."""
    base = first_year * 12
    low = max(_month_index(query.start), base) - base
    high = min(_month_index(query.end), base + WINDOW_YEARS * 12 - 1) - base
    if high < low:
        return 0
    return ((1 << (high + 1)) - 1) & ~((1 << low) - 1)


def _window_of(month: date, windows: list[int]) -> int:
    return next(w for w in windows if w <= month.year < w + WINDOW_YEARS)


def _reach_holders(
    cursor,
    *,
    grouping: str,
    query: DemandQuery,
    excluded: "list[dict] | GridKeys",
    columns: list[str],
) -> tuple[dict[tuple, int], dict[tuple, int]] | None:
    """Distinct people per group from ``DemandRollupReach``, with every cell and with
    ``excluded`` left out; None where it cannot answer (SQLite, month filters).

    Each reach row is one person in one cell for a four-year window, with a
    bit per month they bought in. Their months in the period are the row's
    bits and the period's; their visible months also lose the bits of the
    months in which that cell is excluded. When the query groups by every
    dimension of the grouping, a person is one row per group and window, so
    people are counted straight off the rows (a period inside one window
    needs no per-person step at all); otherwise rows are first folded per
    group and person. By month, bit ``k`` of a row counts its person for
    month ``k`` of the window. Exact.
    """
    if not reach_kept() or any(name == "month" for name, _ in query.filters):
        return None
    windows = _windows(query)
    by_month = "month" in columns
    group = [c for c in columns if c != "month"]
    g_select = "".join(f"{c}, " for c in group)
    # The period's bits of the window a row belongs to.
    if len(windows) == 1:
        period, period_params = "CAST(%s AS bigint)", [_window_bits(query, windows[0])]
    else:
        period = (
            "CASE r.first_year "
            + " ".join("WHEN %s THEN CAST(%s AS bigint)" for _ in windows)
            + " ELSE CAST(0 AS bigint) END"
        )
        period_params = [p for w in windows for p in (w, _window_bits(query, w))]
    hidden: dict[tuple, int] = defaultdict(int)
    join, join_params = "", []
    # Each month's window and bit, worked out once per month rather than per cell.
    month_bits: dict = {}

    def place_of(month) -> tuple:
        place = month_bits.get(month)
        if place is None:
            day = month if isinstance(month, date) else date.fromisoformat(str(month)[:10])
            if query.start <= day <= query.end:
                first_year = _window_of(day, windows)
                place = (first_year, 1 << (_month_index(day) - first_year * 12))
            else:
                place = ()
            month_bits[month] = place
        return place

    if isinstance(excluded, GridKeys):
        # Values already as the rollups store them.
        join_columns = [_column(grouping, name) for name in excluded.grid]
        for month, first, second in excluded.keys:
            place = month_bits.get(month) or place_of(month)
            if place:
                hidden[(first, second, place[0])] |= place[1]
    elif excluded:
        names = [_FIELD_DIMENSION[field] for field in excluded[0] if field != "month"]
        join_columns = [_column(grouping, name) for name in names]
        fields = [DIMENSIONS[name] for name in names]
        stored = [
            (lambda v: "-" if v in (None, "", "-") else str(v))
            if name == "provider"
            else (lambda v: "" if v is None else str(v))
            for name in names
        ]  # _stored, unrolled: a provider grid hides tens of thousands of cells
        # A grid cell names two values besides its month: their key without a generator.
        pair = (*fields, *stored) if len(fields) == 2 else None
        for cell in excluded:
            place = month_bits.get(cell["month"]) or place_of(cell["month"])
            if not place:
                continue
            if pair:
                first, second, write_first, write_second = pair
                key = (write_first(cell[first]), write_second(cell[second]), place[0])
            else:
                key = (*(write(cell[f]) for write, f in zip(stored, fields, strict=True)), place[0])
            hidden[key] |= place[1]
    if hidden and len(windows) == 1 and not by_month:
        holders = _holders_less_wholly_hidden(
            cursor,
            grouping=grouping,
            query=query,
            columns=columns,
            hidden_columns=join_columns,
            hidden=hidden,
        )
        if holders is not None:
            return holders
    if hidden:
        # One array per column (a few parameters, however many cells are hidden).
        arrays = ["CAST(%s AS varchar[])"] * len(join_columns)
        arrays += ["CAST(%s AS smallint[])", "CAST(%s AS bigint[])"]
        aliases = ", ".join([*join_columns, "first_year", "bits"])
        on = " AND ".join(f"h.{c} = r.{c}" for c in [*join_columns, "first_year"])
        join = f" LEFT JOIN unnest({', '.join(arrays)}) AS h ({aliases}) ON {on}"
        join_params = [
            list(column) for column in zip(*(k + (b,) for k, b in hidden.items()), strict=True)
        ]
        visible = f"r.months & {period} & ~COALESCE(h.bits, 0)"
        visible_params = period_params
    else:
        visible, visible_params = "CAST(0 AS bigint)", []
    where = ["r.grouping = %s", f"r.first_year IN ({', '.join(['%s'] * len(windows))})"]
    where_params: list = [grouping, *windows]
    for name, values in query.filters:
        where.append(f"r.{_column(grouping, name)} IN ({', '.join(['%s'] * len(values))})")
        where_params += [_stored(name, value) for value in values]
    one_row_per_person = set(GROUPINGS[grouping]) <= set(query.group_by)
    # One row per person and group: count people by their month patterns, weighted by how
    # many share each, rather than one by one.
    by_pattern = (
        one_row_per_person and grouping in PATTERN_GROUPINGS and (by_month or len(windows) == 1)
    )
    if by_pattern:
        table, person, weight = DemandRollupPattern._meta.db_table, "", "r.people"
    else:
        table, person, weight = DemandRollupReach._meta.db_table, "r.budget_holder_id, ", "1"
    rows = (
        f"SELECT {''.join(f'r.{c}, ' for c in group)}{person}r.first_year, "  # noqa: S608
        f"r.months & {period} AS every, {visible} AS shown, {weight} AS weight "
        f"FROM {table} r{join} WHERE {' AND '.join(where)}"
    )
    rows_params = [*period_params, *visible_params, *join_params, *where_params]
    months = query.month_starts()
    if not by_month:
        if one_row_per_person and len(windows) == 1:
            counts = "SUM(weight), COALESCE(SUM(weight) FILTER (WHERE shown <> 0), 0)"
            source = f"({rows}) reach WHERE every <> 0"
        else:
            counts = "COUNT(*), COUNT(*) FILTER (WHERE shown)"
            source = (
                f"(SELECT {g_select}budget_holder_id, bool_or(shown <> 0) AS shown "  # noqa: S608
                f"FROM ({rows}) reach WHERE every <> 0 GROUP BY {g_select}budget_holder_id) people"
            )
    else:
        if not one_row_per_person:
            rows = (
                f"SELECT {g_select}budget_holder_id, first_year, bit_or(every) AS every, "  # noqa: S608
                f"bit_or(shown) AS shown, 1 AS weight FROM ({rows}) reach WHERE every <> 0 "
                f"GROUP BY {g_select}budget_holder_id, first_year"
            )
        source = f"({rows}) people WHERE every <> 0"
        sums = []
        for measure in ("every", "shown"):
            for m in months:
                first_year = _window_of(m, windows)
                bit = _month_index(m) - first_year * 12
                if len(windows) == 1:
                    sums.append(f"SUM(weight * (({measure} >> {bit}) & 1))")
                else:
                    sums.append(
                        f"SUM(CASE WHEN first_year = {first_year} "
                        f"THEN weight * (({measure} >> {bit}) & 1) ELSE 0 END)"
                    )
        counts = ", ".join(sums)
    group_sql = f" GROUP BY {', '.join(group)}" if group else ""
    cursor.execute(f"SELECT {g_select}{counts} FROM {source}{group_sql}", rows_params)  # noqa: S608
    fetched = cursor.fetchall()
    every: dict[tuple, int] = {}
    shown: dict[tuple, int] = {}
    for row in fetched:
        others = tuple(row[: len(group)])
        values = row[len(group) :]
        if not by_month:
            # SUM over no rows (a total with no purchases) is NULL.
            every[others] = int(values[0] or 0)
            shown[others] = int((values[1] if hidden else values[0]) or 0)
            continue
        month_at = columns.index("month")
        for i, m in enumerate(months):
            key = list(others)
            key.insert(month_at, m)
            key = tuple(key)
            if values[i]:
                every[key] = int(values[i])
            count = values[len(months) + i] if hidden else values[i]
            if count:
                shown[key] = int(count)
    return every, shown


def _holders_less_wholly_hidden(
    cursor,
    *,
    grouping: str,
    query: DemandQuery,
    columns: list[str],
    hidden_columns: list[str],
    hidden: dict[tuple, int],
) -> tuple[dict[tuple, int], dict[tuple, int]] | None:
    """``_reach_holders`` for a query by the other dimension of its category x one dimension
    grid alone (people by provider, with the provider grid's hidden cells), inside one
    reach window, without folding the grid's reach rows per person; None where this path
    does not answer.

    Everyone is counted from the narrower grouping (one row, or pattern, per person and
    group). Of them, a person drops out of the visible count only when every month of the
    period they bought in the group, in any category, is hidden: so all their rows with
    months in the period are in the (category, value) pairs with a hidden cell, and none of
    those rows has a visible month. Those pairs' rows are read by the primary key, pair by
    pair; then each person who is left looked up by the primary key in every category that
    had purchases in the period (a person without such rows elsewhere is wholly hidden).
    The work follows the hidden pairs, not the grid's hundreds of thousands of reach rows.
    ``hidden`` maps ``(category, value, first_year)`` to the hidden months' bits. Exact.
    """
    dims = GROUPINGS[grouping]
    names = {*query.group_by, *(name for name, _ in query.filters)}
    narrower = grouping_for(names)
    if (
        grouping != PERSON_INDEXED_GROUPING
        or len(dims) != 2
        or dims[0] != "category"
        or "category" in names
        or hidden_columns != ["category", _column(grouping, dims[1])]
        or narrower is None
        or set(GROUPINGS[narrower]) != set(query.group_by)
        or GROUPINGS[narrower] != (dims[1],)
    ):
        return None
    (first_year,) = _windows(query)
    every, _ = _reach_holders(
        cursor,
        grouping=narrower,
        query=query,
        excluded=[],
        columns=[_column(narrower, name) for name in query.group_by],
    )
    value = _column(grouping, dims[1])
    period = _window_bits(query, first_year)
    filters, filter_params = [], []
    for name, values in query.filters:
        filters.append(f" AND {_column(grouping, name)} IN ({', '.join(['%s'] * len(values))})")
        filter_params += [_stored(name, v) for v in values]
    pairs = [[], [], []]
    for (category, other, _), bits in hidden.items():
        pairs[0].append(category)
        pairs[1].append(other)
        pairs[2].append(bits)
    reach = DemandRollupReach._meta.db_table
    group = [f"c.{col}" for col in columns]
    cursor.execute(
        "WITH h (category, value, bits) AS (SELECT * FROM unnest("  # noqa: S608
        "CAST(%s AS varchar[]), CAST(%s AS varchar[]), CAST(%s AS bigint[]))), "
        # People with months in the period in a hidden pair, none of them visible there:
        # each pair's rows read by the primary key.
        f"c AS (SELECT r.{value}, r.budget_holder_id FROM h CROSS JOIN LATERAL ("
        f"SELECT {value}, budget_holder_id, months & CAST(%s AS bigint) AS inside FROM {reach} "
        "WHERE grouping = %s AND first_year = %s AND category = h.category "
        f"AND {value} = h.value AND value2 = ''{''.join(filters)} OFFSET 0) r WHERE r.inside <> 0 "
        f"GROUP BY r.{value}, r.budget_holder_id HAVING bool_and(r.inside & ~h.bits = 0)) "
        # ... and none in any other pair: each of them looked up by person.
        f"SELECT {''.join(f'{g}, ' for g in group)}COUNT(*) FILTER (WHERE NOT EXISTS ("
        f"SELECT 1 FROM {reach} o WHERE o.grouping = '{grouping}' AND o.first_year = %s "
        f"AND o.{value} = c.{value} AND o.budget_holder_id = c.budget_holder_id "
        f"AND o.months & CAST(%s AS bigint) <> 0 AND (o.category, o.{value}) NOT IN ("
        "SELECT category, value FROM h))) FROM c"
        + (f" GROUP BY {', '.join(group)}" if group else ""),
        [*pairs, period, grouping, first_year, *filter_params, first_year, period],
    )
    lost = {tuple(row[:-1]): row[-1] for row in cursor.fetchall()}
    return every, {key: count - lost.get(key, 0) for key, count in every.items()}


def purchase_figures(*, query: DemandQuery) -> list[dict]:
    """The same rows straight from purchases: for combinations no rollup grouping holds."""
    purchases = Purchase.objects.filter(
        occurred_on__gte=query.start, occurred_on__lt=add_months(query.end, 1)
    ).annotate(month=TruncMonth("occurred_on"))
    for name, values in query.filters:
        if name == "provider":
            ids = [int(v) for v in values if v not in ("", "-")]
            part = Q(organisation_id__in=ids)
            if any(v in ("", "-") for v in values):
                part |= Q(organisation_id__isnull=True)
            purchases = purchases.filter(part)
        elif name == "month":
            purchases = purchases.filter(month__in=[date.fromisoformat(f"{v}-01") for v in values])
        else:
            purchases = purchases.filter(**{f"{DIMENSIONS[name]}__in": list(values)})
    columns = [DIMENSIONS[name] for name in query.group_by]
    if not columns:
        total = purchases.aggregate(
            spend_pence=Sum("amount_pence"),
            purchases=Count("pk"),
            holders=Count("budget_holder_id", distinct=True),
        )
        return [total] if total["purchases"] else []
    figures = (
        purchases.values(*columns)
        .annotate(
            spend_pence=Sum("amount_pence"),
            purchases=Count("pk"),
            holders=Count("budget_holder_id", distinct=True),
        )
        .order_by()
    )
    rows = []
    for row in figures:
        if not row["purchases"]:
            continue
        out = {}
        for name, column in zip(query.group_by, columns, strict=True):
            value = row[column]
            if name == "month":
                value = value.isoformat()[:7]
            elif name == "provider":
                value = _stored("provider", value)
            out[name] = value
        out.update(
            spend_pence=row["spend_pence"], purchases=row["purchases"], holders=row["holders"]
        )
        rows.append(out)
    return sorted(rows, key=lambda r: row_key(r, query.group_by))


def demand_backend() -> str:
    return "elasticsearch" if settings.ELASTICSEARCH_URL else "rollups"


def demand_figures(*, query: DemandQuery, excluded: list[dict] | None = None) -> list[dict]:
    """The figures for ``query`` from Elasticsearch when configured, else from the rollups."""
    if settings.ELASTICSEARCH_URL:
        from .elasticsearch import es_figures

        return es_figures(query=query, excluded=excluded)
    return rollup_figures(query=query, excluded=excluded)


def demand_spend(*, query: DemandQuery) -> list[dict]:
    """Spend and purchases per group without counting people (``holders`` is None), for
    figures built on spend alone such as market concentration; analysts only."""
    if settings.ELASTICSEARCH_URL:
        from .elasticsearch import es_figures

        return es_figures(query=query, people=False)
    return rollup_figures(query=query, people=False)


def demand_concentration(*, query: DemandQuery, market_dims: tuple[str, ...]) -> list[dict] | None:
    """Market concentration for analysts, gathered per market where the backend can (the
    rollups in PostgreSQL, the cells index in Elasticsearch); None where it cannot, and the
    caller works it out from ``demand_spend``'s rows."""
    by_provider = query.with_changes(group_by=(*market_dims, "provider"))
    if settings.ELASTICSEARCH_URL:
        from .elasticsearch import es_concentration

        return es_concentration(query=query, market_dims=market_dims)
    return rollup_concentration(query=by_provider, market_dims=market_dims)


def demand_totals(*, query: DemandQuery) -> dict:
    rows = demand_figures(query=query.with_changes(group_by=()))
    return rows[0] if rows else {"spend_pence": 0, "purchases": 0, "holders": 0}


def percent_change(now: int | None, before: int | None) -> float | None:
    """Change as a percentage, or None when there is nothing to compare with."""
    if now is None or before in (None, 0):
        return None
    return round((now - before) * 100 / before, 1)


def demand_with_changes(*, rows: list[dict], previous: list[dict], last_year: list[dict], group_by):
    """Add ``change_previous`` and ``change_last_year`` (percent of spend) to each row."""
    before = {row_key(r, group_by): r for r in previous}
    year = {row_key(r, group_by): r for r in last_year}
    for row in rows:
        key = row_key(row, group_by)
        row["change_previous"] = percent_change(
            row.get("spend_pence"), before.get(key, {}).get("spend_pence")
        )
        row["change_last_year"] = percent_change(
            row.get("spend_pence"), year.get(key, {}).get("spend_pence")
        )
    return rows


# ---------------------------------------------------------------------------
# Labels


def dimension_label(name: str, value: str) -> str:
    """The words for a dimension value: 'Home care', 'N3', 'Carers Ltd', 'March 2026'."""
    if name == "category":
        return dict(ServiceCategory.choices).get(value, value)
    if name == "care_group":
        return dict(CareGroup.choices).get(value, value)
    if name == "sector":
        return dict(Sector.choices).get(value, value) or "Not known"
    if name == "channel":
        return dict(Channel.choices).get(value, value)
    if name == "month":
        return date.fromisoformat(f"{value}-01").strftime("%B %Y")
    if name == "provider":
        if value in ("-", "", None):
            return "Not matched to a provider"
        return _organisation_names().get(int(value), f"Provider {value}")
    return value


def _organisation_names() -> dict[int, str]:
    return dict(Organisation.objects.values_list("pk", "name"))


def label_rows(rows: list[dict], group_by) -> list[dict]:
    names = _organisation_names() if "provider" in group_by else {}
    for row in rows:
        labels = []
        for name in group_by:
            value = row[name]
            if name == "provider" and value not in ("-", "", None):
                labels.append(names.get(int(value), f"Provider {value}"))
            else:
                labels.append(dimension_label(name, value))
        row["label"] = ", ".join(labels) if labels else "All"
    return rows


def dimension_choices(name: str) -> list[tuple[str, str]]:
    """The values a filter can take, for the dashboard's select boxes."""
    if name == "category":
        return list(ServiceCategory.choices)
    if name == "care_group":
        return list(CareGroup.choices)
    if name == "sector":
        return list(Sector.choices)
    if name == "channel":
        return list(Channel.choices)
    if name == "locality":
        districts = (
            DemandRollup.objects.filter(grouping="category_locality")
            .values_list("value", flat=True)
            .distinct()
        )
        return [(d, d) for d in sorted(set(districts))]
    if name == "provider":
        values = (
            DemandRollup.objects.filter(grouping="category_provider")
            .exclude(value="-")
            .values_list("value", flat=True)
            .distinct()
        )
        ids = {int(v) for v in values}
        return [
            (str(pk), name)
            for pk, name in Organisation.objects.filter(pk__in=ids).values_list("pk", "name")
        ]
    return []


# ---------------------------------------------------------------------------
# Market shape


DOMINANCE_SHARE = 0.5


def market_concentration(*, rows: list[dict], market_dims: tuple[str, ...]) -> list[dict]:
    """Top-3 share, HHI and the largest provider per market, from provider-level rows.

    ``rows`` are figures grouped by ``market_dims + ("provider",)``. The
    Herfindahl–Hirschman index is the sum of squared percentage shares
    (10,000 is one provider taking everything; above 2,500 is "highly
    concentrated" in the competition authorities' terms). A market is flagged
    when one provider takes more than ``DEMAND_DOMINANCE_SHARE`` (default 50%).
    """
    markets: dict[tuple, tuple[list[int], list[str]]] = {}
    for row in rows:
        if row.get("provider") in ("-", "", None) or row["spend_pence"] <= 0:
            continue
        spends, providers = markets.setdefault(row_key(row, market_dims), ([], []))
        spends.append(row["spend_pence"])
        providers.append(row["provider"])
    return market_shares(markets=markets, market_dims=market_dims)


def market_shares(
    *, markets: dict[tuple, tuple[list[int], list[str]]], market_dims: tuple[str, ...]
) -> list[dict]:
    """``market_concentration``'s markets from each market's providers' spend and the
    providers, in provider order (the first of equal largest is the largest)."""
    threshold = getattr(settings, "DEMAND_DOMINANCE_SHARE", DOMINANCE_SHARE)
    names = _organisation_names()
    out = []
    for key, (spends, providers) in markets.items():
        largest = providers[spends.index(max(spends))]
        out.append(
            _market(dict(zip(market_dims, key, strict=True)), spends, largest, names, threshold)
        )
    out.sort(key=lambda m: (-m["largest_share"], -m["spend_pence"]))
    return out


def _market(market: dict, spends: list[int], largest: str, names: dict, threshold) -> dict:
    """One market's concentration figures from its providers' spend (any order)."""
    total = sum(spends)
    shares = sorted((spend / total for spend in spends), reverse=True)
    market.update(
        spend_pence=total,
        providers=len(spends),
        top3_share=round(sum(shares[:3]) * 100, 1),
        hhi=round(sum((s * 100) ** 2 for s in shares)),
        largest_provider=names.get(int(largest), ""),
        largest_share=round(shares[0] * 100, 1),
        alert=shares[0] > threshold,
    )
    return market


def rollup_concentration(*, query: DemandQuery, market_dims: tuple[str, ...]) -> list[dict] | None:
    """``market_concentration`` of ``query``'s spend by ``market_dims`` and provider, with the
    providers' spend summed and gathered per market in PostgreSQL.

    The same figures as ``market_concentration(rows=rollup_figures(..., people=False))``,
    but an analysts' market grid is tens of thousands of provider rows: here only one row
    per market (its providers' spend, largest first) reaches Python. None where this path
    does not answer (SQLite, or no rollup grouping splits by the dimensions).
    """
    needed = {*market_dims, "provider", *(name for name, _ in query.filters)}
    grouping = grouping_for(needed)
    if connection.vendor != "postgresql" or grouping is None or "month" in needed:
        return None
    source, where, params = _cells_source(grouping, query)
    market = [_column(grouping, name) for name in market_dims]
    provider = _column(grouping, "provider")
    select = "".join(f"{c}, " for c in market)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute("SET LOCAL jit = off")
        # A provider counts in a market when it had purchases there and positive spend
        # (``market_concentration`` leaves out the rest). Equal spends come in provider order
        # (byte order, as Python compares text), so the first of equal largest is named, as
        # there.
        order = 'spend DESC, provider COLLATE "C"'
        cursor.execute(
            f"SELECT {select}array_agg(spend ORDER BY {order}), "  # noqa: S608
            f"array_agg(provider ORDER BY {order}) FROM (SELECT {select}{provider} AS provider, "
            f"SUM(spend_pence) AS spend FROM {source} WHERE {where} "
            f"AND {provider} <> '-' GROUP BY {select}{provider} "
            "HAVING SUM(purchase_count) <> 0 AND SUM(spend_pence) > 0) providers "
            f"GROUP BY {', '.join(market) if market else '()'}",
            params,
        )
        markets = cursor.fetchall()
    markets.sort(key=lambda row: row[: len(market)])  # market_concentration's order for ties
    width = len(market)
    return market_shares(
        markets={
            tuple(row[:width]): ([int(spend) for spend in row[width]], row[width + 1])
            for row in markets
        },
        market_dims=market_dims,
    )


def block_contract_trends(*, end: date, months: int = 3) -> list[dict]:
    """For each live block contract: the provider's share of its category's spend, now and before.

    Compares the last ``months`` months up to ``end`` with the same length
    before; a falling share means people with budgets are choosing elsewhere,
    and the block contract may be paying for capacity they do not use.
    """
    recent = DemandQuery(
        start=add_months(end, -(months - 1)), end=end, group_by=("category", "provider")
    )
    earlier = recent.shifted(-months)
    out = []
    contracts = BlockContract.objects.filter(ends_on__gte=earlier.start, starts_on__lte=end)
    figures_now = demand_figures(query=recent)
    figures_before = demand_figures(query=earlier)
    for contract in contracts.select_related("organisation"):
        shares = []
        for figures in (figures_before, figures_now):
            in_category = [r for r in figures if r["category"] == contract.category]
            total = sum(r["spend_pence"] for r in in_category)
            theirs = sum(
                r["spend_pence"]
                for r in in_category
                if r["provider"] == str(contract.organisation_id)
            )
            shares.append((theirs, round(theirs * 100 / total, 1) if total else None))
        (before_spend, before_share), (now_spend, now_share) = shares
        out.append(
            {
                "contract": contract,
                "spend_before_pence": before_spend,
                "spend_now_pence": now_spend,
                "share_before": before_share,
                "share_now": now_share,
                "moving_away": (
                    before_share is not None and now_share is not None and now_share < before_share
                ),
            }
        )
    return out


# ---------------------------------------------------------------------------
# Prices


def _quartiles(values: list[int]) -> dict | None:
    if not values:
        return None
    values = sorted(values)
    if len(values) == 1:
        q1 = median = q3 = values[0]
    else:
        q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return {
        "count": len(values),
        "lowest": values[0],
        "q1": round(q1),
        "median": round(median),
        "q3": round(q3),
        "highest": values[-1],
    }


def price_spread(*, query: DemandQuery) -> list[dict]:
    """Per category: what was paid, what providers list, and the council's fair cost rate.

    What was paid is the amount of each purchase (a card transaction or a
    marketplace payment): purchases carry no unit count, so this is the price
    per purchase, not per hour. Listed prices are providers' published cost
    options per unit; the fair cost rate is the latest rate the council has
    entered per unit. Refunds are left out of the paid spread.
    """
    paid = Purchase.objects.filter(
        occurred_on__gte=query.start,
        occurred_on__lt=add_months(query.end, 1),
        amount_pence__gt=0,
    )
    for name, values in query.filters:
        if name == "provider":
            paid = paid.filter(organisation_id__in=[int(v) for v in values if v.isdigit()])
        elif name != "month":
            paid = paid.filter(**{f"{DIMENSIONS[name]}__in": list(values)})
    amounts: dict[str, list[int]] = defaultdict(list)
    for category, amount in paid.values_list("category", "amount_pence").iterator(chunk_size=5000):
        amounts[category].append(amount)
    listed = _listed_prices()
    fair: dict[tuple[str, str], int] = {}
    for rate in FairCostRate.objects.filter(valid_from__lte=timezone.localdate()).order_by(
        "valid_from"
    ):
        fair[(rate.category, rate.unit)] = rate.rate_pence
    out = []
    for category, label in ServiceCategory.choices:
        units = sorted(
            {unit for (c, unit) in listed if c == category}
            | {u for (c, u) in fair if c == category}
        )
        per_unit = [
            {
                "unit": unit,
                "unit_label": _unit_label(unit),
                "listed": _quartiles(listed.get((category, unit), [])),
                "fair_cost_pence": fair.get((category, unit)),
            }
            for unit in units
        ]
        spread = _quartiles(amounts.get(category, []))
        if spread is None and not per_unit:
            continue
        out.append({"category": category, "label": label, "paid": spread, "units": per_unit})
    return out


def _unit_label(unit: str) -> str:
    from .models import Unit

    return dict(Unit.choices).get(unit, unit)


def _listed_prices() -> dict[tuple[str, str], list[int]]:
    """Providers' published prices by (category, unit)."""
    try:
        from marketplace.providers.models import CostOption
    except ImportError:  # the directory's price model is not installed
        return {}
    prices: dict[tuple[str, str], list[int]] = defaultdict(list)
    rows = CostOption.objects.filter(service__live=True).values_list(
        "service__category", "unit", "amount_pence"
    )
    for category, unit, amount in rows:
        prices[(category, unit)].append(amount)
    return prices


# ---------------------------------------------------------------------------
# Gaps


def unmet_demand(*, start: date, end: date, limit: int = 20) -> list[dict]:
    """Searches that found nothing, by category and postcode district, most frequent first."""
    from search.models import SearchLog

    rows = (
        SearchLog.objects.filter(
            result_count=0, at__date__gte=start, at__date__lt=add_months(end, 1)
        )
        .values("category", "postcode_district")
        .annotate(searches=Count("pk"))
        .order_by("-searches", "category", "postcode_district")[:limit]
    )
    return [
        {
            **row,
            "category_label": dict(ServiceCategory.choices).get(row["category"], "Any category"),
        }
        for row in rows
    ]


def thin_supply(*, minimum: int | None = None) -> list[dict]:
    """Category and district pairs where people live but fewer than ``minimum`` live services serve.

    A service serves a district when it lists the district as an area it
    covers or has a location there. Districts are those where budget holders
    have bought anything, so empty farmland does not fill the list.
    """
    from marketplace.providers.models import Service

    minimum = minimum or getattr(settings, "DEMAND_MINIMUM_PROVIDERS", 3)
    districts = sorted(
        set(
            DemandRollup.objects.filter(grouping="category_locality").values_list(
                "value", flat=True
            )
        )
    )
    served: dict[tuple[str, str], set[int]] = defaultdict(set)
    live = Service.objects.published()
    for category, district, pk in live.values_list("category", "areas__postcode_district", "pk"):
        if district:
            served[(category, district)].add(pk)
    for category, district, pk in live.values_list(
        "category", "locations__postcode_district", "pk"
    ):
        if district:
            served[(category, district)].add(pk)
    out = []
    for category, label in ServiceCategory.choices:
        if category == ServiceCategory.OTHER:
            continue
        for district in districts:
            count = len(served.get((category, district), ()))
            if count < minimum:
                out.append(
                    {"category": category, "label": label, "district": district, "services": count}
                )
    return out


def unspent_budgets(*, weeks: int | None = None, on: date | None = None) -> dict:
    """Budgets holding more than ``weeks`` weeks of funding unspent, from the budget ledger.

    The surplus of a budget is its holder-funds balance above ``weeks`` times
    its weekly funding; the default is 8 weeks (DEMAND_UNSPENT_WEEKS).
    Returns per-care-group counts and surplus, for disclosure control to round.
    """
    from marketplace.budgets.models import (
        Account,
        AccountKind,
        BudgetStatus,
    )

    weeks = weeks or getattr(settings, "DEMAND_UNSPENT_WEEKS", 8)
    on = on or timezone.localdate()
    accounts = Account.objects.filter(
        kind=AccountKind.HOLDER_FUNDS,
        budget__status=BudgetStatus.ACTIVE,
        budget__starts_on__lte=on,
        budget__ends_on__gte=on,
    ).values_list(
        "budget__care_group",
        "budget__budget_holder_id",
        "balance_pence",
        "budget__annual_amount_pence",
    )
    groups: dict[str, dict] = {}
    for care_group, holder_id, balance, annual in accounts:
        limit = annual // 52 * weeks
        if balance <= limit:
            continue
        group = groups.setdefault(
            care_group, {"holders": set(), "surplus_pence": 0, "balance_pence": 0}
        )
        group["holders"].add(holder_id)
        group["surplus_pence"] += balance - limit
        group["balance_pence"] += balance
    rows = [
        {
            "care_group": care_group,
            "label": dict(CareGroup.choices).get(care_group, care_group),
            "holders": len(group["holders"]),
            "surplus_pence": group["surplus_pence"],
            "balance_pence": group["balance_pence"],
        }
        for care_group, group in sorted(groups.items())
    ]
    return {"weeks": weeks, "rows": rows}


def direct_payment_take_up(*, on: date | None = None) -> list[dict]:
    """ASCOF 3D-style take-up per care group, and overall.

    Denominator: people with an active personal budget on ``on`` (everyone
    in long-term community support who has one; the platform does not hold
    people supported without a personal budget, so self-directed support is
    100% of its own denominator and we say so). Numerator for direct
    payments: those whose budget is taken wholly or partly as a direct
    payment (``direct_payment`` or ``mixed``), as ASCOF 3D counts part
    direct payments.
    """
    from marketplace.budgets.models import BudgetStatus, Deployment, PersonalBudget

    on = on or timezone.localdate()
    budgets = PersonalBudget.objects.filter(
        status=BudgetStatus.ACTIVE, starts_on__lte=on, ends_on__gte=on
    )
    by_group: dict[str, dict[str, set]] = defaultdict(lambda: {"all": set(), "direct": set()})
    for care_group, holder_id, deployment in budgets.values_list(
        "care_group", "budget_holder_id", "deployment"
    ):
        by_group[care_group]["all"].add(holder_id)
        if deployment in (Deployment.DIRECT_PAYMENT, Deployment.MIXED):
            by_group[care_group]["direct"].add(holder_id)
    rows = []
    everyone, direct = set(), set()
    for care_group, label in CareGroup.choices:
        group = by_group.get(care_group)
        if not group:
            continue
        everyone |= group["all"]
        direct |= group["direct"]
        rows.append(
            {
                "care_group": care_group,
                "label": label,
                "people": len(group["all"]),
                "direct": len(group["direct"]),
            }
        )
    if everyone:
        rows.append(
            {
                "care_group": "",
                "label": "All care groups",
                "people": len(everyone),
                "direct": len(direct),
            }
        )
    return rows


def default_period(today: date | None = None) -> tuple[date, date]:
    """The last twelve complete months."""
    today = today or timezone.localdate()
    end = add_months(month_start(today), -1)
    return add_months(end, -11), end


def latest_month_with_data() -> date | None:
    month = (
        DemandRollup.objects.filter(grouping="total")
        .order_by("-month")
        .values_list("month", flat=True)
        .first()
    )
    return month


def days_in(month: date) -> int:
    return (add_months(month, 1) - timedelta(days=1)).day
