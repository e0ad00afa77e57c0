"""Journal entries are reached by budget ((budget, occurred_on) index) or through their
postings, never by date alone: the occurred_on index goes (each index costs every row a
statement import writes).

SQLite rebuilds the table to drop the index: 0002's immutability triggers are put back
afterwards, and checked-reference triggers that a first version of the 0005 migrations
installed on SQLite (they name other tables, which SQLite's rebuild cannot rename past;
see checked_references.py) are removed first.
"""

from django.db import migrations, models

from marketplace.budgets import checked_references

# Every checked reference of budgets 0005 and payments 0005.
CHECKED = [
    ("budgets_journalentry", "budget_id", "budgets_personalbudget", True),
    ("budgets_posting", "entry_id", "budgets_journalentry", False),
    ("budgets_posting", "account_id", "budgets_account", True),
    ("budgets_cardtransaction", "budget_id", "budgets_personalbudget", True),
    ("budgets_cardtransaction", "card_id", "budgets_card", True),
    ("budgets_cardtransaction", "entry_id", "budgets_journalentry", False),
    ("budgets_cardtransaction", "statement_import_id", "budgets_statementimport", True),
    ("payments_purchase", "budget_holder_id", "accounts_budgetholder", True),
    ("payments_purchase", "organisation_id", "providers_organisation", True),
]


def drop_sqlite_reference_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        checked_references.drop(schema_editor, CHECKED)


def restore_sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    table = "budgets_journalentry"
    for action in ("UPDATE", "DELETE"):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action.lower()}")
        schema_editor.execute(
            f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
            "BEGIN SELECT RAISE(ABORT, 'Ledger records cannot be changed or deleted; "
            "post a reversal instead.'); END;"
        )


class Migration(migrations.Migration):
    dependencies = [("budgets", "0006_checked_references_stretch_plan")]

    # Each direction puts the immutability triggers back after its rebuild.
    operations = [
        migrations.RunPython(drop_sqlite_reference_triggers, restore_sqlite_triggers),
        migrations.AlterField(
            model_name="journalentry",
            name="occurred_on",
            field=models.DateField(),
        ),
        migrations.RunPython(restore_sqlite_triggers, migrations.RunPython.noop),
    ]
