"""Step 2 of 2: every case has a budget; one open case per rule per budget."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0002_case_budget"),
    ]

    operations = [
        migrations.AlterField(
            model_name="monitoringcase",
            name="budget",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="monitoring_cases",
                to="budgets.personalbudget",
            ),
        ),
        migrations.RemoveConstraint(
            model_name="monitoringcase",
            name="monitoring_one_open_case_per_rule",
        ),
        migrations.AddConstraint(
            model_name="monitoringcase",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "closed"), _negated=True),
                fields=("budget", "rule"),
                name="monitoring_one_open_case_per_rule_per_budget",
            ),
        ),
    ]
