"""Index the provider grid's reach rows by provider and person.

People by provider with the grid's hidden cells take out only those whose every month
is hidden, looking each of the few in hidden cells up by this index (``selectors``).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("demand", "0010_year_holder_months"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="demandrollupreach",
            index=models.Index(
                condition=models.Q(("grouping", "category_provider")),
                fields=["first_year", "value", "budget_holder_id"],
                name="demand_reach_by_person",
            ),
        ),
    ]
