"""Fast inserts for imports and demo data: PostgreSQL COPY, or executemany elsewhere.

Rows are written as plain tuples; the caller reserves primary keys first so
rows in other tables can point at them. Only for append-only tables we own.
"""

from collections.abc import Sequence

from django.db import connection


def reserve_ids(table: str, count: int) -> list[int]:
    """``count`` fresh primary keys for ``table``. The caller is inside a transaction that
    has already written (so on SQLite it holds the write lock)."""
    if count <= 0:
        return []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, count],
            )
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')  # noqa: S608 - our own table name
        start = cursor.fetchone()[0] + 1
        if connection.vendor == "sqlite":
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cursor.fetchone()
            if row and row[0] >= start:
                start = row[0] + 1
        return list(range(start, start + count))


def insert_rows(table: str, columns: Sequence[str], rows: list[tuple]) -> None:
    if not rows:
        return
    quoted = ", ".join(f'"{column}"' for column in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor  # psycopg cursor under Django's wrapper
            with raw.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
            return
        placeholders = ", ".join(["%s"] * len(columns))
        cursor.executemany(
            f'INSERT INTO "{table}" ({quoted}) VALUES ({placeholders})',  # noqa: S608
            rows,
        )


def existing_values(
    table: str, column: str, values: list[str], where: str = "", params: Sequence = ()
) -> set[str]:
    """Which of ``values`` already appear in ``table.column`` (optionally narrowed by ``where``,
    a condition on our own columns): one query on PostgreSQL (``= ANY`` an array), chunked
    ``IN`` lists elsewhere."""
    if not values:
        return set()
    condition = f" AND {where}" if where else ""
    found: set[str] = set()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f'SELECT "{column}" FROM "{table}" WHERE "{column}" = ANY(%s){condition}',  # noqa: S608
                [list(values), *params],
            )
            return {row[0] for row in cursor.fetchall()}
        for start in range(0, len(values), 900):
            chunk = values[start : start + 900]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f'SELECT "{column}" FROM "{table}" WHERE "{column}" IN ({marks}){condition}',  # noqa: S608
                [*chunk, *params],
            )
            found.update(row[0] for row in cursor.fetchall())
    return found


def add_to_balances(deltas: dict[int, int]) -> None:
    """Move cached account balances by ``deltas`` (account id -> pence), in one statement batch."""
    items = [(delta, account_id) for account_id, delta in deltas.items() if delta]
    if not items:
        return
    with connection.cursor() as cursor:
        cursor.executemany(
            'UPDATE "budgets_account" SET "balance_pence" = "balance_pence" + %s WHERE "id" = %s',
            items,
        )
