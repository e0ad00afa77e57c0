"""Import card statements exported by prepaid card schemes: all or nothing, once per line."""

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction

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
from .ledger import PlannedEntry, budget_accounts, ledger_post_many


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


def _amount(row: dict, scheme: StatementScheme) -> int:
    """Money spent in pence: positive for a payment, negative for a refund."""
    cols = scheme.columns
    if scheme.amount_style == "debit_credit":
        debit, credit = (
            (row.get(cols["debit"]) or "").strip(),
            (row.get(cols["credit"]) or "").strip(),
        )
        if debit and credit:
            raise ValueError("has both a debit and a credit")
        if not debit and not credit:
            raise ValueError("has no amount")
        return _pence(debit) if debit else -_pence(credit)
    pence = _pence(row.get(cols["amount"]) or "")
    if scheme.amount_style == "spend_negative":
        return -pence
    if scheme.amount_style == "direction":
        direction = (row.get(cols["direction"]) or "").strip().upper()
        if direction not in ("D", "C"):
            raise ValueError("has a debit/credit marker that is not D or C")
        return abs(pence) if direction == "D" else -abs(pence)
    return pence


def statement_parse(*, text: str, scheme_name: str) -> tuple[list[_Line], list[LineProblem]]:
    """Read every line; returns the good lines and a problem for each bad one (line numbers
    count the header as line 1, as a spreadsheet shows them)."""
    scheme = SCHEMES[scheme_name]
    reader = csv.DictReader(io.StringIO(text))
    headers = set(reader.fieldnames or [])
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
    cols = scheme.columns
    cards = {
        card.reference: card
        for card in Card.objects.filter(scheme=scheme_name).select_related("budget__budget_holder")
    }
    lines, problems, seen = [], [], set()
    for number, row in enumerate(reader, start=2):
        if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
            continue
        reference = (row.get(cols["reference"]) or "").strip()
        card_reference = (row.get(cols["card_reference"]) or "").strip()
        merchant = (row.get(cols["merchant_name"]) or "").strip()
        mcc = (row.get(cols.get("mcc", "")) or "").strip() if cols.get("mcc") else ""
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
        try:
            occurred_on = _parse_date(row.get(cols["date"]) or "", scheme.date_formats)
        except ValueError:
            problems.append(
                LineProblem(number, f"the date '{row.get(cols['date']) or ''}' is not a date")
            )
            continue
        try:
            pence = _amount(row, scheme)
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
                merchant_postcode=(row.get(cols.get("merchant_postcode", "")) or "").strip()[:12]
                if cols.get("merchant_postcode")
                else "",
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
        keys = [line.key for line in lines]
        already = set()
        for start in range(0, len(keys), 5000):
            already.update(
                CardTransaction.objects.filter(
                    source=CardTransactionSource.STATEMENT, reference__in=keys[start : start + 5000]
                ).values_list("reference", flat=True)
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
    accounts = {}
    planned = []
    for line in lines:
        budget = line.card.budget
        if budget.pk not in accounts:
            accounts[budget.pk] = budget_accounts(budget=budget)
        funds = accounts[budget.pk][AccountKind.HOLDER_FUNDS]
        clearing = accounts[budget.pk][AccountKind.CARD_CLEARING]
        spend = line.pence > 0
        planned.append(
            PlannedEntry(
                kind=EntryKind.CARD_SPEND if spend else EntryKind.REFUND,
                source_type="card_statement",
                source_id=line.key,
                lines=[(funds, -line.pence), (clearing, line.pence)],
                occurred_on=line.occurred_on,
                memo=line.merchant_name,
            )
        )
    posted = ledger_post_many(planned=planned)
    entry_by_key = {item.source_id: item.entry for item in posted}
    from django.utils import timezone

    from .bulk import insert_rows

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
                entry_by_key[line.key].pk,
                record.pk,
                now,
            )
            for line in lines
        ],
    )
    purchases = _purchases(lines)
    Purchase.objects.bulk_create(purchases, batch_size=2000)
    from commissioning.demand.services import demand_rollups_apply

    demand_rollups_apply(purchases=purchases, sign=1)


def _purchases(lines: list[_Line]) -> list[Purchase]:
    """The purchases, matched to directory providers once per distinct merchant (as
    ``purchase_record`` would match each one), so a long statement stays fast."""
    from marketplace.payments.matching import (
        merchant_index,
        merchant_key,
        merchant_match,
        normalise_postcode,
    )
    from marketplace.providers.models import Organisation

    index = merchant_index()
    matches: dict[tuple[str, str, str], tuple] = {}
    organisations: dict[int, Organisation] = {}
    purchases = []
    for line in lines:
        merchant = (line.merchant_name, line.merchant_postcode, line.mcc)
        if merchant not in matches:
            result = merchant_match(
                merchant_name=line.merchant_name,
                merchant_postcode=line.merchant_postcode,
                merchant_category_code=line.mcc,
                index=index,
            )
            if result.organisation_id is not None and result.organisation_id not in organisations:
                organisations[result.organisation_id] = Organisation.objects.get(
                    pk=result.organisation_id
                )
            matches[merchant] = (
                organisations.get(result.organisation_id) if result.organisation_id else None,
                result.confidence,
                result.category if result.organisation_id else category_for_mcc(line.mcc),
                merchant_key(line.merchant_name),
                normalise_postcode(line.merchant_postcode)[:10],
            )
        organisation, confidence, category, key, postcode = matches[merchant]
        holder = line.card.budget.budget_holder
        if organisation is not None:
            status = MatchStatus.MATCHED
        elif line.mcc:
            status = MatchStatus.CATEGORY_ONLY
        else:
            status = MatchStatus.UNMATCHED
        purchases.append(
            Purchase(
                budget_holder=holder,
                organisation=organisation,
                category=category,
                amount_pence=line.pence,
                occurred_on=line.occurred_on,
                channel=Channel.CARD_STATEMENT,
                source_reference=f"statement:{line.key}",
                merchant_name=line.merchant_name,
                merchant_category_code=line.mcc,
                merchant_key=key,
                merchant_postcode=postcode,
                match_status=status,
                match_confidence=confidence,
                care_group=holder.care_group,
                postcode_district=holder.postcode_district,
                sector=organisation.sector if organisation is not None else "",
            )
        )
    return purchases
