"""Monitoring cases belong to a budget, not only to its holder (a holder may have several).

Step 1 of 2: add the budget, then map each existing case to it: the budget the
rule recorded in the case's evidence, else the holder's budget open when the
case was opened, else the holder's most recent budget.
"""

import django.db.models.deletion
from django.db import migrations, models


def map_cases_to_budgets(apps, schema_editor):
    MonitoringCase = apps.get_model("monitoring", "MonitoringCase")
    PersonalBudget = apps.get_model("budgets", "PersonalBudget")
    budgets_by_holder: dict[int, list] = {}
    for budget in PersonalBudget.objects.order_by("-starts_on", "-pk"):
        budgets_by_holder.setdefault(budget.budget_holder_id, []).append(budget)
    for case in MonitoringCase.objects.filter(budget__isnull=True).iterator():
        budgets = budgets_by_holder.get(case.budget_holder_id, [])
        recorded = (case.evidence or {}).get("budget_id")
        opened_on = case.opened_at.date()
        budget = (
            next((b for b in budgets if b.pk == recorded), None)
            or next(
                (
                    b
                    for b in budgets
                    if b.status == "active" and b.starts_on <= opened_on <= b.ends_on
                ),
                None,
            )
            or next(iter(budgets), None)
        )
        if budget is None:
            raise RuntimeError(
                f"Monitoring case {case.pk}: budget holder {case.budget_holder_id} has no "
                "personal budget to attach it to. Give them one, or close and remove the case."
            )
        MonitoringCase.objects.filter(pk=case.pk).update(budget=budget)


class Migration(migrations.Migration):
    dependencies = [
        ("budgets", "0002_ledger_immutable"),
        ("monitoring", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="monitoringcase",
            name="budget",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="monitoring_cases",
                to="budgets.personalbudget",
            ),
        ),
        migrations.RunPython(map_cases_to_budgets, migrations.RunPython.noop),
    ]
