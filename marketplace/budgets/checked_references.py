"""References the database proves once per statement instead of once per row.

A foreign-key constraint makes PostgreSQL look up (and lock) the parent of every inserted
row with a query of its own. For the tables a statement import fills, thousands of rows
at a time, that was the largest single cost of an import. The references declared with
``db_constraint=False`` (on journal entries, postings, card transactions and purchases)
have no constraint; these triggers keep its guarantees:

- after every INSERT or UPDATE statement on the child table, one query over the
  statement's new rows (a transition table) finds every distinct parent id, locks those
  parents FOR KEY SHARE (once each, in id order, where a foreign key locks them once per
  row) and raises ``foreign_key_violation`` (an ``IntegrityError``) if any is missing;
- a parent row still referenced cannot be deleted or have its id changed (a row trigger
  on the parent, which looks the id up in the child's index).

A parent that can never be deleted or changed (journal entries) is checked without the
lock.

On SQLite (the embedded default, one writer at a time) there are no such triggers: Django
alters a SQLite table by rebuilding and renaming it, and SQLite refuses that rename while
a trigger on another table names it, so a trigger between two tables would break every
later migration of either. There the references are kept by the code that writes them
(ids read from the database in the same transaction) and by ``on_delete`` in the ORM.

The migrations that install these call ``create`` and ``drop``: keep their behaviour
stable, or give a changed version a new name.
"""

from collections.abc import Iterable

# (child table, column, parent table, lock the parents?)
Reference = tuple[str, str, str, bool]

_PG_FUNCTIONS = """
CREATE OR REPLACE FUNCTION checked_references_exist() RETURNS trigger AS $$
-- After an INSERT or UPDATE statement: every non-null TG_ARGV[0] among the statement's new
-- rows names a row of TG_ARGV[1] ('lock': locked FOR KEY SHARE, as a foreign key would).
DECLARE
    missing bigint;
    low bigint;
    high bigint;
    total bigint;
    present bigint;
    nestloop text;
BEGIN
    IF TG_ARGV[2] = 'lock' THEN
        EXECUTE format(
            'WITH wanted AS (SELECT DISTINCT %1$I AS id FROM new_rows WHERE %1$I IS NOT NULL), '
            'found AS (SELECT p.id FROM %2$I p WHERE p.id IN (SELECT id FROM wanted) '
            'ORDER BY p.id FOR KEY SHARE OF p) '
            'SELECT (SELECT count(*) FROM wanted) - (SELECT count(*) FROM found)',
            TG_ARGV[0], TG_ARGV[1]) INTO missing;
    ELSE
        EXECUTE format('SELECT min(%1$I), max(%1$I), count(%1$I) FROM new_rows', TG_ARGV[0])
            INTO low, high, total;
        IF total = 0 THEN
            RETURN NULL;
        END IF;
        IF high - low < 4 * total THEN
            -- Ids close together (parents written together). When the parent holds every id
            -- from the lowest to the highest (ids are unique, so a count of the stretch
            -- equal to its length says so), each referenced id, lying between them, exists.
            EXECUTE format('SELECT count(*) FROM %I p WHERE p.id BETWEEN $1 AND $2', TG_ARGV[1])
                INTO present USING low, high;
            IF present = high - low + 1 THEN
                RETURN NULL;
            END IF;
            -- Otherwise (gaps in the stretch): read that stretch of the
            -- parent's primary key once and hash it, instead of looking each id up. The
            -- planner's estimate of the stretch is stale when its rows are new (one row
            -- for thousands), and a nested loop over it is quadratic: ruled out here.
            nestloop := current_setting('enable_nestloop');
            PERFORM set_config('enable_nestloop', 'off', true);
            EXECUTE format(
                'SELECT count(*) FROM (SELECT DISTINCT %1$I AS id FROM new_rows '
                'WHERE %1$I IS NOT NULL) w LEFT JOIN (SELECT p.id FROM %2$I p '
                'WHERE p.id BETWEEN $1 AND $2) p ON p.id = w.id WHERE p.id IS NULL',
                TG_ARGV[0], TG_ARGV[1]) INTO missing USING low, high;
            PERFORM set_config('enable_nestloop', nestloop, true);
        ELSE
            EXECUTE format(
                'SELECT count(*) FROM (SELECT DISTINCT %1$I AS id FROM new_rows '
                'WHERE %1$I IS NOT NULL) w '
                'WHERE NOT EXISTS (SELECT 1 FROM %2$I p WHERE p.id = w.id)',
                TG_ARGV[0], TG_ARGV[1]) INTO missing;
        END IF;
    END IF;
    IF missing > 0 THEN
        RAISE EXCEPTION '% row(s) of % refer to a row of % that does not exist (%)',
            missing, TG_TABLE_NAME, TG_ARGV[1], TG_ARGV[0]
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION checked_references_parent_stays() RETURNS trigger AS $$
-- Before a parent row is deleted or its id changed: no TG_ARGV[0] row may still name it
-- in TG_ARGV[1].
DECLARE
    referenced boolean;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id = OLD.id THEN
        RETURN NEW;
    END IF;
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE %I = $1)', TG_ARGV[0], TG_ARGV[1])
        INTO referenced USING OLD.id;
    IF referenced THEN
        RAISE EXCEPTION '% % is still referenced from % (%)',
            TG_TABLE_NAME, OLD.id, TG_ARGV[0], TG_ARGV[1]
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def trigger_names(child: str, column: str) -> dict[str, str]:
    """The three triggers of one reference: on the child's inserts and updates, on the parent."""
    return {
        "insert": f"{child}_{column}_insert_refs",
        "update": f"{child}_{column}_update_refs",
        "parent": f"{child}_{column}_parent",
    }


def create_functions(schema_editor) -> None:
    """(Re)define the two trigger functions (PostgreSQL)."""
    schema_editor.execute(_PG_FUNCTIONS, None)  # no parameters: its % signs are literal


def create(schema_editor, references: Iterable[Reference]) -> None:
    """Install the checks for ``references`` (replacing any of the same name)."""
    if schema_editor.connection.vendor != "postgresql":
        return  # see the module's docstring for SQLite
    references = list(references)
    drop(schema_editor, references, functions=False)
    create_functions(schema_editor)
    for child, column, parent, lock in references:
        names, mode = trigger_names(child, column), "lock" if lock else "no lock"
        for event in ("insert", "update"):
            schema_editor.execute(
                f"CREATE TRIGGER {names[event]} AFTER {event.upper()} ON {child} "
                "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "
                f"checked_references_exist('{column}', '{parent}', '{mode}')"
            )
        schema_editor.execute(
            f"CREATE TRIGGER {names['parent']} BEFORE DELETE OR UPDATE OF id ON {parent} "
            "FOR EACH ROW EXECUTE FUNCTION "
            f"checked_references_parent_stays('{child}', '{column}')"
        )


def drop(schema_editor, references: Iterable[Reference], *, functions: bool = False) -> None:
    """Remove the checks for ``references`` (and, with ``functions``, the shared functions).
    On SQLite too: a first version of migration 0005 installed them there."""
    vendor = schema_editor.connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        return
    postgresql = vendor == "postgresql"
    for child, column, parent, _lock in references:
        names = trigger_names(child, column)
        for event, table in (("insert", child), ("update", child), ("parent", parent)):
            schema_editor.execute(
                f"DROP TRIGGER IF EXISTS {names[event]}" + (f" ON {table}" if postgresql else "")
            )
    if postgresql and functions:
        schema_editor.execute("DROP FUNCTION IF EXISTS checked_references_exist()")
        schema_editor.execute("DROP FUNCTION IF EXISTS checked_references_parent_stays()")
