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
