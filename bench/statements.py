"""Statement import benchmark: card statement lines per second, whole and in parts, beside a
bare PostgreSQL COPY of the same file.

    DJANGO_SETTINGS_MODULE=config.settings.bench DATABASE_URL=postgres://.../scc_bench_mine \\
    flock /tmp/scc-bench.lock python -m bench.statements --scale N [--json FILE]

Scale 1 is 20,000 lines, 5 is 100,000. ``bin/bench`` runs it too (``--base-url`` is
accepted and not needed: everything is measured in process). Needs a migrated database
(demo data optional: with providers, merchants are matched against a real directory).
Each run commits new lines (references carry a timestamp), so the database grows: use a
database of your own.

  statement import   20,000 x scale lines (default scheme, 200 cards on 200 budgets, five
                     merchants, nine months) through statement_import, committed. Reported
                     whole: rows/s from the call to the end of the commit, deferred
                     foreign-key checks included. And in parts: the time in the SQL
                     statements that write each table (ledger: entries, postings,
                     balances; card transactions; purchases; demand rollups), the
                     deferred foreign-key checks (run just before the commit with SET
                     CONSTRAINTS ALL IMMEDIATE), the commit, and the rest ("parse, match,
                     stage": Python reading and checking the file, matching merchants,
                     and the COPY into the staging table).
  CPU rate           rows / (this process's CPU seconds + the PostgreSQL backend's, read
                     from /proc when the server runs on this machine): what the import
                     costs on one core, which barely moves with the machine's load,
                     unlike the clock.
  re-import          the same file again: every line is found and skipped.
  bare COPY          the same CSV COPied into an unindexed temporary table (PostgreSQL
                     only): the floor no import can beat.
"""

import argparse
import json
import os
import time
from collections import defaultdict
from pathlib import Path

from bench.load import cpu_seconds

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")

# Which part of the import a statement belongs to, by the table it writes (first match wins).
_PARTS = [
    ("demand rollups", ("demand_",)),
    ("purchases", ("INTO payments_purchase",)),
    ("card transactions", ("INTO budgets_cardtransaction",)),
    ("ledger", ("budgets_journalentry", "budgets_posting", "budgets_account")),
    ("deferred FK checks", ("SET CONSTRAINTS",)),
]


def _part(sql: str) -> str:
    for name, marks in _PARTS:
        if any(mark in sql for mark in marks):
            return name
    return "parse, match, stage"


def _backend_pid(connection) -> int | None:
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _backend_cpu_s(connection) -> float | None:
    """CPU seconds the PostgreSQL backend serving ``connection`` has used, when the server runs
    on this machine (read from /proc); None otherwise."""
    pid = _backend_pid(connection)
    return None if pid is None else cpu_seconds([pid]).get(pid)


def _load_average() -> str:
    return " ".join(f"{load:.2f}" for load in os.getloadavg())


def bench_import(scale: int) -> dict:
    from django.db import connection, transaction

    from bench.cards import _setup_cards, _statement_csv
    from marketplace.budgets.services import statement_import

    cards = _setup_cards(200, "default", "BENCHCARD")
    rows = 20_000 * scale
    text = _statement_csv(cards, rows)
    parts: dict[str, float] = defaultdict(float)
    parts_cpu: dict[str, float] = defaultdict(float)
    backend_pid = _backend_pid(connection)

    def backend_cpu() -> float:
        return cpu_seconds([backend_pid]).get(backend_pid, 0.0) if backend_pid else 0.0

    def timed(execute, sql, params, many, context):
        started, cpu_started = time.perf_counter(), backend_cpu()
        try:
            return execute(sql, params, many, context)
        finally:
            parts[_part(sql)] += time.perf_counter() - started
            parts_cpu[_part(sql)] += backend_cpu() - cpu_started

    load_before = _load_average()
    backend_before, python_before = _backend_cpu_s(connection), time.process_time()
    started = time.perf_counter()
    with connection.execute_wrapper(timed):
        with transaction.atomic():
            record = statement_import(text=text, scheme_name="default", filename="bench.csv")
            if connection.vendor == "postgresql":
                # Foreign keys are checked at commit; time that work on its own.
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            before_commit = time.perf_counter()
        import_s = time.perf_counter() - started
    python_cpu_s = time.process_time() - python_before
    backend_after = _backend_cpu_s(connection)
    if record.rows_imported != rows:
        raise RuntimeError(f"imported {record.rows_imported} of {rows} lines")
    parts["commit"] = import_s - (before_commit - started)
    parts["parse, match, stage"] += (before_commit - started) - sum(
        value for name, value in parts.items() if name != "commit"
    )
    started = time.perf_counter()
    again = statement_import(text=text, scheme_name="default", filename="bench.csv")
    again_s = time.perf_counter() - started
    if again.rows_imported != 0 or again.rows_already_imported != rows:
        raise RuntimeError("the re-import wrote lines")
    result = {
        "rows": rows,
        "import_s": round(import_s, 3),
        "import_rows_per_s": round(rows / import_s),
        "parts_s": {name: round(value, 3) for name, value in parts.items()},
        "parts_postgres_cpu_s": {name: round(value, 2) for name, value in parts_cpu.items()},
        "python_cpu_s": round(python_cpu_s, 3),
    }
    if backend_before is not None and backend_after is not None:
        cpu_s = python_cpu_s + backend_after - backend_before
        result.update(
            postgres_cpu_s=round(backend_after - backend_before, 3),
            cpu_rows_per_s=round(rows / cpu_s),
        )
    result.update(reimport_s=round(again_s, 3), reimport_rows_per_s=round(rows / again_s))
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMPORARY TABLE bench_copy (transaction_id text, card_reference text, "
                "date date, merchant_name text, merchant_postcode text, mcc text, amount numeric) "
                "ON COMMIT DROP"
            )
            started = time.perf_counter()
            with cursor.cursor.copy(
                "COPY bench_copy FROM STDIN WITH (FORMAT csv, HEADER true)"
            ) as copy:
                copy.write(text.encode())
            copy_s = time.perf_counter() - started
        result.update(copy_s=round(copy_s, 3), copy_rows_per_s=round(rows / copy_s))
        result["import_share_of_copy"] = round(
            result["import_rows_per_s"] / result["copy_rows_per_s"], 3
        )
    result["load_average"] = {"before": load_before, "after": _load_average()}
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--base-url", default="", help="Accepted for bin/bench; not used.")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if args.scale < 1:
        parser.error("--scale must be 1 or more")

    import django

    django.setup()
    figures = bench_import(args.scale)
    print("Statement import:", json.dumps(figures, indent=2), flush=True)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
