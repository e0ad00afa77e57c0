"""Rollups at the groupings the dashboard and disclosure control read, rebuilt from purchases.

The old fine cells (every dimension at once) were nearly one per purchase, so
reading them was no faster than the purchases table. The rollups are derived
data: both tables are emptied, reshaped and rebuilt from ``Purchase``.
"""

from django.db import migrations, models

GROUPING_CHOICES = [
    ("total", "total"),
    ("category", "category"),
    ("category_locality", "category locality"),
    ("category_care_group", "category care group"),
    ("category_sector", "category sector"),
    ("category_channel", "category channel"),
    ("category_provider", "category provider"),
    ("category_locality_provider", "category locality provider"),
]


def rebuild(apps, schema_editor):
    from commissioning.demand.services import rollups_rebuild_sql

    rollups_rebuild_sql(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("demand", "0001_initial"),
        ("payments", "0001_purchase"),
    ]

    operations = [
        migrations.RunSQL(
            "DELETE FROM demand_demandrollupmember; DELETE FROM demand_demandrollup;",
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.DeleteModel(name="DemandRollupMember"),
        migrations.RemoveIndex(model_name="demandrollup", name="demand_dema_month_02d98f_idx"),
        migrations.RemoveIndex(model_name="demandrollup", name="demand_dema_month_04e84c_idx"),
        migrations.RemoveIndex(model_name="demandrollup", name="demand_dema_month_e7d258_idx"),
        migrations.RemoveField(model_name="demandrollup", name="cell_key"),
        migrations.RemoveField(model_name="demandrollup", name="postcode_district"),
        migrations.RemoveField(model_name="demandrollup", name="care_group"),
        migrations.RemoveField(model_name="demandrollup", name="organisation"),
        migrations.RemoveField(model_name="demandrollup", name="sector"),
        migrations.RemoveField(model_name="demandrollup", name="channel"),
        migrations.AddField(
            model_name="demandrollup",
            name="grouping",
            field=models.CharField(choices=GROUPING_CHOICES, default="total", max_length=32),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="demandrollup",
            name="value",
            field=models.CharField(blank=True, default="", max_length=32),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="demandrollup",
            name="value2",
            field=models.CharField(blank=True, default="", max_length=32),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="demandrollup",
            name="category",
            field=models.CharField(blank=True, max_length=32),
        ),
        migrations.AlterModelOptions(
            name="demandrollup",
            options={
                "ordering": ["grouping", "month", "category", "value", "value2"],
                "permissions": [
                    (
                        "view_unrounded_figures",
                        "Can see demand figures before small-number suppression (council analysts)",
                    )
                ],
            },
        ),
        migrations.AddConstraint(
            model_name="demandrollup",
            constraint=models.UniqueConstraint(
                fields=["grouping", "month", "category", "value", "value2"],
                name="demand_rollup_one_per_cell",
            ),
        ),
        migrations.CreateModel(
            name="DemandRollupMember",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "grouping",
                        "month",
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
                ("month", models.DateField()),
                ("category", models.CharField(blank=True, max_length=32)),
                ("value", models.CharField(blank=True, max_length=32)),
                ("value2", models.CharField(blank=True, max_length=32)),
                ("budget_holder_id", models.BigIntegerField()),
                ("purchase_count", models.IntegerField(default=0)),
            ],
        ),
        migrations.RunPython(rebuild, migrations.RunPython.noop),
    ]
