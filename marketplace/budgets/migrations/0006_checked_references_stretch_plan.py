"""The checked-reference function as it is now: a stretch of new parent ids (journal entries
written moments before their postings) is checked with a join that cannot go quadratic
when the planner's estimate of the stretch is stale. 0005 installed an earlier version."""

from django.db import migrations

from marketplace.budgets import checked_references


def replace_functions(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        checked_references.create_functions(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("budgets", "0005_checked_references")]

    operations = [migrations.RunPython(replace_functions, migrations.RunPython.noop)]
