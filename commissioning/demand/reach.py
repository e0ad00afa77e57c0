"""Keeping ``DemandRollupReach`` (who bought in a cell, month by month, per year) in step.

The reach table is a projection of the member table: a member row for
``(grouping, month, cell, person)`` exists exactly when bit ``month - 1`` is
set on the reach row ``(grouping, year, cell, person)``. On PostgreSQL,
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

from .models import DemandRollupMember, DemandRollupReach

REACH_TABLE = DemandRollupReach._meta.db_table
MEMBER_TABLE = DemandRollupMember._meta.db_table
REACH_KEY = ("grouping", "year", "category", "value", "value2", "budget_holder_id")
_KEY = ", ".join(REACH_KEY)
_YEAR = "CAST(EXTRACT(YEAR FROM month) AS smallint)"
_BIT = "1 << (CAST(EXTRACT(MONTH FROM month) AS integer) - 1)"
_FOLD = (
    f"SELECT grouping, {_YEAR}, category, value, value2, budget_holder_id, bit_or({_BIT}) "  # noqa: S608
    "FROM {source} GROUP BY 1, 2, 3, 4, 5, 6"
)

# PostgreSQL triggers on the member table (installed by migration 0004).
TRIGGERS_SQL = f"""
CREATE OR REPLACE FUNCTION demand_reach_members_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {REACH_TABLE} ({_KEY}, months)
    {_FOLD.format(source="added")} ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT ({_KEY}) DO UPDATE SET months = {REACH_TABLE}.months | excluded.months;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION demand_reach_members_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM {MEMBER_TABLE}) THEN
        DELETE FROM {REACH_TABLE};  -- every member gone (a rebuild empties the table first)
        RETURN NULL;
    END IF;
    UPDATE {REACH_TABLE} r SET months = r.months & ~gone.bits
    FROM ({_FOLD.format(source="removed")}) AS gone (grouping, year, category, value, value2,
                                                     budget_holder_id, bits)
    WHERE (r.grouping, r.year, r.category, r.value, r.value2, r.budget_holder_id)
        = (gone.grouping, gone.year, gone.category, gone.value, gone.value2, gone.budget_holder_id);
    DELETE FROM {REACH_TABLE} r USING removed m
    WHERE r.months = 0 AND r.grouping = m.grouping AND r.year = EXTRACT(YEAR FROM m.month)
        AND r.category = m.category AND r.value = m.value AND r.value2 = m.value2
        AND r.budget_holder_id = m.budget_holder_id;
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
    """Where the reach table differs from the member table folded by year (empty when in step)."""
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
