"""Purchases' budget holder and organisation become checked references (no per-row
foreign-key lookup; the database proves them once per statement: see
marketplace/budgets/checked_references.py). Two indexes that a composite index already
serves (budget_holder_id, occurred_on) and merchant_key's LIKE index, which no query uses,
go: a statement import writes purchases by the thousand and each index costs every row.
"""

import django.db.models.deletion
from django.db import migrations, models

from marketplace.budgets import checked_references

# (child table, column, parent table, lock the parents?)
REFERENCES = [
    ("payments_purchase", "budget_holder_id", "accounts_budgetholder", True),
    ("payments_purchase", "organisation_id", "providers_organisation", True),
]


def create_checks(apps, schema_editor):
    checked_references.create(schema_editor, REFERENCES)


def drop_checks(apps, schema_editor):
    checked_references.drop(schema_editor, REFERENCES)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_role_groups"),
        ("payments", "0004_connected_account_last_payout"),
        ("providers", "0003_directory_moderation"),
    ]

    operations = [
        migrations.AlterField(
            model_name="purchase",
            name="budget_holder",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="purchases",
                to="accounts.budgetholder",
            ),
        ),
        migrations.AlterField(
            model_name="purchase",
            name="merchant_key",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AlterField(
            model_name="purchase",
            name="occurred_on",
            field=models.DateField(),
        ),
        migrations.AlterField(
            model_name="purchase",
            name="organisation",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="purchases",
                to="providers.organisation",
            ),
        ),
        migrations.AddIndex(
            model_name="purchase",
            index=models.Index(fields=["merchant_key"], name="purchase_merchant_key"),
        ),
        migrations.RunPython(create_checks, drop_checks),
    ]
