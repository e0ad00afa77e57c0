"""Import card statements exported by prepaid card schemes: all or nothing, once per line.

The import is set-based. Python reads the file once (the csv module, the scheme's
column positions worked out once from the header, no model objects per line),
checks every line, and matches each distinct merchant to a directory provider
once. The lines then go into a temporary staging table (COPY on PostgreSQL),
beside two small lookup tables (the file's cards, with their budgets and
holders, and its merchants, with their matches), and a few ``INSERT ...
SELECT`` statements write the ledger entries and postings, the card
transactions and the purchases; the demand rollups follow with one
aggregated upsert (``demand_rollups_apply_sql``). Everything runs in one
database transaction. The tables written check their references to budgets, cards,
accounts, entries and people once per statement, not once per row
(``checked_references.py``; docs/card-statements.md).
"""

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.db import connection, transaction
from django.utils import timezone

from commissioning.demand.services import demand_rollups_apply_sql
from marketplace.payments.models import Channel, Purchase

from ..models import (
    Account,
    AccountKind,
    Card,
    CardTransaction,
    CardTransactionSource,
    CardTransactionType,
    EntryKind,
    JournalEntry,
    Posting,
    StatementImport,
)
from ..statement_schemes import SCHEMES, StatementScheme
from .bulk import reserve_ids

SOURCE_TYPE = "card_statement"


@dataclass(frozen=True)
class LineProblem:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"Line {self.line}: {self.reason}"


class StatementError(ValueError):
    """The file was not imported; ``problems`` says which lines are wrong and why."""

    def __init__(self, problems: list[LineProblem]):
        self.problems = problems
        super().__init__(f"{len(problems)} line(s) could not be read; nothing was imported.")


# --- Reading the file --------------------------------------------------------------

_MONEY = re.compile(r"(-?)(\d+)(?:\.(\d{1,2}))?")


def _pence(text: str) -> int:
    text = text.replace("£", "").replace(",", "").strip()
    plain = _MONEY.fullmatch(text)
    if plain is not None:  # the usual "12.50", read without Decimal
        sign, pounds, pence = plain.groups()
        value = int(pounds) * 100 + (int(pence.ljust(2, "0")) if pence else 0)
        return -value if sign else value
    value = Decimal(text)
    if value != value.quantize(Decimal("0.01")):
        raise InvalidOperation
    return int(value * 100)


def _parse_date(text: str, formats: tuple[str, ...]) -> date:
    for fmt in formats:
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    raise ValueError


def _amount_reader(scheme: StatementScheme, at: dict[str, int | None]):
    """A function from a row to the money spent in pence (positive: a payment, negative: a
    refund) for the scheme's amount style, with the column positions bound once."""

    def cell(row: list[str], index: int | None) -> str:
        return row[index] if index is not None and index < len(row) else ""

    if scheme.amount_style == "debit_credit":
        debit_at, credit_at = at.get("debit"), at.get("credit")

        def read(row):
            debit, credit = cell(row, debit_at).strip(), cell(row, credit_at).strip()
            if debit and credit:
                raise ValueError("has both a debit and a credit")
            if not debit and not credit:
                raise ValueError("has no amount")
            return _pence(debit) if debit else -_pence(credit)

        return read
    amount_at = at.get("amount")
    if scheme.amount_style == "spend_negative":
        return lambda row: -_pence(cell(row, amount_at))
    if scheme.amount_style == "direction":
        direction_at = at.get("direction")

        def read(row):
            pence = _pence(cell(row, amount_at))
            direction = cell(row, direction_at).strip().upper()
            if direction not in ("D", "C"):
                raise ValueError("has a debit/credit marker that is not D or C")
            return abs(pence) if direction == "D" else -abs(pence)

        return read
    return lambda row: _pence(cell(row, amount_at))


@dataclass
class ParsedStatement:
    """A statement read and checked. ``lines`` are ``(line number, key, card id, date,
    merchant number, pence)``; ``merchants`` the distinct ``(name, postcode, merchant
    category code)`` the merchant numbers point at; ``cards`` card id -> ``(budget id,
    budget holder id, care group, postcode district)`` for the cards the lines use."""

    lines: list[tuple] = field(default_factory=list)
    merchants: list[tuple[str, str, str]] = field(default_factory=list)
    cards: dict[int, tuple] = field(default_factory=dict)
    problems: list[LineProblem] = field(default_factory=list)


def statement_parse(*, text: str, scheme_name: str) -> ParsedStatement:
    """Read and check every line in one pass; bad lines become problems (line numbers count
    the header as line 1, as a spreadsheet shows them). Reads the scheme's cards once."""
    scheme = SCHEMES[scheme_name]
    parsed = ParsedStatement()
    reader = csv.reader(io.StringIO(text))
    header = next(reader, [])
    headers = set(header)
    missing = [
        scheme.columns[f]
        for f in (
            *scheme.required,
            *[c for c in ("amount", "debit", "direction") if c in scheme.columns],
        )
        if scheme.columns[f] not in headers
    ]
    if missing:
        parsed.problems.append(
            LineProblem(1, f"the header is missing the column(s): {', '.join(missing)}")
        )
        return parsed
    # As csv.DictReader reads it: the last column of a repeated name wins.
    position = {name: index for index, name in enumerate(header)}
    at = {field: position.get(column) for field, column in scheme.columns.items()}
    reference_at, card_at, date_at = at["reference"], at["card_reference"], at["date"]
    merchant_at, postcode_at, mcc_at = (
        at["merchant_name"],
        at.get("merchant_postcode"),
        at.get("mcc"),
    )
    width = 1 + max(index for index in at.values() if index is not None)
    amount = _amount_reader(scheme, at)
    holders = {}
    cards = {}
    for reference, card_id, budget_id, holder_id, care_group, postcode in Card.objects.filter(
        scheme=scheme_name
    ).values_list(
        "reference",
        "pk",
        "budget_id",
        "budget__budget_holder_id",
        "budget__budget_holder__care_group",
        "budget__budget_holder__postcode",
    ):
        cards[reference] = card_id
        district = (
            postcode.split(" ")[0].upper() if postcode else ""
        )  # BudgetHolder.postcode_district
        holders[card_id] = (budget_id, holder_id, care_group, district)
    dates: dict[str, date | None] = {}  # a statement has few distinct dates: read each once
    merchants: dict[tuple[str, str, str], int] = {}
    lines, problems, used_cards, seen = parsed.lines, parsed.problems, parsed.cards, set()
    prefix = f"{scheme_name}:"
    # Blank rows count too, as a spreadsheet numbers them.
    has_nul = "\x00" in text  # the database cannot store it; one scan of the file, not per line
    for number, row in enumerate(reader, start=2):
        if len(row) < width:
            if not row or not any(value.strip() for value in row):
                continue
            row = row + [""] * (width - len(row))
        if has_nul and any("\x00" in value for value in row):
            problems.append(LineProblem(number, "the line contains a NUL character"))
            continue
        reference = row[reference_at].strip()
        if not reference:
            problems.append(LineProblem(number, "the transaction reference is empty"))
            continue
        if reference in seen:
            problems.append(
                LineProblem(number, f"transaction {reference} appears twice in this file")
            )
            continue
        seen.add(reference)
        card_reference = row[card_at].strip()
        card_id = cards.get(card_reference)
        if card_id is None:
            problems.append(
                LineProblem(number, f"card {card_reference or '(empty)'} is not on any budget")
            )
            continue
        date_text = row[date_at]
        occurred_on = dates.get(date_text, False)
        if occurred_on is False:
            try:
                occurred_on = _parse_date(date_text, scheme.date_formats)
            except ValueError:
                occurred_on = None
            dates[date_text] = occurred_on
        if occurred_on is None:
            problems.append(LineProblem(number, f"the date '{date_text}' is not a date"))
            continue
        try:
            pence = amount(row)
        except InvalidOperation:
            problems.append(
                LineProblem(number, "the amount is not a sum of money in pounds and pence")
            )
            continue
        except ValueError as error:
            problems.append(LineProblem(number, f"the line {error}"))
            continue
        if pence == 0:
            problems.append(LineProblem(number, "the amount is zero"))
            continue
        mcc = row[mcc_at].strip() if mcc_at is not None else ""
        if mcc and (len(mcc) != 4 or not mcc.isdigit()):
            problems.append(
                LineProblem(number, f"the merchant category code '{mcc}' is not 4 digits")
            )
            continue
        merchant_name = row[merchant_at].strip()
        if not merchant_name:
            problems.append(LineProblem(number, "the merchant name is empty"))
            continue
        merchant = (
            merchant_name[:200],
            row[postcode_at].strip()[:12] if postcode_at is not None else "",
            mcc,
        )
        merchant_number = merchants.get(merchant)
        if merchant_number is None:
            merchant_number = merchants[merchant] = len(merchants)
        used_cards[card_id] = holders[card_id]
        lines.append((number, prefix + reference, card_id, occurred_on, merchant_number, pence))
    parsed.merchants = list(merchants)
    return parsed


def _merchant_rows(merchants: list[tuple[str, str, str]]) -> list[tuple]:
    """Each distinct merchant matched once, by the rule every card purchase follows
    (``purchase_match``), with the index and the learned aliases read once for all."""
    from marketplace.payments.matching import (
        MerchantAliases,
        merchant_index,
        merchant_key,
        normalise_postcode,
        purchase_match,
    )
    from marketplace.providers.models import Organisation

    if not merchants:
        return []
    index, aliases = merchant_index(), MerchantAliases()
    matches = [
        purchase_match(
            merchant_name=name,
            merchant_postcode=postcode,
            merchant_category_code=mcc,
            index=index,
            aliases=aliases,
        )
        for name, postcode, mcc in merchants
    ]
    sectors = dict(
        Organisation.objects.filter(
            pk__in={match.organisation_id for match in matches if match.organisation_id}
        ).values_list("pk", "sector")
    )
    return [
        (
            number,
            name,
            postcode,
            mcc,
            match.organisation_id,
            match.category,
            match.status,
            match.confidence,
            merchant_key(name),
            normalise_postcode(postcode)[:10],
            sectors.get(match.organisation_id, "") if match.organisation_id else "",
        )
        for number, ((name, postcode, mcc), match) in enumerate(
            zip(merchants, matches, strict=True)
        )
    ]


# --- Writing it ---------------------------------------------------------------------

# Temporary tables (one connection's own; dropped at the end, or with the transaction).
LINES, CARDS, MERCHANTS = "statement_lines", "statement_cards", "statement_merchants"
_LINE_COLUMNS = {
    "line": "integer",
    "reference": "varchar(120)",
    "card_id": "bigint",
    "occurred_on": "date",
    "merchant": "integer",
    "amount_pence": "bigint",
}
_CARD_COLUMNS = {
    "card_id": "bigint",
    "budget_id": "bigint",
    "budget_holder_id": "bigint",
    "care_group": "varchar(32)",
    "postcode_district": "varchar(5)",
}
_MERCHANT_COLUMNS = {
    "merchant": "integer",
    "name": "varchar(200)",
    "postcode": "varchar(12)",
    "mcc": "varchar(4)",
    "organisation_id": "bigint",
    "category": "varchar(32)",
    "match_status": "varchar(20)",
    "match_confidence": "integer",
    "merchant_key": "varchar(200)",
    "purchase_postcode": "varchar(10)",
    "sector": "varchar(20)",
}
_LEDGER_KINDS = (AccountKind.HOLDER_FUNDS, AccountKind.CARD_CLEARING)


def statement_import(
    *, text: str, scheme_name: str, filename: str, imported_by=None
) -> StatementImport:
    """Import one statement file: every line or none.

    Guarantees: if any line is bad, ``StatementError`` lists each bad line
    with its number and reason and nothing is written; a line already
    imported (same scheme and transaction reference) is skipped, so
    importing the same file twice changes nothing the second time; each new
    line becomes one balanced ledger entry (source
    ``card_statement:<scheme>:<reference>``, unique, so a line can never be
    posted twice; imports of overlapping files at the same time queue on a
    lock and the later one skips what the earlier wrote), one card transaction and one
    purchase, and the demand rollups move by exactly those purchases, all in
    one database transaction (any failure writes nothing).
    """
    if scheme_name not in SCHEMES:
        raise StatementError([LineProblem(1, f"'{scheme_name}' is not a card scheme we know")])
    parsed = statement_parse(text=text, scheme_name=scheme_name)
    if parsed.problems:
        raise StatementError(parsed.problems)
    merchants = _merchant_rows(parsed.merchants)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Compiling these one-off statements (JIT) cost more than running them: seconds
            # for the demand rollups' aggregate at 100,000 lines.
            cursor.execute("SET LOCAL jit = off")
        _stage(cursor, parsed, merchants)
        if connection.vendor == "postgresql":
            # Imports queue here, so of two overlapping files imported at once the second
            # sees the first's lines (committed) below and skips them instead of failing.
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('budgets.statement_import'))")
        # Lines an earlier import already wrote (its card transaction is the mark).
        cursor.execute(
            f"DELETE FROM {LINES} WHERE EXISTS (SELECT 1 FROM {CardTransaction._meta.db_table} t "  # noqa: S608
            f"WHERE t.source = %s AND t.reference = {LINES}.reference)",
            [CardTransactionSource.STATEMENT],
        )
        already = max(cursor.rowcount, 0)
        record = StatementImport.objects.create(
            scheme=scheme_name,
            filename=filename[:255],
            sha256=hashlib.sha256(text.encode()).hexdigest(),
            rows_imported=len(parsed.lines) - already,
            rows_already_imported=already,
            imported_by=imported_by,
        )
        if record.rows_imported:
            _write(cursor, record)
        for table in (LINES, CARDS, MERCHANTS):
            cursor.execute(f"DROP TABLE {table}")
    return record


def _create_temporary(cursor, table: str, columns: dict[str, str], extra: str = "") -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {table}")
    definition = ", ".join(f"{name} {kind}" for name, kind in columns.items())
    cursor.execute(f"CREATE TEMPORARY TABLE {table} ({definition}{extra})")


def _load(cursor, table: str, columns, rows: list[tuple]) -> None:
    names = ", ".join(columns)
    if connection.vendor == "postgresql":
        with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    cursor.executemany(
        f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})",  # noqa: S608
        [tuple(v.isoformat() if isinstance(v, date) else v for v in row) for row in rows],
    )


def _stage(cursor, parsed: ParsedStatement, merchants: list[tuple]) -> None:
    """The file's lines, cards and merchants into temporary tables. On PostgreSQL each line
    takes its journal entry, card transaction and purchase ids from the tables' own
    sequences as it is copied in, in the file's order (lines dropped as already imported
    just leave gaps)."""
    ids = ", entry_id bigint, transaction_id bigint, purchase_id bigint"
    if connection.vendor == "postgresql":
        cursor.execute(
            "SELECT pg_get_serial_sequence(%s, 'id'), pg_get_serial_sequence(%s, 'id'), "
            "pg_get_serial_sequence(%s, 'id')",
            [
                JournalEntry._meta.db_table,
                CardTransaction._meta.db_table,
                Purchase._meta.db_table,
            ],
        )
        entry_sequence, transaction_sequence, purchase_sequence = cursor.fetchone()
        ids = (
            f", entry_id bigint DEFAULT nextval('{entry_sequence}'),"
            f" transaction_id bigint DEFAULT nextval('{transaction_sequence}'),"
            f" purchase_id bigint DEFAULT nextval('{purchase_sequence}')"
        )
    _create_temporary(cursor, LINES, _LINE_COLUMNS, ids)
    _create_temporary(cursor, CARDS, _CARD_COLUMNS)
    _create_temporary(cursor, MERCHANTS, _MERCHANT_COLUMNS)
    _load(cursor, LINES, _LINE_COLUMNS, parsed.lines)
    _load(cursor, CARDS, _CARD_COLUMNS, [(pk, *rest) for pk, rest in parsed.cards.items()])
    _load(cursor, MERCHANTS, _MERCHANT_COLUMNS, merchants)
    if connection.vendor == "postgresql":
        # Temporary tables have no statistics until analysed; the joins below need them: the
        # lines' join and grouping columns (not the references and amounts, every one
        # distinct and the slowest to analyse) and the small lookup tables whole.
        cursor.execute(f"ANALYZE {LINES} (card_id, merchant, occurred_on), {CARDS}, {MERCHANTS}")


def _write(cursor, record: StatementImport) -> None:
    """Ledger entries and postings, card transactions, purchases and demand rollups for the
    staged lines: one INSERT ... SELECT each."""
    account = Account._meta.db_table
    postgresql = connection.vendor == "postgresql"
    if not postgresql:
        # SQLite has no sequences; this transaction holds the database's write lock (it has
        # written the import record), so ids past the largest are free. Gaps are harmless.
        entry_base = reserve_ids(JournalEntry._meta.db_table, 1)[0]
        transaction_base = reserve_ids(CardTransaction._meta.db_table, 1)[0]
        purchase_base = reserve_ids(Purchase._meta.db_table, 1)[0]
        cursor.execute(
            f"UPDATE {LINES} SET entry_id = %s + line, transaction_id = %s + line, "  # noqa: S608
            "purchase_id = %s + line",
            [entry_base, transaction_base, purchase_base],
        )
    kinds = " UNION ALL ".join(f"SELECT '{kind}' AS kind" for kind in AccountKind.values)
    ledger_kinds = ", ".join(f"'{kind}'" for kind in _LEDGER_KINDS)
    # Every budget has all its accounts (as ``budgets_accounts`` makes them).
    cursor.execute(
        f"INSERT INTO {account} (budget_id, kind, balance_pence) "  # noqa: S608
        f"SELECT c.budget_id, k.kind, 0 FROM {CARDS} c CROSS JOIN ({kinds}) k WHERE NOT EXISTS "
        f"(SELECT 1 FROM {account} a WHERE a.budget_id = c.budget_id AND a.kind = k.kind) "
        "ON CONFLICT DO NOTHING"
    )
    if postgresql:
        # Lock the accounts in id order, as every ledger write does, so writers never deadlock.
        cursor.execute(
            f"SELECT id FROM {account} WHERE kind IN ({ledger_kinds}) AND budget_id IN "  # noqa: S608
            f"(SELECT budget_id FROM {CARDS}) ORDER BY id FOR UPDATE"
        )
    spend_or_refund = "CASE WHEN s.amount_pence > 0 THEN %s ELSE %s END"
    lines = (
        f"{LINES} s JOIN {CARDS} c ON c.card_id = s.card_id "
        f"JOIN {MERCHANTS} m ON m.merchant = s.merchant"
    )
    now = timezone.now()
    cursor.execute(
        f"INSERT INTO {JournalEntry._meta.db_table} "  # noqa: S608
        "(id, budget_id, kind, source_type, source_id, memo, occurred_on, posted_at) "
        f"SELECT s.entry_id, c.budget_id, {spend_or_refund}, %s, s.reference, m.name, "
        f"s.occurred_on, %s FROM {lines}",
        [EntryKind.CARD_SPEND, EntryKind.REFUND, SOURCE_TYPE, now],
    )
    # Money spent leaves the holder's funds for the card scheme's clearing account.
    cursor.execute(
        f"INSERT INTO {Posting._meta.db_table} (entry_id, account_id, amount_pence) "  # noqa: S608
        "SELECT s.entry_id, a.id, CASE WHEN a.kind = %s THEN -s.amount_pence "
        f"ELSE s.amount_pence END FROM {LINES} s JOIN {CARDS} c ON c.card_id = s.card_id "
        f"JOIN {account} a ON a.budget_id = c.budget_id AND a.kind IN ({ledger_kinds})",
        [AccountKind.HOLDER_FUNDS],
    )
    cursor.execute(
        f"UPDATE {account} SET balance_pence = balance_pence + "  # noqa: S608
        f"CASE WHEN {account}.kind = %s THEN -t.spent ELSE t.spent END "
        f"FROM (SELECT c.budget_id, SUM(s.amount_pence) AS spent FROM {LINES} s "
        f"JOIN {CARDS} c ON c.card_id = s.card_id GROUP BY c.budget_id) t "
        f"WHERE {account}.budget_id = t.budget_id AND {account}.kind IN ({ledger_kinds})",
        [AccountKind.HOLDER_FUNDS],
    )
    # Entries, card transactions and purchases carry their ids from staging (no sort).
    cursor.execute(
        f"INSERT INTO {CardTransaction._meta.db_table} (id, source, reference, budget_id, "  # noqa: S608
        "card_id, stripe_authorization_id, type, amount_pence, merchant_name, "
        "merchant_category_code, merchant_postcode, merchant_id, occurred_on, held, entry_id, "
        f"statement_import_id, created_at) SELECT s.transaction_id, %s, s.reference, "
        f"c.budget_id, s.card_id, '', {spend_or_refund}, s.amount_pence, m.name, m.mcc, "
        f"m.postcode, '', s.occurred_on, %s, s.entry_id, %s, %s FROM {lines}",
        [
            CardTransactionSource.STATEMENT,
            CardTransactionType.CAPTURE,
            CardTransactionType.REFUND,
            False,
            record.pk,
            now,
        ],
    )
    cursor.execute(
        f"INSERT INTO {Purchase._meta.db_table} (id, budget_holder_id, organisation_id, "  # noqa: S608
        "category, amount_pence, occurred_on, channel, source_reference, merchant_name, "
        "merchant_category_code, merchant_key, merchant_postcode, stripe_merchant_id, "
        "match_status, match_confidence, care_group, postcode_district, sector, created_at) "
        "SELECT s.purchase_id, c.budget_holder_id, m.organisation_id, m.category, "
        "s.amount_pence, s.occurred_on, %s, 'statement:' || s.reference, m.name, m.mcc, "
        "m.merchant_key, m.purchase_postcode, '', m.match_status, m.match_confidence, "
        f"c.care_group, c.postcode_district, m.sector, %s FROM {lines}",
        [Channel.CARD_STATEMENT, now],
    )
    # The purchases just written, read back from the staging tables they were made from.
    demand_rollups_apply_sql(
        purchases_sql=(
            "SELECT s.purchase_id AS id, c.budget_holder_id, m.organisation_id, m.category, "  # noqa: S608
            "s.amount_pence, s.occurred_on, %s AS channel, c.care_group, c.postcode_district, "
            f"m.sector FROM {lines}"
        ),
        params=[Channel.CARD_STATEMENT],
        sign=1,
    )
