"""Month patterns only for the groupings where many people share few patterns.

Re-installs the reach and pattern triggers (the reach upsert now skips
rows whose months do not change) and refills the pattern table, dropping
the groupings that are counted straight from the reach.
"""

from django.db import migrations


def install(apps, schema_editor):
    from commissioning.demand.reach import (
        PATTERN_TRIGGERS_SQL,
        TRIGGERS_SQL,
        patterns_rebuild_sql,
        reach_kept,
    )

    if reach_kept(schema_editor.connection):
        schema_editor.execute(TRIGGERS_SQL)
        schema_editor.execute(PATTERN_TRIGGERS_SQL)
        patterns_rebuild_sql(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("demand", "0006_rollup_patterns"),
    ]

    operations = [
        migrations.RunPython(install, migrations.RunPython.noop),
    ]
