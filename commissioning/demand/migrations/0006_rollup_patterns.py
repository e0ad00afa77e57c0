"""People per rollup cell and window counted by their month mask, kept by triggers on the reach.

Filled from the reach table, which it is a projection of; on PostgreSQL,
triggers on the reach table keep it in step from then on (see ``reach.py``).
"""

from django.db import migrations, models

GROUPING_CHOICES = [
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
]


def install(apps, schema_editor):
    from commissioning.demand.reach import PATTERN_TRIGGERS_SQL, patterns_rebuild_sql, reach_kept

    if reach_kept(schema_editor.connection):
        schema_editor.execute(PATTERN_TRIGGERS_SQL)
        patterns_rebuild_sql(schema_editor.connection)


def uninstall(apps, schema_editor):
    from commissioning.demand.reach import DROP_PATTERN_TRIGGERS_SQL, reach_kept

    if reach_kept(schema_editor.connection):
        schema_editor.execute(DROP_PATTERN_TRIGGERS_SQL)


class Migration(migrations.Migration):
    dependencies = [
        ("demand", "0005_reach_windows"),
    ]

    operations = [
        migrations.CreateModel(
            name="DemandRollupPattern",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "grouping",
                        "first_year",
                        "category",
                        "value",
                        "value2",
                        "months",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("grouping", models.CharField(choices=GROUPING_CHOICES, max_length=32)),
                ("first_year", models.SmallIntegerField()),
                ("category", models.CharField(blank=True, max_length=32)),
                ("value", models.CharField(blank=True, max_length=32)),
                ("value2", models.CharField(blank=True, max_length=32)),
                ("months", models.BigIntegerField()),
                ("people", models.IntegerField(default=0)),
            ],
        ),
        migrations.RunPython(install, uninstall),
    ]
