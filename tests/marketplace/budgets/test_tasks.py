"""Loads are paid in by Celery beat every day, once however often the task runs."""

from datetime import timedelta

import pytest
from celery.schedules import crontab

from django.utils import timezone

from commissioning.monitoring.tasks import monitoring_rules_daily
from config.celery import app
from marketplace.budgets.models import BudgetLoad, EntryKind, JournalEntry, LoadStatus
from marketplace.budgets.selectors import budget_balance_pence
from marketplace.budgets.tasks import post_due_loads

from .factories import make_budget


def _entry(settings, task_name):
    entries = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == task_name]
    assert len(entries) == 1, f"{task_name} should be on the beat schedule once"
    return entries[0]


def test_post_due_loads_runs_daily_on_the_beat_schedule(settings):
    entry = _entry(settings, "budgets.post_due_loads")
    assert isinstance(entry["schedule"], crontab)
    assert entry["schedule"].hour == {4} and entry["schedule"].day_of_week == set(range(7))
    assert post_due_loads.name in app.tasks


def test_monitoring_rules_are_scheduled_the_same_way(settings):
    entry = _entry(settings, "monitoring.rules_daily")
    assert isinstance(entry["schedule"], crontab)
    assert monitoring_rules_daily.name in app.tasks
    # Registered once, through CELERY_BEAT_SCHEDULE only (no on_after_finalize hook).
    assert not [
        name
        for name, periodic in (app.conf.beat_schedule or {}).items()
        if periodic["task"] == "monitoring.rules_daily" and name != "monitoring-rules-daily"
    ]


@pytest.mark.django_db
def test_running_the_task_twice_pays_each_load_in_once():
    today = timezone.localdate()
    budget = make_budget(starts_on=today - timedelta(days=30), ends_on=today + timedelta(days=300))
    due = list(BudgetLoad.objects.filter(budget=budget, due_on__lte=today))
    assert len(due) == 2  # day 0 and day 28 of a 4-weekly schedule

    first = post_due_loads.apply().get()
    second = post_due_loads.apply().get()

    assert first["loads"] == 2 and second["loads"] == 0
    assert JournalEntry.objects.filter(budget=budget, kind=EntryKind.LOAD).count() == 2
    assert budget_balance_pence(budget=budget) == sum(load.amount_pence for load in due)
    assert set(
        BudgetLoad.objects.filter(budget=budget, due_on__lte=today).values_list("status", flat=True)
    ) == {LoadStatus.POSTED}
    assert not BudgetLoad.objects.filter(
        budget=budget, due_on__gt=today, status=LoadStatus.POSTED
    ).exists()
