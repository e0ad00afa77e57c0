"""Card transactions are never read by card, and cards are cancelled, not deleted: the card_id
index goes (each index costs every row a statement import writes)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("budgets", "0007_journal_entry_date_unindexed")]

    operations = [
        migrations.AlterField(
            model_name="cardtransaction",
            name="card",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="transactions",
                to="budgets.card",
            ),
        ),
    ]
