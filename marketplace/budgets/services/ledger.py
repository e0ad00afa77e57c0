"""The double-entry ledger: every movement of budget money, in integer pence."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.db.models import F, Sum

from ..models import Account, AccountKind, EntryKind, JournalEntry, PersonalBudget, Posting


class LedgerError(ValueError):
    """A posting that would break the ledger's rules; nothing was written."""


Line = tuple[Account, int]


def budget_accounts(*, budget: PersonalBudget) -> dict[str, Account]:
    """The budget's ledger accounts by kind, creating any that do not exist yet."""
    accounts = {account.kind: account for account in Account.objects.filter(budget=budget)}
    missing = [kind for kind in AccountKind.values if kind not in accounts]
    if missing:
        Account.objects.bulk_create(
            [Account(budget=budget, kind=kind) for kind in missing], ignore_conflicts=True
        )
        accounts = {account.kind: account for account in Account.objects.filter(budget=budget)}
    return accounts


def budgets_accounts(*, budget_ids: Iterable[int]) -> dict[int, dict[str, Account]]:
    """``budget_accounts`` for many budgets in two or three queries: budget id -> kind -> account."""
    budget_ids = sorted(set(budget_ids))

    def read() -> dict[int, dict[str, Account]]:
        found: dict[int, dict[str, Account]] = {pk: {} for pk in budget_ids}
        for start in range(0, len(budget_ids), 900):
            for account in Account.objects.filter(budget_id__in=budget_ids[start : start + 900]):
                found[account.budget_id][account.kind] = account
        return found

    found = read()
    missing = [
        Account(budget_id=pk, kind=kind)
        for pk, accounts in found.items()
        for kind in AccountKind.values
        if kind not in accounts
    ]
    if missing:
        Account.objects.bulk_create(missing, ignore_conflicts=True, batch_size=1000)
        found = read()
    return found


def _check_lines(lines: Sequence[Line]) -> int:
    if len(lines) < 2:
        raise LedgerError("A journal entry needs at least two lines.")
    if any(not isinstance(pence, int) or isinstance(pence, bool) for _, pence in lines):
        raise LedgerError("Amounts are whole pence.")
    if any(pence == 0 for _, pence in lines):
        raise LedgerError("A line cannot be zero.")
    if sum(pence for _, pence in lines) != 0:
        raise LedgerError("The lines of a journal entry must add up to zero.")
    budget_ids = {account.budget_id for account, _ in lines}
    if len(budget_ids) != 1:
        raise LedgerError("All lines of a journal entry belong to one budget.")
    return budget_ids.pop()


def ledger_post(
    *,
    kind: EntryKind,
    source_type: str,
    source_id: str,
    lines: Sequence[Line],
    memo: str = "",
    occurred_on: date,
    reverses: JournalEntry | None = None,
) -> tuple[JournalEntry, bool]:
    """Post one balanced journal entry exactly once; returns ``(entry, created)``.

    Guarantees: the lines sum to zero (else ``LedgerError`` and nothing is
    written); the same ``(source_type, source_id, kind)`` posted again, even
    concurrently, returns the first entry and changes nothing; each account's
    cached balance moves in the same transaction, under a row lock, so it
    always equals the sum of its postings.
    """
    budget_id = _check_lines(lines)
    source_id = str(source_id)
    with transaction.atomic():
        existing = JournalEntry.objects.filter(
            source_type=source_type, source_id=source_id, kind=kind
        ).first()
        if existing is not None:
            return existing, False
        # Lock in primary-key order so concurrent postings never deadlock.
        account_ids = sorted({account.pk for account, _ in lines})
        list(Account.objects.select_for_update().filter(pk__in=account_ids).order_by("pk"))
        entry = JournalEntry(
            budget_id=budget_id,
            kind=kind,
            source_type=source_type,
            source_id=source_id,
            memo=memo[:300],
            occurred_on=occurred_on,
            reverses=reverses,
        )
        try:
            with transaction.atomic():
                entry.save()
        except IntegrityError:
            # Another process posted the same source a moment ago; any other broken rule
            # (an entry reversed twice) is the caller's error.
            existing = JournalEntry.objects.filter(
                source_type=source_type, source_id=source_id, kind=kind
            ).first()
            if existing is None:
                raise
            return existing, False
        Posting.objects.bulk_create(
            [Posting(entry=entry, account=account, amount_pence=pence) for account, pence in lines]
        )
        _move_cached_balances(lines)
    return entry, True


def _move_cached_balances(lines: Iterable[Line]) -> None:
    deltas: dict[int, int] = defaultdict(int)
    for account, pence in lines:
        deltas[account.pk] += pence
    for account_id, delta in deltas.items():
        if delta:
            Account.objects.filter(pk=account_id).update(balance_pence=F("balance_pence") + delta)


def ledger_reverse(
    *, entry: JournalEntry, memo: str = "", occurred_on: date
) -> tuple[JournalEntry, bool]:
    """Undo ``entry`` with an equal and opposite entry, once; the original stays as it was."""
    lines = [
        (posting.account, -posting.amount_pence)
        for posting in entry.postings.select_related("account")
    ]
    return ledger_post(
        kind=EntryKind.REVERSAL,
        source_type="journal_entry",
        source_id=str(entry.pk),
        lines=lines,
        memo=memo or f"Correction of {entry.get_kind_display().lower()}",
        occurred_on=occurred_on,
        reverses=entry,
    )


@dataclass
class PlannedEntry:
    """One entry for ``ledger_post_many``."""

    kind: str
    source_type: str
    source_id: str
    lines: list[Line]
    occurred_on: date
    memo: str = ""
    entry_id: int | None = field(default=None, repr=False)
    posted_at: datetime | None = field(default=None, repr=False)

    @property
    def entry(self) -> JournalEntry | None:
        """The posted entry (built on first use, without a query), or None before posting."""
        if self.entry_id is None:
            return None
        entry = JournalEntry(
            pk=self.entry_id,
            budget_id=self.lines[0][0].budget_id,
            kind=self.kind,
            source_type=self.source_type,
            source_id=str(self.source_id),
            memo=self.memo[:300],
            occurred_on=self.occurred_on,
            posted_at=self.posted_at,
        )
        entry._state.adding = False
        return entry


def ledger_post_many(
    *, planned: Sequence[PlannedEntry], batch_size: int = 2000, known_new: bool = False
) -> list[PlannedEntry]:
    """Post many balanced entries with bulk inserts; for imports and demo data.

    The same guarantees as ``ledger_post`` (balanced, once per source, cached
    balances moved in the same transaction) for callers that hold the only
    writer, e.g. a statement import under its own lock. Entries whose source
    was already posted are skipped; returns the ones posted, with ``entry`` set.
    ``known_new=True`` skips that check for a caller that has just made sure no source was
    posted (in this transaction); a source posted after all still cannot be posted twice:
    the unique key fails the insert and the caller's transaction writes nothing.
    """
    for item in planned:
        _check_lines(item.lines)
    with transaction.atomic():
        keys = {(item.source_type, str(item.source_id), item.kind) for item in planned}
        if len(keys) != len(planned):
            raise LedgerError("The same source appears twice in one batch.")
        existing = set() if known_new else _existing_keys(keys)
        todo = [
            item
            for item in planned
            if (item.source_type, str(item.source_id), item.kind) not in existing
        ]
        if not todo:
            return []
        account_ids = sorted({account.pk for item in todo for account, _ in item.lines})
        list(Account.objects.select_for_update().filter(pk__in=account_ids).order_by("pk"))
        # Append-only rows written in bulk (COPY on PostgreSQL); ids reserved first
        # so postings can point at their entries.
        from django.utils import timezone

        from .bulk import add_to_balances, insert_rows, reserve_ids

        entry_ids = reserve_ids(JournalEntry._meta.db_table, len(todo))
        posted_at = timezone.now()
        entry_rows, posting_rows = [], []
        deltas: dict[int, int] = defaultdict(int)
        for item, entry_id in zip(todo, entry_ids, strict=True):
            budget_id = item.lines[0][0].budget_id
            entry_rows.append(
                (
                    entry_id,
                    budget_id,
                    item.kind,
                    item.source_type,
                    str(item.source_id),
                    item.memo[:300],
                    item.occurred_on,
                    posted_at,
                )
            )
            item.entry_id, item.posted_at = entry_id, posted_at
            for account, pence in item.lines:
                posting_rows.append((entry_id, account.pk, pence))
                deltas[account.pk] += pence
        insert_rows(
            JournalEntry._meta.db_table,
            [
                "id",
                "budget_id",
                "kind",
                "source_type",
                "source_id",
                "memo",
                "occurred_on",
                "posted_at",
            ],
            entry_rows,
        )
        insert_rows(
            Posting._meta.db_table, ["entry_id", "account_id", "amount_pence"], posting_rows
        )
        add_to_balances(deltas)
    return todo


def _existing_keys(keys: set[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
    from .bulk import existing_values

    by_type: dict[tuple[str, str], list[str]] = defaultdict(list)
    for source_type, source_id, kind in keys:
        by_type[(source_type, kind)].append(source_id)
    found = set()
    for (source_type, kind), ids in by_type.items():
        found.update(
            (source_type, source_id, kind)
            for source_id in existing_values(
                JournalEntry._meta.db_table,
                "source_id",
                ids,
                where='"source_type" = %s AND "kind" = %s',
                params=[source_type, kind],
            )
        )
    return found


def ledger_check() -> list[str]:
    """Every way the ledger disagrees with itself, in plain words; empty when it is sound."""
    problems = []
    unbalanced = (
        Posting.objects.values("entry_id").annotate(total=Sum("amount_pence")).exclude(total=0)
    )
    for row in unbalanced[:100]:
        problems.append(
            f"Journal entry {row['entry_id']} does not balance (off by {row['total']}p)."
        )
    sums = dict(
        Posting.objects.values("account_id")
        .annotate(total=Sum("amount_pence"))
        .values_list("account_id", "total")
    )
    for account_id, cached in Account.objects.values_list("pk", "balance_pence"):
        if cached != sums.get(account_id, 0):
            problems.append(
                f"Account {account_id} shows {cached}p but its postings add up to {sums.get(account_id, 0)}p."
            )
    return problems
