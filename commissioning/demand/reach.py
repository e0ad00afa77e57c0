"""Keeping ``DemandRollupReach`` (who bought in a cell, month by month, per window) in step.

The reach table is a projection of the member table: a member row for
``(grouping, month, cell, person)`` exists exactly when the month's bit is
set on the reach rows ``(grouping, first_year, cell, person)`` of both
four-year windows that contain the month. On PostgreSQL,
statement-level triggers on the member table keep it so: whatever writes the
members (one purchase, a statement import, a rebuild), new member rows set
their month's bit and deleted ones clear it, in the same statement and
transaction, set-based over the statement's transition table. A person
keeps a bit while they have any purchase in that cell and month, because
the member row lives exactly that long.

On SQLite (development only) there are no triggers and the table stays
empty; ``selectors`` then count people from the member table instead.
"""

from django.db import connection

from .models import (
    PATTERN_GROUPINGS,
    WINDOW_STEP,
    WINDOW_YEARS,
    YEAR_GROUPINGS,
    DemandRollupMember,
    DemandRollupPattern,
    DemandRollupReach,
)

REACH_TABLE = DemandRollupReach._meta.db_table
PATTERN_TABLE = DemandRollupPattern._meta.db_table
PATTERN_KEY = ("grouping", "first_year", "category", "value", "value2", "months")
_PKEY = ", ".join(PATTERN_KEY)
# The reach rows the pattern table counts: every row of ``PATTERN_GROUPINGS``, and the rows of
# ``YEAR_GROUPINGS`` with two or more months (``months & (months - 1)`` clears the lowest bit).
_PATTERNED = (
    "(grouping IN ("
    + ", ".join(f"'{name}'" for name in PATTERN_GROUPINGS)
    + ") OR (grouping IN ("
    + ", ".join(f"'{name}'" for name in YEAR_GROUPINGS)
    + ") AND months & (months - 1) <> 0))"
)
MEMBER_TABLE = DemandRollupMember._meta.db_table
REACH_KEY = ("grouping", "first_year", "category", "value", "value2", "budget_holder_id")
_KEY = ", ".join(REACH_KEY)
_YEAR = "CAST(EXTRACT(YEAR FROM month) AS integer)"
# The first years of the two windows holding a month: the latest window start at or before
# its year, and the one before that.
_WINDOWS = (
    f"(VALUES ({_YEAR} / {WINDOW_STEP} * {WINDOW_STEP}), "
    f"({_YEAR} / {WINDOW_STEP} * {WINDOW_STEP} - {WINDOW_STEP}))"
)
_BIT = (
    f"CAST(1 AS bigint) << (({_YEAR} - w.first_year) * 12 "
    "+ CAST(EXTRACT(MONTH FROM month) AS integer) - 1)"
)
assert WINDOW_YEARS * 12 <= 63 and WINDOW_YEARS >= 2 * WINDOW_STEP  # noqa: S101
_FOLD = (
    f"SELECT grouping, CAST(w.first_year AS smallint), category, value, value2, "  # noqa: S608
    f"budget_holder_id, bit_or({_BIT}) "
    f"FROM {{source}} CROSS JOIN LATERAL {_WINDOWS} AS w (first_year) GROUP BY 1, 2, 3, 4, 5, 6"
)

# PostgreSQL triggers on the member table (installed by migrations 0005 and 0007).
TRIGGERS_SQL = f"""
CREATE OR REPLACE FUNCTION demand_reach_members_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {REACH_TABLE} ({_KEY}, months)
    {_FOLD.format(source="added")} ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT ({_KEY}) DO UPDATE SET months = {REACH_TABLE}.months | excluded.months
    WHERE {REACH_TABLE}.months | excluded.months <> {REACH_TABLE}.months;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION demand_reach_members_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM {MEMBER_TABLE}) THEN
        DELETE FROM {REACH_TABLE};  -- every member gone (a rebuild empties the table first)
        RETURN NULL;
    END IF;
    UPDATE {REACH_TABLE} r SET months = r.months & ~gone.bits
    FROM ({_FOLD.format(source="removed")}) AS gone ({_KEY}, bits)
    WHERE (r.grouping, r.first_year, r.category, r.value, r.value2, r.budget_holder_id)
        = (gone.grouping, gone.first_year, gone.category, gone.value, gone.value2,
           gone.budget_holder_id);
    DELETE FROM {REACH_TABLE} r
    USING ({_FOLD.format(source="removed")}) AS gone ({_KEY}, bits)
    WHERE r.months = 0
        AND (r.grouping, r.first_year, r.category, r.value, r.value2, r.budget_holder_id)
        = (gone.grouping, gone.first_year, gone.category, gone.value, gone.value2,
           gone.budget_holder_id);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION demand_reach_members_emptied() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {REACH_TABLE};
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS demand_reach_members_added ON {MEMBER_TABLE};
CREATE TRIGGER demand_reach_members_added AFTER INSERT ON {MEMBER_TABLE}
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT
    EXECUTE FUNCTION demand_reach_members_added();
DROP TRIGGER IF EXISTS demand_reach_members_removed ON {MEMBER_TABLE};
CREATE TRIGGER demand_reach_members_removed AFTER DELETE ON {MEMBER_TABLE}
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT
    EXECUTE FUNCTION demand_reach_members_removed();
DROP TRIGGER IF EXISTS demand_reach_members_emptied ON {MEMBER_TABLE};
CREATE TRIGGER demand_reach_members_emptied AFTER TRUNCATE ON {MEMBER_TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION demand_reach_members_emptied();
"""  # noqa: S608

# PostgreSQL triggers on the reach table keeping the patterns of ``PATTERN_GROUPINGS``
# (installed by migrations 0006 and 0007).
# A changed reach row moves one person from its old mask's pattern to its new one. A pattern
# left with no people keeps its row (at 0, which every count ignores) rather than pay for
# finding and deleting it on every write; a rebuild drops them.
_PATTERN_DELTA = (
    f"INSERT INTO {PATTERN_TABLE} ({_PKEY}, people) "  # noqa: S608
    f"SELECT {_PKEY}, SUM(change) FROM ({{rows}}) AS changes GROUP BY {_PKEY} "
    f"HAVING SUM(change) <> 0 ORDER BY {_PKEY} "
    f"ON CONFLICT ({_PKEY}) DO UPDATE SET people = {PATTERN_TABLE}.people + excluded.people"
)
_PATTERN_MOVES = (
    f"SELECT {_PKEY}, 1 AS change FROM new_rows WHERE {_PATTERNED} "  # noqa: S608
    f"UNION ALL SELECT {_PKEY}, -1 FROM old_rows WHERE {_PATTERNED}"
)
PATTERN_TRIGGERS_SQL = f"""
CREATE OR REPLACE FUNCTION demand_patterns_reach_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {_PATTERN_DELTA.format(rows=f"SELECT {_PKEY}, 1 AS change FROM new_rows WHERE {_PATTERNED}")};
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION demand_patterns_reach_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {_PATTERN_DELTA.format(rows=_PATTERN_MOVES)};
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION demand_patterns_reach_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM {REACH_TABLE}) THEN
        DELETE FROM {PATTERN_TABLE};  -- every reach row gone (a rebuild)
        RETURN NULL;
    END IF;
    {_PATTERN_DELTA.format(rows=f"SELECT {_PKEY}, -1 AS change FROM old_rows WHERE {_PATTERNED}")};
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION demand_patterns_reach_emptied() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {PATTERN_TABLE};
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS demand_patterns_reach_added ON {REACH_TABLE};
CREATE TRIGGER demand_patterns_reach_added AFTER INSERT ON {REACH_TABLE}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION demand_patterns_reach_added();
DROP TRIGGER IF EXISTS demand_patterns_reach_changed ON {REACH_TABLE};
CREATE TRIGGER demand_patterns_reach_changed AFTER UPDATE ON {REACH_TABLE}
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION demand_patterns_reach_changed();
DROP TRIGGER IF EXISTS demand_patterns_reach_removed ON {REACH_TABLE};
CREATE TRIGGER demand_patterns_reach_removed AFTER DELETE ON {REACH_TABLE}
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION demand_patterns_reach_removed();
DROP TRIGGER IF EXISTS demand_patterns_reach_emptied ON {REACH_TABLE};
CREATE TRIGGER demand_patterns_reach_emptied AFTER TRUNCATE ON {REACH_TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION demand_patterns_reach_emptied();
"""  # noqa: S608

DROP_PATTERN_TRIGGERS_SQL = f"""
DROP TRIGGER IF EXISTS demand_patterns_reach_added ON {REACH_TABLE};
DROP TRIGGER IF EXISTS demand_patterns_reach_changed ON {REACH_TABLE};
DROP TRIGGER IF EXISTS demand_patterns_reach_removed ON {REACH_TABLE};
DROP TRIGGER IF EXISTS demand_patterns_reach_emptied ON {REACH_TABLE};
DROP FUNCTION IF EXISTS demand_patterns_reach_added();
DROP FUNCTION IF EXISTS demand_patterns_reach_changed();
DROP FUNCTION IF EXISTS demand_patterns_reach_removed();
DROP FUNCTION IF EXISTS demand_patterns_reach_emptied();
"""

DROP_TRIGGERS_SQL = f"""
DROP TRIGGER IF EXISTS demand_reach_members_added ON {MEMBER_TABLE};
DROP TRIGGER IF EXISTS demand_reach_members_removed ON {MEMBER_TABLE};
DROP TRIGGER IF EXISTS demand_reach_members_emptied ON {MEMBER_TABLE};
DROP FUNCTION IF EXISTS demand_reach_members_added();
DROP FUNCTION IF EXISTS demand_reach_members_removed();
DROP FUNCTION IF EXISTS demand_reach_members_emptied();
"""


def reach_kept(conn=None) -> bool:
    """Whether this database keeps the reach table (PostgreSQL, with the triggers)."""
    return (conn or connection).vendor == "postgresql"


def reach_rebuild_sql(conn=None) -> int:
    """Empty the reach table and fold the member table into it; returns the rows written.

    For repair and the migration that creates the table: the triggers keep it
    in step from then on.
    """
    conn = conn or connection
    if not reach_kept(conn):
        return 0
    with conn.cursor() as cursor:
        cursor.execute(f"DELETE FROM {REACH_TABLE}")  # noqa: S608
        cursor.execute(
            f"INSERT INTO {REACH_TABLE} ({_KEY}, months) "  # noqa: S608
            + _FOLD.format(source=MEMBER_TABLE)
        )
        written = cursor.rowcount
        cursor.execute(f"ANALYZE {REACH_TABLE}")
    return written


def reach_differences() -> list[str]:
    """Where the reach table differs from the member table folded by window (empty when in step)."""
    if not reach_kept():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_KEY}, w.bits, h.months FROM ("  # noqa: S608
            + _FOLD.format(source=MEMBER_TABLE)
            + f") w ({_KEY}, bits) FULL JOIN {REACH_TABLE} h USING ({_KEY}) "
            "WHERE w.bits IS DISTINCT FROM h.months ORDER BY 1, 2, 3, 4, 5, 6 LIMIT 100"
        )
        rows = cursor.fetchall()
    return [
        f"reach {'|'.join(str(v) for v in row[:6])}: months {row[7]}, members say {row[6]}"
        for row in rows
    ]


_PATTERN_FOLD = f"SELECT {_PKEY}, COUNT(*) FROM {REACH_TABLE} WHERE {_PATTERNED} GROUP BY {_PKEY}"  # noqa: S608


def patterns_rebuild_sql(conn=None) -> int:
    """Empty the pattern table and count the reach rows into it; returns the rows written.

    For repair and the migration that creates the table: the triggers keep it
    in step from then on.
    """
    conn = conn or connection
    if not reach_kept(conn):
        return 0
    with conn.cursor() as cursor:
        cursor.execute(f"DELETE FROM {PATTERN_TABLE}")  # noqa: S608
        cursor.execute(f"INSERT INTO {PATTERN_TABLE} ({_PKEY}, people) {_PATTERN_FOLD}")  # noqa: S608
        written = cursor.rowcount
        cursor.execute(f"ANALYZE {PATTERN_TABLE}")
    return written


def pattern_differences() -> list[str]:
    """Where the pattern table differs from the reach rows counted by mask (empty when in step)."""
    if not reach_kept():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_PKEY}, w.people, p.people FROM ({_PATTERN_FOLD}) w ({_PKEY}, people) "  # noqa: S608
            f"FULL JOIN (SELECT * FROM {PATTERN_TABLE} WHERE people <> 0) p USING ({_PKEY}) "
            "WHERE w.people IS DISTINCT FROM p.people ORDER BY 1, 2, 3, 4, 5, 6 LIMIT 100"
        )
        rows = cursor.fetchall()
    return [
        f"pattern {'|'.join(str(v) for v in row[:6])}: {row[7]} people, reach says {row[6]}"
        for row in rows
    ]
