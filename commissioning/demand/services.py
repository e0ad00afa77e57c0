"""Keeping the demand rollups in step with purchases.

Every write is set-based SQL that runs the same on PostgreSQL and SQLite:
``INSERT ... ON CONFLICT DO UPDATE`` adds to a cell (or a member) atomically,
so concurrent writers queue on the row instead of losing an update, and a
rebuild is one ``INSERT ... SELECT ... GROUP BY`` per grouping. The SQL text
is built only from our own table, column and grouping names; every value is
a query parameter (hence the ``noqa: S608``).
"""

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from django.conf import settings
from django.db import connection, transaction

from config.tasks import enqueue_on_commit
from marketplace.payments.models import Purchase

from .models import (
    CELL_COLUMNS,
    GROUPINGS,
    YEAR_GROUPINGS,
    DemandRollup,
    DemandRollupMember,
    DemandRollupYear,
)

logger = logging.getLogger(__name__)

ROLLUP_TABLE = DemandRollup._meta.db_table
MEMBER_TABLE = DemandRollupMember._meta.db_table
YEAR_TABLE = DemandRollupYear._meta.db_table
YEAR_COLUMNS = ("grouping", "year", "category", "value", "value2")
_YEARS_IN = "grouping IN (" + ", ".join(f"'{name}'" for name in YEAR_GROUPINGS) + ")"
PURCHASE_TABLE = Purchase._meta.db_table
_BATCH = 500

# Public dimension -> how a purchase gives its value, in Python and in SQL.
_PURCHASE_VALUE = {
    "locality": lambda p: p.postcode_district,
    "care_group": lambda p: p.care_group,
    "sector": lambda p: p.sector or "",
    "channel": lambda p: p.channel,
    "provider": lambda p: str(p.organisation_id) if p.organisation_id is not None else "-",
}
_SQL_VALUE = {
    "locality": "postcode_district",
    "care_group": "care_group",
    "sector": "COALESCE(sector, '')",
    "channel": "channel",
    "provider": "COALESCE(CAST(organisation_id AS VARCHAR(20)), '-')",
}


def grouping_cell(grouping: str, purchase: Purchase) -> tuple:
    """The ``(grouping, month, category, value, value2)`` key of a purchase's cell in a grouping."""
    dims = GROUPINGS[grouping]
    others = [_PURCHASE_VALUE[name](purchase) for name in dims if name != "category"]
    others += [""] * (2 - len(others))
    return (
        grouping,
        purchase.occurred_on.replace(day=1),
        purchase.category if "category" in dims else "",
        *others,
    )


def _db_date(value: date, conn=None):
    """Dates as parameters: typed on PostgreSQL (VALUES lists need it), ISO text on SQLite."""
    conn = conn or connection
    return value if conn.vendor == "postgresql" else value.isoformat()


def _params(key: tuple, conn=None) -> list:
    return [key[0], _db_date(key[1], conn), *key[2:]]


def _row_values(count: int, width: int) -> str:
    row = "(" + ", ".join(["%s"] * width) + ")"
    return ", ".join([row] * count)


def _batches(items: list, size: int = _BATCH):
    for start in range(0, len(items), size):
        yield items[start : start + size]


@transaction.atomic
def demand_rollups_apply(*, purchases: Iterable[Purchase], sign: int) -> int:
    """Add (``sign=1``) or take away (``sign=-1``) purchases; returns the cells touched.

    Guarantees: runs inside the caller's transaction, so the rollups change
    if and only if the purchases do; each cell is changed with an atomic
    upsert in a fixed order, so concurrent writers to the same cell queue
    rather than lose an update (and cannot deadlock on each other); distinct
    budget holders stay exact because a member row appears with a person's
    first purchase in a cell and goes with their last, and each touched
    cell's holder count is recounted from its members after its row is
    locked. Cells left with no purchases are deleted. To reclassify a
    purchase, call with ``sign=-1`` while it still has its old values, then
    change it, then call with ``sign=1``. Elasticsearch (when configured) is
    updated after commit.
    """
    if sign not in (1, -1):
        raise ValueError("sign must be 1 or -1")
    purchases = list(purchases)
    if not purchases:
        return 0
    if len(purchases) >= _SET_BASED_FROM:
        return _apply_staged(purchases, sign)
    cells: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    members: dict[tuple, int] = defaultdict(int)
    for purchase in purchases:
        for grouping in GROUPINGS:
            key = grouping_cell(grouping, purchase)
            cell = cells[key]
            cell[0] += sign * purchase.amount_pence
            cell[1] += sign
            members[(*key, purchase.budget_holder_id)] += sign
    cell_keys = sorted(cells, key=lambda k: (k[0], k[1].isoformat(), *k[2:]))
    member_keys = sorted(
        (k for k, change in members.items() if change),
        key=lambda k: (k[0], k[1].isoformat(), *k[2:]),
    )
    columns = ", ".join(CELL_COLUMNS)
    with connection.cursor() as cursor:
        for batch in _batches(cell_keys):
            params = []
            for key in batch:
                params += [*_params(key), *cells[key], 0]
            cursor.execute(
                f"INSERT INTO {ROLLUP_TABLE} ({columns}, spend_pence, purchase_count, holder_count) "  # noqa: S608
                f"VALUES {_row_values(len(batch), 8)} "
                f"ON CONFLICT ({columns}) DO UPDATE SET "
                f"spend_pence = {ROLLUP_TABLE}.spend_pence + excluded.spend_pence, "
                f"purchase_count = {ROLLUP_TABLE}.purchase_count + excluded.purchase_count",
                params,
            )
        _years_apply(cursor, cells, sign)
        for batch in _batches(member_keys):
            params = []
            for key in batch:
                params += [*_params(key[:5]), key[5], members[key]]
            cursor.execute(
                f"INSERT INTO {MEMBER_TABLE} ({columns}, budget_holder_id, purchase_count) "  # noqa: S608
                f"VALUES {_row_values(len(batch), 7)} "
                f"ON CONFLICT ({columns}, budget_holder_id) DO UPDATE SET "
                f"purchase_count = {MEMBER_TABLE}.purchase_count + excluded.purchase_count",
                params,
            )
        if sign < 0:
            for batch in _batches(member_keys):
                params = [p for key in batch for p in (*_params(key[:5]), key[5])]
                cursor.execute(
                    f"DELETE FROM {MEMBER_TABLE} WHERE purchase_count <= 0 AND "  # noqa: S608
                    f"({columns}, budget_holder_id) IN (VALUES {_row_values(len(batch), 6)})",
                    params,
                )
        for batch in _batches(cell_keys):
            params = [p for key in batch for p in _params(key)]
            cursor.execute(
                f"UPDATE {ROLLUP_TABLE} SET holder_count = ("  # noqa: S608
                f"SELECT COUNT(*) FROM {MEMBER_TABLE} m WHERE "
                + " AND ".join(f"m.{c} = {ROLLUP_TABLE}.{c}" for c in CELL_COLUMNS)
                + f") WHERE ({columns}) IN (VALUES {_row_values(len(batch), 5)})",
                params,
            )
            if sign < 0:
                cursor.execute(
                    f"DELETE FROM {ROLLUP_TABLE} WHERE purchase_count <= 0 AND "  # noqa: S608
                    f"({columns}) IN (VALUES {_row_values(len(batch), 5)})",
                    params,
                )
        _year_holders_recount(
            cursor, sorted({(k[0], k[1].year, *k[2:]) for k in cells if k[0] in YEAR_GROUPINGS})
        )
    if settings.ELASTICSEARCH_URL:
        from .tasks import purchases_index

        enqueue_on_commit(purchases_index, purchase_ids=[p.pk for p in purchases])
    return len(cells)


def _years_apply(cursor, cells: dict[tuple, list[int]], sign: int) -> None:
    """Add the changes to ``cells`` (of any grouping) to their ``YEAR_GROUPINGS`` year rows,
    in key order, and on ``sign=-1`` delete year rows left with no purchases."""
    years: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for key, (spend, count) in cells.items():
        if key[0] in YEAR_GROUPINGS:
            year = years[(key[0], key[1].year, *key[2:])]
            year[0] += spend
            year[1] += count
    keys = sorted(years)
    columns = ", ".join(YEAR_COLUMNS)
    for batch in _batches(keys):
        cursor.execute(
            f"INSERT INTO {YEAR_TABLE} ({columns}, spend_pence, purchase_count) "  # noqa: S608
            f"VALUES {_row_values(len(batch), 7)} ON CONFLICT ({columns}) DO UPDATE SET "
            f"spend_pence = {YEAR_TABLE}.spend_pence + excluded.spend_pence, "
            f"purchase_count = {YEAR_TABLE}.purchase_count + excluded.purchase_count",
            [p for key in batch for p in (*key, *years[key])],
        )
        if sign < 0:
            cursor.execute(
                f"DELETE FROM {YEAR_TABLE} WHERE purchase_count <= 0 AND "  # noqa: S608
                f"({columns}) IN (VALUES {_row_values(len(batch), 5)})",
                [p for key in batch for p in key],
            )


def _year_holders_recount(cursor, keys: list[tuple]) -> None:
    """Set the ``holder_months`` of these year rows (``YEAR_COLUMNS`` keys) to their months'
    holder counts summed, read after the months' counts are current (one statement a row:
    the few cells of a single purchase or a small batch, on PostgreSQL or SQLite)."""
    cell = ("category", "value", "value2")
    if not keys:
        return
    cursor.executemany(
        f"UPDATE {YEAR_TABLE} SET holder_months = (SELECT COALESCE(SUM(m.holder_count), 0) "  # noqa: S608
        f"FROM {ROLLUP_TABLE} m WHERE m.grouping = %s AND m.month >= %s AND m.month <= %s AND "
        + " AND ".join(f"m.{c} = %s" for c in cell)
        + ") WHERE "
        + " AND ".join(f"{c} = %s" for c in YEAR_COLUMNS),
        [
            (
                key[0],
                _db_date(date(key[1], 1, 1)),
                _db_date(date(key[1], 12, 1)),
                *key[2:],
                *key,
            )
            for key in keys
        ],
    )


# From this many purchases, ``demand_rollups_apply`` stages them in a temporary table and
# applies them with a handful of set-based statements instead of one VALUES row per cell.
_SET_BASED_FROM = 200
_STAGED_TABLE = "demand_staged_purchases"
_DELTA_TABLE = "demand_staged_delta"
# work_mem while a batch is applied (PostgreSQL, restored afterwards). The purchases come from
# staging tables without statistics, so the planner guesses ~90,000 alike groups for 100,000
# lines (there are ~2,000) and, at the default 4 MB, sorts them on disk (~0.2 s of the import's
# ~0.8 s of rollups); with room to hash it aggregates them in memory. The member upsert's sort
# and the reach trigger's fold (a day of 7,000 purchases new to their cells: ~70,000 members,
# ~110,000 reach rows) spilled to disk the same way. Only the plans change.
_DELTA_WORK_MEM = "64MB"
# The purchase columns the rollups read, and their types in a staging table.
_PURCHASE_COLUMNS = {
    "id": "bigint",
    "budget_holder_id": "bigint",
    "organisation_id": "bigint",
    "category": "varchar(32)",
    "amount_pence": "bigint",
    "occurred_on": "date",
    "channel": "varchar(20)",
    "care_group": "varchar(32)",
    "postcode_district": "varchar(5)",
    "sector": "varchar(20)",
}


def _apply_staged(purchases: list[Purchase], sign: int) -> int:
    """``demand_rollups_apply`` for many purchases: their values (as the caller holds them, saved
    or not) go into a temporary table, then ``demand_rollups_apply_sql`` does the rest."""
    columns = list(_PURCHASE_COLUMNS)
    rows = [
        (
            p.pk,
            p.budget_holder_id,
            p.organisation_id,
            p.category,
            p.amount_pence,
            p.occurred_on,
            p.channel,
            p.care_group,
            p.postcode_district,
            p.sector or "",
        )
        for p in purchases
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_STAGED_TABLE}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_STAGED_TABLE} ("
            + ", ".join(f"{name} {kind}" for name, kind in _PURCHASE_COLUMNS.items())
            + ")"
        )
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(
                f"COPY {_STAGED_TABLE} ({', '.join(columns)}) FROM STDIN"
            ) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(
                f"INSERT INTO {_STAGED_TABLE} ({', '.join(columns)}) "  # noqa: S608
                f"VALUES ({', '.join(['%s'] * len(columns))})",
                [(*row[:5], _db_date(row[5]), *row[6:]) for row in rows],
            )
    try:
        return demand_rollups_apply_sql(
            purchases_sql=f"SELECT * FROM {_STAGED_TABLE}",  # noqa: S608
            sign=sign,
        )
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {_STAGED_TABLE}")


def _cell_select(grouping: str) -> str:
    """A grouping's cell columns, named, over rows of ``_PURCHASE_SHAPE`` (``month`` already
    the first day of the month)."""
    dims = GROUPINGS[grouping]
    others = [_SQL_VALUE[name] for name in dims if name != "category"]
    others += ["''"] * (2 - len(others))
    category = "category" if "category" in dims else "''"
    return (
        f"CAST('{grouping}' AS VARCHAR(32)) AS grouping, month, "
        f"CAST({category} AS VARCHAR(32)) AS category, CAST({others[0]} AS VARCHAR(32)) AS value, "
        f"CAST({others[1]} AS VARCHAR(32)) AS value2"
    )


# What a purchase contributes to any cell: the columns every grouping is keyed by.
_PURCHASE_SHAPE = (
    "postcode_district, care_group, sector, channel, organisation_id, category, budget_holder_id"
)


@transaction.atomic
def demand_rollups_apply_sql(*, purchases_sql: str, params: Iterable = (), sign: int = 1) -> int:
    """``demand_rollups_apply`` for the purchases a query returns, without reading them into Python.

    ``purchases_sql`` is a SELECT whose rows have the purchase table's columns
    (at least those in ``_PURCHASE_COLUMNS``), e.g. the purchases an import
    has just inserted. The same guarantees as ``demand_rollups_apply``: in
    the caller's transaction; each cell changed by one upsert, in key order;
    members added (or taken away) with their purchase counts; each touched
    cell's holder count changed by the members the batch added and removed
    (on PostgreSQL, as the member upsert and delete report them; elsewhere
    recounted from its members); empty cells and members
    deleted on ``sign=-1``; Elasticsearch updated after commit. Returns the
    cells touched.
    """
    if sign not in (1, -1):
        raise ValueError("sign must be 1 or -1")
    params = list(params)
    columns = ", ".join(CELL_COLUMNS)
    # Purchases alike in every dimension are summed first (a person buying from one merchant
    # all month is one row), then each such row is spread over the groupings' cells.
    alike = (
        f"SELECT {_month_sql(connection)} AS month, {_PURCHASE_SHAPE}, "  # noqa: S608
        "SUM(amount_pence) AS amount_pence, COUNT(*) AS purchase_count "
        f"FROM purchases GROUP BY {_month_sql(connection)}, {_PURCHASE_SHAPE}"
    )
    per_grouping = " UNION ALL ".join(
        f"SELECT {_cell_select(grouping)}, budget_holder_id, amount_pence, purchase_count "  # noqa: S608
        "FROM alike"
        for grouping in GROUPINGS
    )
    cell_match = " AND ".join(f"m.{c} = {ROLLUP_TABLE}.{c}" for c in CELL_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_DELTA_TABLE}")
        work_mem = None
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT current_setting('work_mem'), set_config('work_mem', %s, true)",
                [_DELTA_WORK_MEM],
            )
            work_mem = cursor.fetchone()[0]
        # Each (cell, person) once: what this batch adds to the cell and to the member.
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_DELTA_TABLE} AS "  # noqa: S608
            f"WITH purchases AS ({purchases_sql}), alike AS ({alike}) "
            f"SELECT {columns}, budget_holder_id, SUM(amount_pence) AS spend_pence, "
            f"SUM(purchase_count) AS purchase_count FROM ({per_grouping}) cells "
            f"GROUP BY {columns}, budget_holder_id",
            params,
        )
        # WHERE 1 = 1: SQLite needs a WHERE before ON CONFLICT in INSERT ... SELECT.
        cursor.execute(
            f"INSERT INTO {ROLLUP_TABLE} ({columns}, spend_pence, purchase_count, holder_count) "  # noqa: S608
            f"SELECT {columns}, %s * SUM(spend_pence), %s * SUM(purchase_count), 0 "
            f"FROM {_DELTA_TABLE} WHERE 1 = 1 GROUP BY {columns} ORDER BY {columns} "
            f"ON CONFLICT ({columns}) DO UPDATE SET "
            f"spend_pence = {ROLLUP_TABLE}.spend_pence + excluded.spend_pence, "
            f"purchase_count = {ROLLUP_TABLE}.purchase_count + excluded.purchase_count",
            [sign, sign],
        )
        cells = cursor.rowcount
        year_columns = ", ".join(YEAR_COLUMNS)
        year_select = f"grouping, {_year_sql(connection)}, category, value, value2"
        cursor.execute(
            f"INSERT INTO {YEAR_TABLE} ({year_columns}, spend_pence, purchase_count) "  # noqa: S608
            f"SELECT {year_select}, %s * SUM(spend_pence), %s * SUM(purchase_count) "
            f"FROM {_DELTA_TABLE} WHERE {_YEARS_IN} GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5 "
            f"ON CONFLICT ({year_columns}) DO UPDATE SET "
            f"spend_pence = {YEAR_TABLE}.spend_pence + excluded.spend_pence, "
            f"purchase_count = {YEAR_TABLE}.purchase_count + excluded.purchase_count",
            [sign, sign],
        )
        if sign < 0:
            cursor.execute(
                f"DELETE FROM {YEAR_TABLE} WHERE purchase_count <= 0 AND "  # noqa: S608
                f"({year_columns}) IN (SELECT {year_select} FROM {_DELTA_TABLE} WHERE {_YEARS_IN})"
            )
        upsert_members = (
            f"INSERT INTO {MEMBER_TABLE} ({columns}, budget_holder_id, purchase_count) "  # noqa: S608
            f"SELECT {columns}, budget_holder_id, %s * purchase_count FROM {_DELTA_TABLE} "
            f"WHERE 1 = 1 ORDER BY {columns}, budget_holder_id "
            f"ON CONFLICT ({columns}, budget_holder_id) DO UPDATE SET "
            f"purchase_count = {MEMBER_TABLE}.purchase_count + excluded.purchase_count"
        )
        remove_members = (
            f"DELETE FROM {MEMBER_TABLE} WHERE purchase_count <= 0 AND "  # noqa: S608
            f"({columns}, budget_holder_id) IN "
            f"(SELECT {columns}, budget_holder_id FROM {_DELTA_TABLE})"
        )
        if connection.vendor == "postgresql":
            # Each cell's people change by the members this batch adds and removes, as the
            # member upsert reports them (xmax = 0: inserted, not updated; a concurrent writer
            # of the same member queues on its row, so only one of them inserts it). The cell
            # rows are already locked by the upsert above. No recount over the cells' members.
            _add_to_holder_counts(
                cursor, f"{upsert_members} RETURNING {columns}, (xmax = 0) AS added", [sign]
            )
            if sign < 0:
                _add_to_holder_counts(cursor, f"{remove_members} RETURNING {columns}, -1", [])
        else:
            cursor.execute(upsert_members, [sign])
            if sign < 0:
                cursor.execute(remove_members)
            cursor.execute(
                f"UPDATE {ROLLUP_TABLE} SET holder_count = ("  # noqa: S608
                f"SELECT COUNT(*) FROM {MEMBER_TABLE} m WHERE {cell_match}"
                f") WHERE ({columns}) IN (SELECT {columns} FROM {_DELTA_TABLE})"
            )
            cursor.execute(
                f"SELECT DISTINCT {year_select} FROM {_DELTA_TABLE} WHERE {_YEARS_IN}"  # noqa: S608
            )
            _year_holders_recount(cursor, sorted(tuple(row) for row in cursor.fetchall()))
        if sign < 0:
            cursor.execute(
                f"DELETE FROM {ROLLUP_TABLE} WHERE purchase_count <= 0 AND "  # noqa: S608
                f"({columns}) IN (SELECT {columns} FROM {_DELTA_TABLE})"
            )
        cursor.execute(f"DROP TABLE {_DELTA_TABLE}")
        if work_mem is not None:
            cursor.execute("SELECT set_config('work_mem', %s, true)", [work_mem])
        purchase_ids = []
        if settings.ELASTICSEARCH_URL:
            cursor.execute(f"SELECT id FROM ({purchases_sql}) purchases", params)  # noqa: S608
            purchase_ids = [row[0] for row in cursor.fetchall()]
    if purchase_ids:
        from .tasks import purchases_index

        enqueue_on_commit(purchases_index, purchase_ids=purchase_ids)
    return cells


def _add_to_holder_counts(cursor, member_change_sql: str, params: list) -> None:
    """Run a member change whose RETURNING gives ``(cell columns, change)`` rows (a boolean
    change counts 1 when true), and add each cell's total change to its holder count, and
    to its year row's ``holder_months`` in ``YEAR_GROUPINGS`` (PostgreSQL: one statement)."""
    columns = ", ".join(CELL_COLUMNS)
    match = " AND ".join(f"r.{c} = n.{c}" for c in CELL_COLUMNS)
    year_match = " AND ".join(f"y.{c} = t.{c}" for c in YEAR_COLUMNS)
    cursor.execute(
        f"WITH changed ({columns}, change) AS ({member_change_sql}), "  # noqa: S608
        f"n AS (SELECT {columns}, SUM(CAST(change AS integer)) AS change FROM changed "
        f"GROUP BY {columns}), "
        f"cells AS (UPDATE {ROLLUP_TABLE} r SET holder_count = r.holder_count + n.change "
        f"FROM n WHERE {match} AND n.change <> 0) "
        f"UPDATE {YEAR_TABLE} y SET holder_months = y.holder_months + t.change "
        f"FROM (SELECT grouping, {_year_sql(connection)} AS year, category, value, value2, "
        f"SUM(change) AS change FROM n WHERE {_YEARS_IN} GROUP BY 1, 2, 3, 4, 5) t "
        f"WHERE {year_match} AND t.change <> 0",
        params,
    )


def demand_rollup_apply(*, purchase: Purchase, sign: int) -> None:
    """Add or take away one purchase: call in the same transaction that saves it (see above)."""
    demand_rollups_apply(purchases=[purchase], sign=sign)


def _year_sql(conn) -> str:
    """The calendar year of a rollup row's ``month``, as an integer."""
    if conn.vendor == "postgresql":
        return "CAST(EXTRACT(YEAR FROM month) AS smallint)"
    return "CAST(substr(month, 1, 4) AS integer)"


def _month_sql(conn) -> str:
    if conn.vendor == "postgresql":
        return "CAST(date_trunc('month', occurred_on) AS date)"
    return "date(occurred_on, 'start of month')"


def _grouping_select(grouping: str, conn) -> str:
    """SELECT list of a grouping's cell columns over the purchases table."""
    dims = GROUPINGS[grouping]
    others = [_SQL_VALUE[name] for name in dims if name != "category"]
    others += ["''"] * (2 - len(others))
    category = "category" if "category" in dims else "''"
    return f"'{grouping}', {_month_sql(conn)}, {category}, {others[0]}, {others[1]}"


def _naive_sql(grouping: str, conn) -> str:
    """Every cell of one grouping straight from purchases: the GROUP BY the rollups must equal."""
    return (
        f"SELECT {_grouping_select(grouping, conn)}, SUM(amount_pence), COUNT(*), "  # noqa: S608
        f"COUNT(DISTINCT budget_holder_id) FROM {PURCHASE_TABLE} GROUP BY 2, 3, 4, 5"
    )


def rollups_rebuild_sql(conn=None) -> tuple[int, int]:
    """Empty both tables and fill them from purchases with INSERT ... SELECT; returns (cells, members).

    Takes a connection so the data migration can call it; runs in the caller's transaction.
    """
    conn = conn or connection
    columns = ", ".join(CELL_COLUMNS)
    cells = members = 0
    with conn.cursor() as cursor:
        cursor.execute(f"DELETE FROM {MEMBER_TABLE}")  # noqa: S608
        cursor.execute(f"DELETE FROM {ROLLUP_TABLE}")  # noqa: S608
        for grouping in GROUPINGS:
            cursor.execute(
                f"INSERT INTO {ROLLUP_TABLE} ({columns}, spend_pence, purchase_count, holder_count) "
                + _naive_sql(grouping, conn)
            )
            cells += cursor.rowcount
            cursor.execute(
                f"INSERT INTO {MEMBER_TABLE} ({columns}, budget_holder_id, purchase_count) "  # noqa: S608
                f"SELECT {_grouping_select(grouping, conn)}, budget_holder_id, COUNT(*) "
                f"FROM {PURCHASE_TABLE} GROUP BY 2, 3, 4, 5, 6"
            )
            members += cursor.rowcount
        if conn.vendor == "postgresql":
            cursor.execute(f"ANALYZE {ROLLUP_TABLE}")
            cursor.execute(f"ANALYZE {MEMBER_TABLE}")
    return cells, members


_YEAR_FOLD = (
    "SELECT grouping, {year}, category, value, value2, SUM(spend_pence), SUM(purchase_count), "  # noqa: S608
    f"SUM(holder_count) FROM {ROLLUP_TABLE} WHERE {_YEARS_IN} GROUP BY 1, 2, 3, 4, 5"
)


def years_rebuild_sql(conn=None) -> int:
    """Empty the year table and sum the rollups' months into it; returns the rows written.

    For rebuilds and the migration that creates the table: the upkeep keeps it in step.
    """
    conn = conn or connection
    with conn.cursor() as cursor:
        cursor.execute(f"DELETE FROM {YEAR_TABLE}")  # noqa: S608
        cursor.execute(
            f"INSERT INTO {YEAR_TABLE} ({', '.join(YEAR_COLUMNS)}, spend_pence, purchase_count, "
            "holder_months) " + _YEAR_FOLD.format(year=_year_sql(conn))
        )
        written = cursor.rowcount
        if conn.vendor == "postgresql":
            cursor.execute(f"ANALYZE {YEAR_TABLE}")
    return written


@transaction.atomic
def demand_rollups_rebuild() -> tuple[int, int]:
    """Recompute every rollup from the purchases; returns ``(cells, members)``.

    Guarantees: all or nothing (one transaction), and afterwards the rollups
    equal a GROUP BY over ``Purchase``. For repair and bulk loads; page
    views never call it.
    """
    cells, members = rollups_rebuild_sql(connection)
    years_rebuild_sql(connection)
    return cells, members


def _key_text(key: tuple) -> str:
    grouping, month, *rest = key
    month = month.isoformat() if hasattr(month, "isoformat") else str(month)[:10]
    return "|".join([grouping, month[:10], *rest])


def demand_rollups_differences() -> list[str]:
    """Where the rollups differ from a naive GROUP BY over purchases (empty when in step)."""
    names = ("spend_pence", "purchase_count", "holder_count")
    problems = []
    with connection.cursor() as cursor:
        for grouping in GROUPINGS:
            cursor.execute(_naive_sql(grouping, connection))
            naive = {_key_text(row[:5]): row[5:] for row in cursor.fetchall()}
            stored = {
                _key_text(row[:5]): row[5:]
                for row in DemandRollup.objects.filter(grouping=grouping).values_list(
                    *CELL_COLUMNS, *names
                )
            }
            for key in sorted(set(naive) | set(stored)):
                want, have = naive.get(key), stored.get(key)
                if want is None or have is None:
                    problems.append(f"{key}: {'missing' if have is None else 'not in purchases'}")
                    continue
                for name, w, h in zip(names, want, have, strict=True):
                    if int(w) != int(h):
                        problems.append(f"{key}: {name} is {h}, purchases say {w}")
            member_total = DemandRollupMember.objects.filter(grouping=grouping).count()
            naive_members = sum(int(row[2]) for row in naive.values())
            if member_total != naive_members:
                problems.append(
                    f"{grouping} members: {member_total} stored, purchases say {naive_members}"
                )
        # The year rows against their months.
        cursor.execute(_YEAR_FOLD.format(year=_year_sql(connection)))
        summed = {tuple(row[:5]): tuple(row[5:]) for row in cursor.fetchall()}
        stored = {
            tuple(row[:5]): tuple(row[5:])
            for row in DemandRollupYear.objects.values_list(
                *YEAR_COLUMNS, "spend_pence", "purchase_count", "holder_months"
            )
        }
        for key in sorted(set(summed) | set(stored), key=str):
            want, have = summed.get(key), stored.get(key)
            if want is None or have is None or tuple(map(int, want)) != tuple(map(int, have)):
                problems.append(f"year {'|'.join(map(str, key))}: {have}, months say {want}")
    return problems
