"""Every dimension gets a grouping of its own, and the reach table folds months into windows.

The reach table is derived data: it is dropped and created again keyed by
four-year windows (``first_year``) with a 48-bit mask, its triggers are
installed, and the rollups are rebuilt from purchases so the new groupings
(and through the triggers, the reach rows) are filled.
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


def drop_triggers(apps, schema_editor):
    from commissioning.demand.reach import DROP_TRIGGERS_SQL, reach_kept

    if reach_kept(schema_editor.connection):
        schema_editor.execute(DROP_TRIGGERS_SQL)


def install(apps, schema_editor):
    from commissioning.demand.reach import TRIGGERS_SQL, reach_kept
    from commissioning.demand.services import rollups_rebuild_sql

    if reach_kept(schema_editor.connection):
        schema_editor.execute(TRIGGERS_SQL)
    rollups_rebuild_sql(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("demand", "0004_rollup_reach"),
    ]

    operations = [
        migrations.RunPython(drop_triggers, migrations.RunPython.noop),
        migrations.DeleteModel(name="DemandRollupReach"),
        migrations.AlterField(
            model_name="demandrollup",
            name="grouping",
            field=models.CharField(choices=GROUPING_CHOICES, max_length=32),
        ),
        migrations.AlterField(
            model_name="demandrollupmember",
            name="grouping",
            field=models.CharField(choices=GROUPING_CHOICES, max_length=32),
        ),
        migrations.CreateModel(
            name="DemandRollupReach",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "grouping",
                        "first_year",
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
                ("grouping", models.CharField(choices=GROUPING_CHOICES, max_length=32)),
                (
                    "first_year",
                    models.SmallIntegerField(help_text="The window's first year (even)."),
                ),
                ("category", models.CharField(blank=True, max_length=32)),
                ("value", models.CharField(blank=True, max_length=32)),
                ("value2", models.CharField(blank=True, max_length=32)),
                ("budget_holder_id", models.BigIntegerField()),
                (
                    "months",
                    models.BigIntegerField(
                        default=0, help_text="Bit k set: bought in month k of the window."
                    ),
                ),
            ],
        ),
        migrations.RunPython(install, drop_triggers),
    ]
