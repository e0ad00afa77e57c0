"""Card transactions are never read by statement import, and imports are never deleted: the
statement_import_id index goes (every line of an import paid for it). The checked-reference
function learns a shortcut: a stretch of parent ids with no gaps (journal entries written
moments before their postings and card transactions) holds every id referenced from inside
it, so one count of the stretch replaces the join. 0006 installed the version before."""

import django.db.models.deletion
from django.db import migrations, models

from marketplace.budgets import checked_references


def replace_functions(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        checked_references.create_functions(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("budgets", "0008_card_transaction_card_unindexed")]

    operations = [
        migrations.AlterField(
            model_name="cardtransaction",
            name="statement_import",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="transactions",
                to="budgets.statementimport",
            ),
        ),
        migrations.RunPython(replace_functions, migrations.RunPython.noop),
    ]
