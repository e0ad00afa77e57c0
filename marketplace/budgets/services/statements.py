"""Import card statements exported by prepaid card schemes: all or nothing, once per line."""

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from commissioning.demand.services import demand_rollups_apply
from marketplace.payments.mcc import category_for_mcc
from marketplace.payments.models import Channel, MatchStatus, Purchase

from ..models import (
    AccountKind,
    Card,
    CardTransaction,
    CardTransactionSource,
    CardTransactionType,
    EntryKind,
    StatementImport,
)
from ..statement_schemes import SCHEMES, StatementScheme
from .bulk import existing_values, insert_rows, reserve_ids
from .ledger import LedgerError, PlannedEntry, budgets_accounts, ledger_post_many


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


@dataclass
class _Line:
    number: int
    key: str
    card: Card
    occurred_on: date
    merchant_name: str
    merchant_postcode: str
    mcc: str
    pence: int


def _pence(text: str) -> int:
    value = Decimal(text.replace("£", "").replace(",", "").strip())
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


def _amount(row: list[str], at: dict[str, int | None], scheme: StatementScheme) -> int:
    """Money spent in pence: positive for a payment, negative for a refund."""

    def cell(field: str) -> str:
        index = at.get(field)
        return row[index] if index is not None and index < len(row) else ""

    if scheme.amount_style == "debit_credit":
        debit, credit = cell("debit").strip(), cell("credit").strip()
        if debit and credit:
            raise ValueError("has both a debit and a credit")
        if not debit and not credit:
            raise ValueError("has no amount")
        return _pence(debit) if debit else -_pence(credit)
    pence = _pence(cell("amount"))
    if scheme.amount_style == "spend_negative":
        return -pence
    if scheme.amount_style == "direction":
        direction = cell("direction").strip().upper()
        if direction not in ("D", "C"):
            raise ValueError("has a debit/credit marker that is not D or C")
        return abs(pence) if direction == "D" else -abs(pence)
    return pence


def statement_parse(*, text: str, scheme_name: str) -> tuple[list[_Line], list[LineProblem]]:
    """Read every line; returns the good lines and a problem for each bad one (line numbers
    count the header as line 1, as a spreadsheet shows them)."""
    scheme = SCHEMES[scheme_name]
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
        return [], [LineProblem(1, f"the header is missing the column(s): {', '.join(missing)}")]
    # As csv.DictReader reads it: the last column of a repeated name wins.
    position = {name: index for index, name in enumerate(header)}
    at = {field: position.get(column) for field, column in scheme.columns.items()}
    cards = {
        card.reference: card
        for card in Card.objects.filter(scheme=scheme_name).select_related("budget__budget_holder")
    }
    dates: dict[str, date | None] = {}  # a statement has few distinct dates: read each once

    def cell(row: list[str], field: str) -> str:
        index = at.get(field)
        return row[index] if index is not None and index < len(row) else ""

    lines, problems, seen = [], [], set()
    # Blank rows count too, as a spreadsheet numbers them.
    for number, row in enumerate(reader, start=2):
        if not row or not any(value.strip() for value in row):
            continue
        reference = cell(row, "reference").strip()
        card_reference = cell(row, "card_reference").strip()
        merchant = cell(row, "merchant_name").strip()
        mcc = cell(row, "mcc").strip()
        if not reference:
            problems.append(LineProblem(number, "the transaction reference is empty"))
            continue
        if reference in seen:
            problems.append(
                LineProblem(number, f"transaction {reference} appears twice in this file")
            )
            continue
        seen.add(reference)
        card = cards.get(card_reference)
        if card is None:
            problems.append(
                LineProblem(number, f"card {card_reference or '(empty)'} is not on any budget")
            )
            continue
        date_text = cell(row, "date")
        if date_text not in dates:
            try:
                dates[date_text] = _parse_date(date_text, scheme.date_formats)
            except ValueError:
                dates[date_text] = None
        occurred_on = dates[date_text]
        if occurred_on is None:
            problems.append(LineProblem(number, f"the date '{date_text}' is not a date"))
            continue
        try:
            pence = _amount(row, at, scheme)
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
        if mcc and (len(mcc) != 4 or not mcc.isdigit()):
            problems.append(
                LineProblem(number, f"the merchant category code '{mcc}' is not 4 digits")
            )
            continue
        if not merchant:
            problems.append(LineProblem(number, "the merchant name is empty"))
            continue
        lines.append(
            _Line(
                number=number,
                key=f"{scheme_name}:{reference}",
                card=card,
                occurred_on=occurred_on,
                merchant_name=merchant[:200],
                merchant_postcode=cell(row, "merchant_postcode").strip()[:12],
                mcc=mcc,
                pence=pence,
            )
        )
    return lines, problems


def statement_import(
    *, text: str, scheme_name: str, filename: str, imported_by=None
) -> StatementImport:
    """Import one statement file: every line or none.

    Guarantees: if any line is bad, ``StatementError`` lists each bad line
    with its number and reason and nothing is written; a line already
    imported (same scheme and transaction reference) is skipped, so
    importing the same file twice changes nothing the second time; each
    line becomes one ledger entry, one card transaction and one purchase,
    written with bulk inserts in one database transaction.
    """
    if scheme_name not in SCHEMES:
        raise StatementError([LineProblem(1, f"'{scheme_name}' is not a card scheme we know")])
    lines, problems = statement_parse(text=text, scheme_name=scheme_name)
    if problems:
        raise StatementError(problems)
    with transaction.atomic():
        # One query for the lines an earlier import already wrote.
        already = existing_values(
            CardTransaction._meta.db_table,
            "reference",
            [line.key for line in lines],
            where='"source" = %s',
            params=[CardTransactionSource.STATEMENT],
        )
        new = [line for line in lines if line.key not in already]
        record = StatementImport.objects.create(
            scheme=scheme_name,
            filename=filename[:255],
            sha256=hashlib.sha256(text.encode()).hexdigest(),
            rows_imported=len(new),
            rows_already_imported=len(already),
            imported_by=imported_by,
        )
        if new:
            _write(new, record)
    return record


def _write(lines: list[_Line], record: StatementImport) -> None:
    """Ledger entries, card transactions and purchases for new lines, each table written in
    bulk (COPY on PostgreSQL), then the demand rollups once for the whole batch."""
    accounts = budgets_accounts(budget_ids={line.card.budget_id for line in lines})
    planned = []
    for line in lines:
        budget_accounts = accounts[line.card.budget_id]
        planned.append(
            PlannedEntry(
                kind=EntryKind.CARD_SPEND if line.pence > 0 else EntryKind.REFUND,
                source_type="card_statement",
                source_id=line.key,
                lines=[
                    (budget_accounts[AccountKind.HOLDER_FUNDS], -line.pence),
                    (budget_accounts[AccountKind.CARD_CLEARING], line.pence),
                ],
                occurred_on=line.occurred_on,
                memo=line.merchant_name,
            )
        )
    # Every line is new (checked above, under this transaction), so each entry is posted;
    # a concurrent import of the same lines fails on the unique keys and writes nothing.
    posted = ledger_post_many(planned=planned, known_new=True)
    if len(posted) != len(planned):
        raise LedgerError("Some statement lines are in the ledger without a card transaction.")
    now = timezone.now()
    insert_rows(
        CardTransaction._meta.db_table,
        [
            "source",
            "reference",
            "budget_id",
            "card_id",
            "stripe_authorization_id",
            "type",
            "amount_pence",
            "merchant_name",
            "merchant_category_code",
            "merchant_postcode",
            "merchant_id",
            "occurred_on",
            "held",
            "entry_id",
            "statement_import_id",
            "created_at",
        ],
        [
            (
                CardTransactionSource.STATEMENT,
                line.key,
                line.card.budget_id,
                line.card.pk,
                "",
                CardTransactionType.CAPTURE if line.pence > 0 else CardTransactionType.REFUND,
                line.pence,
                line.merchant_name,
                line.mcc,
                line.merchant_postcode,
                "",
                line.occurred_on,
                False,
                item.entry_id,
                record.pk,
                now,
            )
            for line, item in zip(lines, posted, strict=True)
        ],
    )
    rows = _purchase_rows(lines, now)
    insert_rows(Purchase._meta.db_table, _PURCHASE_COLUMNS, rows)
    purchases = []
    for row in rows:
        purchase = Purchase(*row)
        purchase._state.adding = False
        purchases.append(purchase)
    demand_rollups_apply(purchases=purchases, sign=1)


# Every column, in the model's field order (so a row also builds the instance positionally).
_PURCHASE_COLUMNS = [field.attname for field in Purchase._meta.concrete_fields]


def _purchase_rows(lines: list[_Line], now) -> list[tuple]:
    """The purchases as rows of ``_PURCHASE_COLUMNS`` (ids reserved), matched to directory providers once per
    distinct merchant (as ``purchase_record`` would match each one)."""
    from marketplace.payments.matching import (
        merchant_index,
        merchant_key,
        merchant_match,
        normalise_postcode,
    )
    from marketplace.providers.models import Organisation

    index = merchant_index()
    matches: dict[tuple[str, str, str], tuple] = {}
    for line in lines:
        merchant = (line.merchant_name, line.merchant_postcode, line.mcc)
        if merchant not in matches:
            result = merchant_match(
                merchant_name=line.merchant_name,
                merchant_postcode=line.merchant_postcode,
                merchant_category_code=line.mcc,
                index=index,
            )
            if result.organisation_id is not None:
                status = MatchStatus.MATCHED
            elif line.mcc:
                status = MatchStatus.CATEGORY_ONLY
            else:
                status = MatchStatus.UNMATCHED
            matches[merchant] = (
                result.organisation_id,
                result.confidence,
                result.category if result.organisation_id else category_for_mcc(line.mcc),
                merchant_key(line.merchant_name),
                normalise_postcode(line.merchant_postcode)[:10],
                status,
            )
    sectors = dict(
        Organisation.objects.filter(
            pk__in={match[0] for match in matches.values() if match[0] is not None}
        ).values_list("pk", "sector")
    )
    ids = reserve_ids(Purchase._meta.db_table, len(lines))
    values = {
        "channel": Channel.CARD_STATEMENT,
        "stripe_merchant_id": "",
        "created_at": now,
    }
    rows = []
    for line, pk in zip(lines, ids, strict=True):
        organisation_id, confidence, category, key, postcode, status = matches[
            (line.merchant_name, line.merchant_postcode, line.mcc)
        ]
        holder = line.card.budget.budget_holder
        values.update(
            id=pk,
            budget_holder_id=holder.pk,
            organisation_id=organisation_id,
            category=category,
            amount_pence=line.pence,
            occurred_on=line.occurred_on,
            source_reference=f"statement:{line.key}",
            merchant_name=line.merchant_name,
            merchant_category_code=line.mcc,
            merchant_key=key,
            merchant_postcode=postcode,
            match_status=status,
            match_confidence=confidence,
            care_group=holder.care_group,
            postcode_district=holder.postcode_district,
            sector=sectors.get(organisation_id, "") if organisation_id is not None else "",
        )
        rows.append(tuple(values[column] for column in _PURCHASE_COLUMNS))
    return rows
