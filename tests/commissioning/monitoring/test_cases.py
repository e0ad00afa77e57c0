"""A monitoring officer's case work: evidence requests, notes, clawback, close; the quarterly view."""

from datetime import timedelta

import pytest

from django.utils import timezone
from django.utils.html import escape

from commissioning.monitoring.models import CaseStatus, Clawback, MonitoringCase, Outcome, Rule
from commissioning.monitoring.selectors import quarter_statement
from commissioning.monitoring.services import monitoring_rules_run
from marketplace.accounts.models import AuditEvent
from marketplace.accounts.roles import Role
from marketplace.budgets.models import AccountKind, EntryKind, JournalEntry
from tests.conftest import sign_in
from tests.factories import DelegationFactory, UserFactory

from .test_rules import open_budget

pytestmark = pytest.mark.django_db


@pytest.fixture
def surplus_case():
    budget = open_budget()
    monitoring_rules_run(rules=[Rule.SURPLUS])
    return MonitoringCase.objects.get(rule=Rule.SURPLUS), budget


def test_only_monitoring_officers_see_cases(client_for, surplus_case):
    case, _ = surplus_case
    for role in (
        Role.COMMISSIONER,
        Role.GRANT_OFFICER,
        Role.PROVIDER_STAFF,
        Role.BUDGET_HOLDER,
        Role.PROXY,
    ):
        role_client, _ = client_for(role)
        assert role_client.get("/monitoring/").status_code == 403
        assert role_client.get(f"/monitoring/cases/{case.pk}/").status_code == 403
    officer_client, officer = client_for(Role.MONITORING_OFFICER)
    assert (
        escape(case.budget_holder.full_name) in officer_client.get("/monitoring/").content.decode()
    )
    assert officer_client.get(f"/monitoring/cases/{case.pk}/").status_code == 200
    assert AuditEvent.objects.filter(actor=officer, budget_holder=case.budget_holder).exists()


def test_officer_asks_for_an_explanation_and_the_proxy_answers_on_the_budget_page(
    client, client_for, surplus_case
):
    case, _ = surplus_case
    proxy = DelegationFactory(budget_holder=case.budget_holder, may_manage=True).proxy
    officer_client, _ = client_for(Role.MONITORING_OFFICER)
    due = timezone.localdate() + timedelta(days=14)
    officer_client.post(
        f"/monitoring/cases/{case.pk}/ask/",
        {
            "message": "Why has the money built up?",
            "due_on_day": due.day,
            "due_on_month": due.month,
            "due_on_year": due.year,
        },
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_EVIDENCE

    stranger = UserFactory()
    sign_in(client, stranger)
    assert client.get(f"/budgets/{case.budget_holder.pk}/questions/").status_code == 404

    sign_in(client, proxy)
    page = client.get(f"/budgets/{case.budget_holder.pk}/questions/").content.decode()
    assert "Why has the money built up?" in page
    request = case.evidence_requests.get()
    client.post(
        f"/budgets/{case.budget_holder.pk}/questions/",
        {"request_id": request.pk, f"q{request.pk}-response": "Mum was in hospital for ten weeks."},
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    detail = officer_client.get(f"/monitoring/cases/{case.pk}/").content.decode()
    assert "Mum was in hospital for ten weeks." in detail


def test_clawback_is_confirmed_then_posts_one_ledger_entry_and_the_quarter_agrees(
    client_for, surplus_case
):
    case, budget = surplus_case
    officer_client, officer = client_for(Role.MONITORING_OFFICER)
    before = budget.accounts.get(kind=AccountKind.HOLDER_FUNDS).balance_pence
    url = f"/monitoring/cases/{case.pk}/recover/"

    check = officer_client.post(url, {"amount_pence": "300", "reason": "Unspent while in hospital"})
    assert "Check before recovering money" in check.content.decode()
    assert not Clawback.objects.exists()

    officer_client.post(
        url, {"amount_pence": "300", "reason": "Unspent while in hospital", "confirm": "yes"}
    )
    officer_client.post(
        url, {"amount_pence": "300", "reason": "Unspent while in hospital", "confirm": "yes"}
    )

    assert Clawback.objects.count() == 1
    assert JournalEntry.objects.filter(kind=EntryKind.CLAWBACK).count() == 1
    assert budget.accounts.get(kind=AccountKind.HOLDER_FUNDS).balance_pence == before - 30_000
    assert AuditEvent.objects.filter(actor=officer, summary__contains="Clawback").exists()

    today = timezone.localdate()
    quarter = (today.month - 1) // 3 + 1
    statement = quarter_statement(budget=case.budget, year=today.year, quarter=quarter)
    assert statement.clawbacks_pence == 30_000
    assert statement.closing_pence == before - 30_000
    assert statement.adds_up
    page = officer_client.get(
        f"/monitoring/budgets/{case.budget.pk}/quarters/{today.year}-Q{quarter}/"
    ).content.decode()
    assert "£300.00" in page and "do not add up" not in page

    officer_client.post(
        f"/monitoring/cases/{case.pk}/close/",
        {"outcome": Outcome.CLAWBACK, "note": "Recovered £300."},
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED and case.outcome == Outcome.CLAWBACK


def test_clawback_cannot_take_more_than_the_budget_holds(client_for, surplus_case):
    case, budget = surplus_case
    officer_client, _ = client_for(Role.MONITORING_OFFICER)
    response = officer_client.post(
        f"/monitoring/cases/{case.pk}/recover/",
        {"amount_pence": "99999", "reason": "Too much", "confirm": "yes"},
    )
    assert "cannot recover more than" in response.content.decode()
    assert not Clawback.objects.exists()


def test_quarter_statement_adds_up_from_the_ledger(surplus_case):
    _, budget = surplus_case
    today = timezone.localdate()
    quarter = (today.month - 1) // 3 + 1
    statement = quarter_statement(budget=budget, year=today.year, quarter=quarter)
    assert statement.adds_up
    assert (
        statement.closing_pence == budget.accounts.get(kind=AccountKind.HOLDER_FUNDS).balance_pence
    )


def test_monitoring_officers_can_change_thresholds(client_for):
    from commissioning.monitoring.models import MonitoringSettings

    officer_client, _ = client_for(Role.MONITORING_OFFICER)
    form = {
        "surplus_weeks": 10, "blocked_attempts_days": 30, "blocked_attempts_count": 1, "cash_days": 90,
        "dormant_days": 60, "round_amount_pence": 5000, "round_transfers_count": 3, "round_transfers_days": 90,
    }  # fmt: skip
    assert officer_client.post("/monitoring/settings/", form).status_code == 302
    assert MonitoringSettings.load().surplus_weeks == 10
    commissioner_client, _ = client_for(Role.COMMISSIONER)
    assert commissioner_client.get("/monitoring/settings/").status_code == 403
