"""Spend and purchases per calendar year for the groupings with the most cells.

Filled from the monthly rollup rows; the rollups' upkeep keeps it in step
from then on (``services``). Its pages keep a fifth free for updates in
place, as 0008 gives the other rollup tables.
"""

from django.db import migrations, models


def fill(apps, schema_editor):
    # The fold as it stood when the table was made (0010 adds holder_months and refills it).
    postgresql = schema_editor.connection.vendor == "postgresql"
    if postgresql:
        schema_editor.execute("ALTER TABLE demand_demandrollupyear SET (fillfactor = 80)")
    year = (
        "CAST(EXTRACT(YEAR FROM month) AS smallint)"
        if postgresql
        else "CAST(substr(month, 1, 4) AS integer)"
    )
    schema_editor.execute(
        "INSERT INTO demand_demandrollupyear (grouping, year, category, value, value2, "
        f"spend_pence, purchase_count) SELECT grouping, {year}, category, value, value2, "
        "SUM(spend_pence), SUM(purchase_count) FROM demand_demandrollup "
        "WHERE grouping IN ('category_locality_provider') GROUP BY 1, 2, 3, 4, 5"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("demand", "0008_rollup_fillfactor"),
    ]

    operations = [
        migrations.CreateModel(
            name="DemandRollupYear",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "grouping",
                        "year",
                        "category",
                        "value",
                        "value2",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                (
                    "grouping",
                    models.CharField(
                        choices=[
                            ("total", "total"),
                            ("category", "category"),
                            ("locality", "locality"),
                            ("care_group", "care group"),
                            ("sector", "sector"),
                            ("channel", "channel"),
                            ("provider", "provider"),
                            ("category_locality", "category locality"),
                            ("category_care_group", "category care group"),
                            ("category_sector", "category sector"),
                            ("category_channel", "category channel"),
                            ("category_provider", "category provider"),
                            ("category_locality_provider", "category locality provider"),
                        ],
                        max_length=32,
                    ),
                ),
                ("year", models.SmallIntegerField()),
                ("category", models.CharField(blank=True, max_length=32)),
                ("value", models.CharField(blank=True, max_length=32)),
                ("value2", models.CharField(blank=True, max_length=32)),
                ("spend_pence", models.BigIntegerField(default=0)),
                ("purchase_count", models.IntegerField(default=0)),
            ],
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
