"""Card statement import: all or nothing, once per line, each bad line reported."""

from datetime import date

import pytest

from django.core.management import CommandError, call_command

from marketplace.budgets.models import (
    Account,
    AccountKind,
    Card,
    CardScheme,
    JournalEntry,
    StatementImport,
)
from marketplace.budgets.services import (
    StatementError,
    budget_loads_post_due,
    ledger_check,
    statement_import,
)
from marketplace.payments.models import Channel, Purchase

from .factories import make_budget

pytestmark = pytest.mark.django_db

DEFAULT = """transaction_id,card_reference,date,merchant_name,merchant_postcode,mcc,amount
T1,CARD-1,2025-04-02,Finchley Lunch Club,N3 1DH,5812,6.00
T2,CARD-1,2025-04-03,Barnet Taxis,EN5 4AA,4121,12.50
T3,CARD-1,2025-04-05,Barnet Taxis,EN5 4AA,4121,-2.50
"""


@pytest.fixture(autouse=True)
def _fresh_merchant_index():
    """The provider index is cached for a second; each test sees its own directory."""
    from marketplace.payments.matching import merchant_index_clear

    merchant_index_clear()
    yield
    merchant_index_clear()


@pytest.fixture
def card(db):
    budget = make_budget()
    budget_loads_post_due(on=date(2025, 4, 1))
    return Card.objects.create(budget=budget, scheme=CardScheme.DEFAULT, reference="CARD-1")


def _funds(card):
    return Account.objects.get(budget=card.budget, kind=AccountKind.HOLDER_FUNDS).balance_pence


def test_default_statement_posts_each_line_to_ledger_and_purchases(card):
    record = statement_import(text=DEFAULT, scheme_name="default", filename="april.csv")
    assert record.rows_imported == 3
    assert _funds(card) == 100_000 - 600 - 1250 + 250
    purchases = Purchase.objects.filter(channel=Channel.CARD_STATEMENT).order_by("occurred_on")
    assert [p.amount_pence for p in purchases] == [600, 1250, -250]
    assert purchases[0].category == "meals"
    assert ledger_check() == []


def test_statement_imported_twice_changes_nothing_the_second_time(card):
    statement_import(text=DEFAULT, scheme_name="default", filename="april.csv")
    again = statement_import(text=DEFAULT, scheme_name="default", filename="april.csv")
    assert again.rows_imported == 0 and again.rows_already_imported == 3
    assert _funds(card) == 100_000 - 600 - 1250 + 250
    assert JournalEntry.objects.filter(source_type="card_statement").count() == 3
    assert Purchase.objects.filter(channel=Channel.CARD_STATEMENT).count() == 3


def test_bad_lines_are_each_reported_and_nothing_is_imported(card):
    text = (
        DEFAULT
        + "T4,CARD-9,2025-04-06,Shop,,5411,1.00\n"
        + "T5,CARD-1,06/04/2025,Shop,,5411,1.00\n"
        + "T6,CARD-1,2025-04-06,Shop,,5411,one pound\n"
        + "T7,CARD-1,2025-04-06,Shop,,54,1.00\n"
        + "T1,CARD-1,2025-04-06,Shop,,5411,1.00\n"
        + "T8,CARD-1,2025-04-06,Shop,,5411,0.00\n"
        + "T9,CARD-1,2025-04-06,Shop,,5411,1.005\n"
    )
    with pytest.raises(StatementError) as caught:
        statement_import(text=text, scheme_name="default", filename="bad.csv")
    messages = [str(problem) for problem in caught.value.problems]
    assert messages == [
        "Line 5: card CARD-9 is not on any budget",
        "Line 6: the date '06/04/2025' is not a date",
        "Line 7: the amount is not a sum of money in pounds and pence",
        "Line 8: the merchant category code '54' is not 4 digits",
        "Line 9: transaction T1 appears twice in this file",
        "Line 10: the amount is zero",
        "Line 11: the amount is not a sum of money in pounds and pence",
    ]
    assert not StatementImport.objects.exists()
    assert not Purchase.objects.exists()
    assert _funds(card) == 100_000


def test_missing_columns_are_reported_on_the_header_line(card):
    with pytest.raises(StatementError) as caught:
        statement_import(
            text="date,amount\n2025-04-01,1.00\n", scheme_name="default", filename="x.csv"
        )
    assert str(caught.value.problems[0]).startswith(
        "Line 1: the header is missing the column(s): transaction_id"
    )


@pytest.mark.parametrize(
    ("scheme", "text"),
    [
        (
            "allpay",
            "Transaction Reference,Card Number,Transaction Date,Merchant,Merchant Postcode,MCC,Debit,Credit\n"
            "A1,CARD-1,02/04/2025,Barnet Taxis,EN5 4AA,4121,12.50,\n"
            "A2,CARD-1,03/04/2025,Barnet Taxis,EN5 4AA,4121,,2.50\n",
        ),
        (
            "pfs",
            "Trans ID,Card ID,Date,Description,Merchant Post Code,MCC Code,Amount\n"
            "P1,CARD-1,02/04/2025 10:15,Barnet Taxis,EN5 4AA,4121,-12.50\n"
            "P2,CARD-1,03/04/2025,Barnet Taxis,EN5 4AA,4121,2.50\n",
        ),
        (
            "eml",
            "TransactionId,AccountNumber,TransactionDate,MerchantName,MerchantPostcode,MerchantCategoryCode,BillingAmount,DebitCredit\n"
            "E1,CARD-1,2025-04-02T10:15:00,Barnet Taxis,EN5 4AA,4121,12.50,D\n"
            "E2,CARD-1,2025-04-03,Barnet Taxis,EN5 4AA,4121,2.50,C\n",
        ),
    ],
)
def test_each_scheme_mapping_reads_payments_and_refunds(card, scheme, text):
    card.scheme = scheme
    card.save()
    statement_import(text=text, scheme_name=scheme, filename=f"{scheme}.csv")
    assert _funds(card) == 100_000 - 1250 + 250
    assert sorted(Purchase.objects.values_list("amount_pence", flat=True)) == [-250, 1250]


def test_command_imports_and_reports_bad_lines(card, tmp_path, capsys):
    good = tmp_path / "april.csv"
    good.write_text(DEFAULT)
    call_command("import_card_statement", str(good), "--scheme", "default")
    assert "Imported 3 line(s)" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text(DEFAULT.replace("12.50", "twelve"))
    with pytest.raises(CommandError):
        call_command("import_card_statement", str(bad), "--scheme", "default")
    assert "Line 3: the amount is not a sum of money" in capsys.readouterr().err


# --- Set-based import: rollups, re-import, all or nothing at scale, one matching rule ---


def _statement(lines) -> str:
    rows = ["transaction_id,card_reference,date,merchant_name,merchant_postcode,mcc,amount"]
    rows += [",".join(str(value) for value in line) for line in lines]
    return "\n".join(rows) + "\n"


@pytest.fixture
def cards(db):
    """Three cards on three budgets (two people in one district, one in another)."""
    from tests.factories import BudgetHolderFactory

    made = []
    for number, postcode in enumerate(["N3 1DH", "N3 2SB", "EN5 4AA"]):
        budget = make_budget(BudgetHolderFactory(postcode=postcode))
        made.append(
            Card.objects.create(budget=budget, scheme=CardScheme.DEFAULT, reference=f"C-{number}")
        )
    budget_loads_post_due(on=date(2025, 4, 1))
    return made


def _state():
    """Everything an import writes, to compare before and after."""
    from commissioning.demand.models import DemandRollup, DemandRollupMember
    from marketplace.budgets.models import CardTransaction, Posting

    return {
        "imports": StatementImport.objects.count(),
        "entries": JournalEntry.objects.count(),
        "postings": Posting.objects.count(),
        "card_transactions": CardTransaction.objects.count(),
        "purchases": sorted(
            Purchase.objects.values_list("source_reference", "amount_pence", "category")
        ),
        "balances": sorted(Account.objects.values_list("pk", "balance_pence")),
        "rollups": sorted(
            DemandRollup.objects.values_list(
                "grouping",
                "month",
                "category",
                "value",
                "value2",
                "spend_pence",
                "purchase_count",
                "holder_count",
            )
        ),  # fmt: skip
        "members": DemandRollupMember.objects.count(),
    }


MERCHANTS = [
    ("Finchley Lunch Club", "N3 1DH", "5812"),
    ("Barnet Taxis", "EN5 4AA", "4121"),
    ("Corner Shop", "", ""),
    ("Boots Pharmacy", "N12 8NP", "5912"),
]


def _lines(cards, count, *, start=0):
    for number in range(start, start + count):
        name, postcode, mcc = MERCHANTS[number % len(MERCHANTS)]
        pence = 100 + number * 7 % 5000
        amount = f"{pence // 100}.{pence % 100:02d}" if number % 11 else f"-{pence // 100}.00"
        yield (
            f"T{number}",
            cards[number % len(cards)].reference,
            f"2025-0{4 + number % 5}-{1 + number % 28:02d}",
            name,
            postcode,
            mcc,
            amount,
        )


def test_rollups_after_an_import_equal_a_rebuild_from_purchases(cards, capsys):
    record = statement_import(
        text=_statement(_lines(cards, 300)), scheme_name="default", filename="may.csv"
    )
    assert record.rows_imported == 300
    call_command("rebuild_demand_rollups", "--check")
    assert "in step" in capsys.readouterr().out
    from commissioning.demand.models import DemandRollup

    total = DemandRollup.objects.filter(grouping="total")
    assert sum(total.values_list("purchase_count", flat=True)) == 300
    assert {cell.holder_count for cell in total} == {3}
    assert ledger_check() == []
    # A second, overlapping file adds only its new lines and keeps the rollups exact.
    again = statement_import(
        text=_statement(_lines(cards, 200, start=250)), scheme_name="default", filename="jun.csv"
    )
    assert (again.rows_imported, again.rows_already_imported) == (150, 50)
    call_command("rebuild_demand_rollups", "--check")
    assert ledger_check() == []


def test_reimporting_a_file_changes_nothing_at_all(cards):
    text = _statement(_lines(cards, 120))
    statement_import(text=text, scheme_name="default", filename="may.csv")
    before = _state()
    again = statement_import(text=text, scheme_name="default", filename="may.csv")
    after = _state()
    assert (again.rows_imported, again.rows_already_imported) == (0, 120)
    assert after.pop("imports") == before.pop("imports") + 1  # the attempt is recorded
    assert after == before


def test_ledger_entries_card_transactions_and_purchases_point_at_each_other(cards):
    from marketplace.budgets.models import CardTransaction, CardTransactionType

    statement_import(text=_statement(_lines(cards, 23)), scheme_name="default", filename="x.csv")
    for transaction in CardTransaction.objects.select_related("entry", "card"):
        entry = transaction.entry
        assert entry.source_type == "card_statement"
        assert entry.source_id == transaction.reference
        assert entry.budget_id == transaction.budget_id == transaction.card.budget_id
        postings = {p.account.kind: p.amount_pence for p in entry.postings.all()}
        assert postings == {
            AccountKind.HOLDER_FUNDS: -transaction.amount_pence,
            AccountKind.CARD_CLEARING: transaction.amount_pence,
        }
        refund = transaction.amount_pence < 0
        assert entry.kind == ("refund" if refund else "card_spend")
        assert transaction.type == (
            CardTransactionType.REFUND if refund else CardTransactionType.CAPTURE
        )
        purchase = Purchase.objects.get(source_reference=f"statement:{transaction.reference}")
        holder = transaction.card.budget.budget_holder
        assert purchase.budget_holder_id == holder.pk
        assert purchase.postcode_district == holder.postcode_district
        assert purchase.care_group == holder.care_group
        assert purchase.amount_pence == transaction.amount_pence
    assert ledger_check() == []


def test_a_bad_line_near_the_end_of_a_big_file_leaves_nothing_behind(cards):
    lines = list(_lines(cards, 19_999))
    # Line numbers count the header as line 1, so the 19,998th data line is line 19,999.
    lines[19_997] = ("T-bad", cards[0].reference, "2025-04-31", "Shop", "", "", "1.00")
    before = _state()
    with pytest.raises(StatementError) as caught:
        statement_import(text=_statement(lines), scheme_name="default", filename="big.csv")
    assert [str(problem) for problem in caught.value.problems] == [
        "Line 19999: the date '2025-04-31' is not a date"
    ]
    assert _state() == before


def test_a_failure_while_writing_leaves_nothing_behind(cards):
    """A line whose ledger entry exists without its card transaction fails the unique key on
    journal entries: the whole file is rolled back, earlier lines included."""
    from django.db import IntegrityError

    from marketplace.budgets.models import EntryKind
    from marketplace.budgets.services import budget_accounts, ledger_post

    accounts = budget_accounts(budget=cards[1].budget)
    ledger_post(
        kind=EntryKind.CARD_SPEND,
        source_type="card_statement",
        source_id="default:T40",
        lines=[
            (accounts[AccountKind.HOLDER_FUNDS], -100),
            (accounts[AccountKind.CARD_CLEARING], 100),
        ],
        occurred_on=date(2025, 4, 2),
    )
    before = _state()
    with pytest.raises(IntegrityError):
        statement_import(
            text=_statement(_lines(cards, 60)), scheme_name="default", filename="x.csv"
        )
    assert _state() == before


def test_statement_lines_are_matched_by_the_same_rule_as_every_card_purchase(cards):
    from marketplace.payments.models import MatchStatus, MerchantAlias
    from marketplace.payments.services import purchase_record
    from marketplace.providers.taxonomy import ServiceCategory
    from tests.factories import OrganisationFactory
    from tests.marketplace.providers.factories import ServiceFactory

    bright = OrganisationFactory(name="Bright Care Home Care Ltd")
    ServiceFactory(organisation=bright, category=ServiceCategory.HOME_CARE)  # at N3 1XP
    lunch = OrganisationFactory(name="Finchley Lunch Club")
    ServiceFactory(organisation=lunch, category=ServiceCategory.MEALS)
    taxis = OrganisationFactory(name="Cabs of Barnet")
    MerchantAlias.objects.create(merchant_key="barnet taxis", postcode="", organisation=taxis)
    merchants = [
        ("SQ *BRIGHT CARE HOME CA", "N31XP", "8099"),
        ("Finchley Lunch Club", "N3 1DH", "5812"),
        ("Barnet Taxis", "EN5 4AA", "4121"),
        ("Corner Shop", "", "5411"),
        ("Corner Shop", "", ""),
    ]
    text = _statement(
        (f"M{n}", cards[0].reference, "2025-04-03", name, postcode, mcc, "5.00")
        for n, (name, postcode, mcc) in enumerate(merchants)
    )
    statement_import(text=text, scheme_name="default", filename="x.csv")
    fields = ("organisation_id", "category", "match_status", "match_confidence", "sector")
    for n, (name, postcode, mcc) in enumerate(merchants):
        imported = Purchase.objects.get(source_reference=f"statement:default:M{n}")
        one_by_one, _ = purchase_record(
            budget_holder=cards[0].budget.budget_holder,
            amount_pence=500,
            occurred_on=date(2025, 4, 3),
            channel=Channel.CARD,
            source_reference=f"stripe-{n}",
            merchant_name=name,
            merchant_postcode=postcode,
            merchant_category_code=mcc,
        )
        assert [getattr(imported, f) for f in fields] == [getattr(one_by_one, f) for f in fields]
    by_reference = {
        p.source_reference: p for p in Purchase.objects.filter(channel=Channel.CARD_STATEMENT)
    }
    assert by_reference["statement:default:M0"].organisation == bright
    assert by_reference["statement:default:M1"].organisation == lunch
    assert by_reference["statement:default:M2"].organisation == taxis  # the learned alias
    assert by_reference["statement:default:M3"].match_status == MatchStatus.CATEGORY_ONLY
    assert by_reference["statement:default:M4"].match_status == MatchStatus.UNMATCHED


@pytest.mark.django_db(transaction=True)
@pytest.mark.elasticsearch
def test_imported_purchases_reach_the_demand_index_after_commit(cards, use_elasticsearch):
    from commissioning.demand.elasticsearch import alias_name, es_refresh
    from commissioning.demand.selectors import DemandQuery, demand_figures
    from search.client import get_client

    get_client().indices.delete(index=f"{alias_name()}*", ignore_unavailable=True)
    statement_import(text=_statement(_lines(cards, 250)), scheme_name="default", filename="x.csv")
    es_refresh()
    purchases = Purchase.objects.filter(channel=Channel.CARD_STATEMENT)
    query = DemandQuery(start=date(2025, 4, 1), end=date(2025, 8, 1))
    assert demand_figures(query=query) == [
        {
            "spend_pence": sum(p.amount_pence for p in purchases),
            "purchases": 250,
            "holders": 3,
        }
    ]


def test_a_line_with_a_nul_character_is_reported_not_sent_to_the_database(card):
    text = DEFAULT + "T4,CARD-1,2025-04-06,Sh\x00op,,5411,1.00\n"
    with pytest.raises(StatementError) as caught:
        statement_import(text=text, scheme_name="default", filename="nul.csv")
    assert [str(p) for p in caught.value.problems] == ["Line 5: the line contains a NUL character"]
    assert not Purchase.objects.exists()
