"""Who bought in each rollup cell, folded per calendar year with a bitmask of months.

Filled from the member table, which it is a projection of; on PostgreSQL,
triggers on the member table keep it in step from then on (see ``reach.py``).
"""

from django.db import migrations, models


def install(apps, schema_editor):
    """Nothing now: 0005 reshapes the table into windows, then installs the triggers and fills it."""


def uninstall(apps, schema_editor):
    from commissioning.demand.reach import DROP_TRIGGERS_SQL, reach_kept

    if reach_kept(schema_editor.connection):
        schema_editor.execute(DROP_TRIGGERS_SQL)


class Migration(migrations.Migration):
    dependencies = [
        ("demand", "0003_commissioner_permissions"),
    ]

    operations = [
        migrations.CreateModel(
            name="DemandRollupReach",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "grouping",
                        "year",
                        "category",
                        "value",
                        "value2",
                        "budget_holder_id",
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
                ("budget_holder_id", models.BigIntegerField()),
                (
                    "months",
                    models.IntegerField(default=0, help_text="Bit m-1 set: bought in month m."),
                ),
            ],
        ),
        migrations.RunPython(install, uninstall),
    ]
