"""Checked references (see marketplace/budgets/checked_references.py): the ledger and card
transaction tables' references to their parents are proved by the database once per
statement, with triggers, instead of by a foreign-key lookup per row.

Journal entries are never deleted or changed (0002), so references to them are checked
without locking them. SQLite rebuilds the journal entry and posting tables to alter them,
which drops 0002's immutability triggers there: this migration puts them back.

The stripe_authorization_id index covers only the rows that have one (statement lines have
none), and the journal entry's budget needs no index of its own beside (budget, occurred_on).
"""

import django.db.models.deletion
from django.db import migrations, models

from marketplace.budgets import checked_references

# (child table, column, parent table, lock the parents?)
REFERENCES = [
    ("budgets_journalentry", "budget_id", "budgets_personalbudget", True),
    ("budgets_posting", "entry_id", "budgets_journalentry", False),
    ("budgets_posting", "account_id", "budgets_account", True),
    ("budgets_cardtransaction", "budget_id", "budgets_personalbudget", True),
    ("budgets_cardtransaction", "card_id", "budgets_card", True),
    ("budgets_cardtransaction", "entry_id", "budgets_journalentry", False),
    ("budgets_cardtransaction", "statement_import_id", "budgets_statementimport", True),
]


def create_checks(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        # SQLite rebuilt these tables above, dropping 0002's immutability triggers.
        for table in ("budgets_journalentry", "budgets_posting"):
            for action in ("UPDATE", "DELETE"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action.lower()}")
                schema_editor.execute(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                    "BEGIN SELECT RAISE(ABORT, 'Ledger records cannot be changed or deleted; "
                    "post a reversal instead.'); END;"
                )
    checked_references.create(schema_editor, REFERENCES)


def drop_checks(apps, schema_editor):
    checked_references.drop(schema_editor, REFERENCES)


class Migration(migrations.Migration):
    dependencies = [
        ("budgets", "0004_card_status_not_active"),
    ]

    operations = [
        migrations.AlterField(
            model_name="cardtransaction",
            name="budget",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="card_transactions",
                to="budgets.personalbudget",
            ),
        ),
        migrations.AlterField(
            model_name="cardtransaction",
            name="card",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="transactions",
                to="budgets.card",
            ),
        ),
        migrations.AlterField(
            model_name="cardtransaction",
            name="entry",
            field=models.OneToOneField(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="card_transaction",
                to="budgets.journalentry",
            ),
        ),
        migrations.AlterField(
            model_name="cardtransaction",
            name="statement_import",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="transactions",
                to="budgets.statementimport",
            ),
        ),
        migrations.AlterField(
            model_name="cardtransaction",
            name="stripe_authorization_id",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AlterField(
            model_name="journalentry",
            name="budget",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="journal_entries",
                to="budgets.personalbudget",
            ),
        ),
        migrations.AlterField(
            model_name="posting",
            name="account",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="postings",
                to="budgets.account",
            ),
        ),
        migrations.AlterField(
            model_name="posting",
            name="entry",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="postings",
                to="budgets.journalentry",
            ),
        ),
        migrations.AddIndex(
            model_name="cardtransaction",
            index=models.Index(
                condition=models.Q(("stripe_authorization_id", ""), _negated=True),
                fields=["stripe_authorization_id"],
                name="card_transaction_authorization",
            ),
        ),
        migrations.RunPython(create_checks, drop_checks),
    ]
