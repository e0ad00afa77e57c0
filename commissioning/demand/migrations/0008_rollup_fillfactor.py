"""Leave room on each page of the rollup tables so an update can stay on its page.

Most writes to the rollups add to rows that exist (a person's second
purchase in a cell and month); with a fifth of each page free, PostgreSQL
updates such a row in place (a heap-only tuple) instead of writing a new
entry into its primary key index. New pages follow the setting at once;
existing ones as rows move or the table is rewritten (a rebuild, VACUUM FULL).
"""

from django.db import migrations

TABLES = ("demand_demandrollup", "demand_demandrollupmember", "demand_demandrollupreach")


def set_fillfactor(value):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for table in TABLES:
                schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = {int(value)})")

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("demand", "0007_patterns_where_they_pay"),
    ]

    operations = [
        migrations.RunPython(set_fillfactor(80), set_fillfactor(100)),
    ]
