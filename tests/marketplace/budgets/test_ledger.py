"""The ledger's invariants: nothing created or lost, balances are sums, nothing posted twice."""

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from django.db import IntegrityError, connection, transaction
from django.db.models import Sum

from marketplace.budgets.models import (
    Account,
    AccountKind,
    EntryKind,
    JournalEntry,
    Posting,
)
from marketplace.budgets.services import (
    LedgerError,
    PlannedEntry,
    budget_accounts,
    budget_clawback_post,
    budget_loads_post_due,
    ledger_check,
    ledger_post,
    ledger_post_many,
    ledger_reverse,
)

from .factories import make_budget

pytestmark = pytest.mark.django_db
DAY = date(2025, 6, 1)


def _sum_of_postings(account):
    return (
        Posting.objects.filter(account=account).aggregate(total=Sum("amount_pence"))["total"] or 0
    )


def _funds(budget):
    return Account.objects.get(budget=budget, kind=AccountKind.HOLDER_FUNDS)


def test_a_load_moves_money_from_council_funding_to_the_holder():
    budget = make_budget()
    accounts = budget_accounts(budget=budget)
    entry, created = ledger_post(
        kind=EntryKind.LOAD,
        source_type="budget_load",
        source_id="1",
        lines=[
            (accounts[AccountKind.COUNCIL_FUNDING], -5000),
            (accounts[AccountKind.HOLDER_FUNDS], 5000),
        ],
        occurred_on=DAY,
    )
    assert created
    assert _funds(budget).balance_pence == 5000
    assert Account.objects.get(pk=accounts[AccountKind.COUNCIL_FUNDING].pk).balance_pence == -5000
    assert entry.postings.aggregate(total=Sum("amount_pence"))["total"] == 0


def test_unbalanced_lines_are_refused_and_nothing_is_written():
    budget = make_budget()
    accounts = budget_accounts(budget=budget)
    with pytest.raises(LedgerError, match="add up to zero"):
        ledger_post(
            kind=EntryKind.LOAD,
            source_type="budget_load",
            source_id="x",
            lines=[
                (accounts[AccountKind.COUNCIL_FUNDING], -5000),
                (accounts[AccountKind.HOLDER_FUNDS], 4999),
            ],
            occurred_on=DAY,
        )
    assert not JournalEntry.objects.exists()
    assert _funds(budget).balance_pence == 0


def test_lines_across_two_budgets_are_refused():
    first, second = make_budget(), make_budget()
    with pytest.raises(LedgerError, match="one budget"):
        ledger_post(
            kind=EntryKind.LOAD,
            source_type="budget_load",
            source_id="x",
            lines=[
                (budget_accounts(budget=first)[AccountKind.COUNCIL_FUNDING], -1),
                (budget_accounts(budget=second)[AccountKind.HOLDER_FUNDS], 1),
            ],
            occurred_on=DAY,
        )


def test_entries_and_postings_cannot_be_changed_or_deleted():
    budget = make_budget()
    budget_loads_post_due(on=date(2025, 4, 1))
    entry = JournalEntry.objects.get()
    entry.memo = "changed"
    with pytest.raises(ValueError, match="cannot be changed"):
        entry.save()
    with pytest.raises(ValueError, match="cannot be deleted"):
        entry.delete()
    with pytest.raises(ValueError):
        JournalEntry.objects.filter(pk=entry.pk).update(memo="changed")
    with pytest.raises(ValueError):
        Posting.objects.filter(entry=entry).delete()
    assert _funds(budget).balance_pence == budget.load_amount_pence


def test_the_database_refuses_raw_updates_to_postings():
    make_budget()
    budget_loads_post_due(on=date(2025, 4, 1))
    from django.db import DatabaseError

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE budgets_posting SET amount_pence = 1")


def test_loads_are_paid_in_once_even_when_run_twice():
    budget = make_budget()
    assert budget_loads_post_due(on=date(2025, 5, 1)) == 2  # 1 April and 29 April
    assert budget_loads_post_due(on=date(2025, 5, 1)) == 0
    assert _funds(budget).balance_pence == 2 * 100_000
    loads = list(budget.loads.all())
    assert len(loads) == 14  # every 4 weeks from 1 April; the last covers only 31 March
    assert loads[0].amount_pence == 100_000
    assert loads[-1].amount_pence == 1_300_000 // 364  # one day, pro rata


def test_reversal_restores_balances_and_keeps_the_original():
    budget = make_budget()
    budget_loads_post_due(on=date(2025, 4, 1))
    original = JournalEntry.objects.get()
    reversal, created = ledger_reverse(entry=original, occurred_on=DAY)
    again, created_again = ledger_reverse(entry=original, occurred_on=DAY)
    assert created and not created_again and again == reversal
    assert _funds(budget).balance_pence == 0
    assert JournalEntry.objects.count() == 2
    assert original.reversed_by == reversal


def test_an_entry_is_reversed_at_most_once_even_past_the_service():
    budget = make_budget()
    budget_loads_post_due(on=date(2025, 4, 1))
    original = JournalEntry.objects.get()
    assert original.reversed_by is None
    ledger_reverse(entry=original, occurred_on=DAY)
    accounts = budget_accounts(budget=budget)
    funds, council = accounts[AccountKind.HOLDER_FUNDS], accounts[AccountKind.COUNCIL_FUNDING]
    # A second reversal under another source would pass the once-per-source key; the
    # partial unique constraint on ``reverses`` still refuses it.
    with pytest.raises(IntegrityError), transaction.atomic():
        ledger_post(
            kind=EntryKind.REVERSAL,
            source_type="manual_correction",
            source_id="again",
            lines=[(funds, -1), (council, 1)],
            occurred_on=DAY,
            reverses=original,
        )
    assert original.reversals.count() == 1


def test_clawback_cannot_recover_more_than_is_left():
    budget = make_budget()
    budget_loads_post_due(on=date(2025, 4, 1))
    with pytest.raises(ValueError, match="more than the money left"):
        budget_clawback_post(
            budget=budget, amount_pence=100_001, source_type="case", source_id="1", occurred_on=DAY
        )
    budget_clawback_post(
        budget=budget, amount_pence=40_000, source_type="case", source_id="1", occurred_on=DAY
    )
    budget_clawback_post(
        budget=budget, amount_pence=40_000, source_type="case", source_id="1", occurred_on=DAY
    )
    assert _funds(budget).balance_pence == 60_000
    assert Account.objects.get(budget=budget, kind=AccountKind.RECOVERED).balance_pence == 40_000


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["load", "spend", "refund", "clawback", "reverse", "repeat"]),
        st.integers(min_value=1, max_value=500_000),
    ),
    min_size=1,
    max_size=25,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operations=OPERATIONS)
def test_random_sequences_keep_the_ledger_sound(operations):
    """Loads, spends, refunds, clawbacks, reversals and repeats in any order: no money made or lost."""
    with transaction.atomic():
        budget = make_budget()
        accounts = budget_accounts(budget=budget)
        funds, council = accounts[AccountKind.HOLDER_FUNDS], accounts[AccountKind.COUNCIL_FUNDING]
        clearing, recovered = accounts[AccountKind.CARD_CLEARING], accounts[AccountKind.RECOVERED]
        expected_funds = 0
        posted = []
        last_call = None
        for number, (operation, pence) in enumerate(operations):
            if operation == "repeat" and last_call is not None:
                _, created = ledger_post(**last_call)
                assert not created
                continue
            call = None
            if operation == "load":
                call = {"kind": EntryKind.LOAD, "lines": [(council, -pence), (funds, pence)]}
                expected_funds += pence
            elif operation == "spend":
                call = {"kind": EntryKind.CARD_SPEND, "lines": [(funds, -pence), (clearing, pence)]}
                expected_funds -= pence
            elif operation == "refund":
                call = {"kind": EntryKind.REFUND, "lines": [(clearing, -pence), (funds, pence)]}
                expected_funds += pence
            elif operation == "clawback":
                call = {"kind": EntryKind.CLAWBACK, "lines": [(funds, -pence), (recovered, pence)]}
                expected_funds -= pence
            elif operation == "reverse" and posted:
                target = posted.pop(0)
                ledger_reverse(entry=target, occurred_on=DAY)
                expected_funds -= sum(
                    p.amount_pence for p in target.postings.all() if p.account_id == funds.pk
                )
            if call is not None:
                call.update(source_type="test", source_id=str(number), occurred_on=DAY)
                entry, created = ledger_post(**call)
                assert created
                posted.append(entry)
                last_call = call
        # Nothing created or lost: all postings of this budget sum to zero.
        assert (
            Posting.objects.filter(account__budget=budget).aggregate(total=Sum("amount_pence"))[
                "total"
            ]
            or 0
        ) == 0
        # Each entry balances; each cached balance equals the sum of its postings.
        for account in Account.objects.filter(budget=budget):
            assert account.balance_pence == _sum_of_postings(account)
        assert _funds(budget).balance_pence == expected_funds
        assert ledger_check() == []
        transaction.set_rollback(True)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(amounts=st.lists(st.integers(min_value=1, max_value=10_000_000), min_size=1, max_size=30))
def test_bulk_posting_twice_posts_once(amounts):
    with transaction.atomic():
        budget = make_budget()
        accounts = budget_accounts(budget=budget)
        planned = lambda: [  # noqa: E731
            PlannedEntry(
                kind=EntryKind.LOAD,
                source_type="bulk",
                source_id=str(index),
                lines=[
                    (accounts[AccountKind.COUNCIL_FUNDING], -pence),
                    (accounts[AccountKind.HOLDER_FUNDS], pence),
                ],
                occurred_on=DAY,
            )
            for index, pence in enumerate(amounts)
        ]
        assert len(ledger_post_many(planned=planned())) == len(amounts)
        assert ledger_post_many(planned=planned()) == []
        assert _funds(budget).balance_pence == sum(amounts)
        assert JournalEntry.objects.filter(budget=budget).count() == len(amounts)
        assert ledger_check() == []
        transaction.set_rollback(True)
