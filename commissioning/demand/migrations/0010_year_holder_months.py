"""People in the year groupings counted from summed months and the masks of two or more months.

Adds ``holder_months`` to the year rows (their months' holder counts
summed, filled here and kept in step by the rollups' upkeep), re-installs
the pattern triggers so the pattern table also keeps the masks of two or
more months of ``YEAR_GROUPINGS``, and refills the pattern table.
"""

from django.db import migrations, models


def fill(apps, schema_editor):
    from commissioning.demand.reach import PATTERN_TRIGGERS_SQL, patterns_rebuild_sql, reach_kept
    from commissioning.demand.services import years_rebuild_sql

    years_rebuild_sql(schema_editor.connection)
    if reach_kept(schema_editor.connection):
        schema_editor.execute(PATTERN_TRIGGERS_SQL)
        patterns_rebuild_sql(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("demand", "0009_rollup_years"),
    ]

    operations = [
        migrations.AddField(
            model_name="demandrollupyear",
            name="holder_months",
            field=models.BigIntegerField(
                db_default=0,
                default=0,
                help_text=(
                    "The months' holder counts summed: a person once for each month they bought in."
                ),
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
