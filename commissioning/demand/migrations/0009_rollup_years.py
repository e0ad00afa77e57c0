"""Spend and purchases per calendar year for the groupings with the most cells.

Filled from the monthly rollup rows; the rollups' upkeep keeps it in step
from then on (``services``). Its pages keep a fifth free for updates in
place, as 0008 gives the other rollup tables.
"""

from django.db import migrations, models


def fill(apps, schema_editor):
    from commissioning.demand.services import years_rebuild_sql

    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE demand_demandrollupyear SET (fillfactor = 80)")
    years_rebuild_sql(schema_editor.connection)


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
