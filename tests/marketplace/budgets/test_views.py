"""The budget page and statements: who may see them, what they show, what is audited."""

from datetime import timedelta

import pytest

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from marketplace.accounts.models import AuditAction, AuditEvent
from marketplace.accounts.roles import Role
from marketplace.budgets.models import Authorization, Card, CardScheme, CardStatus, DeclineReason
from marketplace.budgets.services import budget_loads_post_due, statement_import
from tests.conftest import sign_in
from tests.factories import BudgetHolderFactory, DelegationFactory, UserFactory

from .factories import make_budget

pytestmark = pytest.mark.django_db


@pytest.fixture
def holder_budget(db):
    """A person with an account and a budget that started ~3 months ago, loads paid in, some spend."""
    today = timezone.localdate()
    user = UserFactory()
    holder = BudgetHolderFactory(user=user)
    budget = make_budget(
        holder, starts_on=today - timedelta(days=90), ends_on=today + timedelta(days=270)
    )
    budget_loads_post_due(on=today)
    card = Card.objects.create(budget=budget, scheme=CardScheme.DEFAULT, reference="CARD-V")
    statement_import(
        text="transaction_id,card_reference,date,merchant_name,merchant_postcode,mcc,amount\n"
        f"V1,CARD-V,{today - timedelta(days=5)},Thames Day Trips,SE1 7PB,7991,45.00\n",
        scheme_name="default",
        filename="s.csv",
    )
    Authorization.objects.create(
        stripe_authorization_id="iauth_decl",
        card=card,
        budget=budget,
        amount_pence=2000,
        merchant_name="Lucky Star Bets",
        merchant_category_code="7995",
        approved=False,
        decline_reason=DeclineReason.BLOCKED_CATEGORY,
        decline_message="Declined: betting shops and casinos cannot be paid with this card",
        decided_at=timezone.now(),
    )
    return user, holder, budget


def test_holder_sees_balance_next_load_spend_and_declines_in_plain_words(client, holder_budget):
    user, holder, budget = holder_budget
    response = sign_in(client, user).get(f"/budgets/{holder.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Your personal budget" in page
    assert "available to spend" in page and "next paid in on" in page
    assert "Declined: betting shops and casinos cannot be paid with this card" in page
    assert "Card payment: Thames Day Trips" in page
    assert "Social and leisure activities" in page
    assert AuditEvent.objects.filter(action=AuditAction.VIEWED, budget_holder=holder).exists()


def test_a_proxy_and_a_monitoring_officer_can_see_it_and_others_get_404(
    client, client_for, holder_budget
):
    _, holder, _ = holder_budget
    proxy = DelegationFactory(budget_holder=holder, may_pay=False).proxy
    assert sign_in(client, proxy).get(f"/budgets/{holder.pk}/").status_code == 200
    officer_client, _ = client_for(Role.MONITORING_OFFICER)
    assert officer_client.get(f"/budgets/{holder.pk}/").status_code == 200
    other_holder_client, _ = client_for(Role.BUDGET_HOLDER)
    assert other_holder_client.get(f"/budgets/{holder.pk}/").status_code == 404
    other_proxy_client, _ = client_for(Role.PROXY)
    assert other_proxy_client.get(f"/budgets/{holder.pk}/statement.csv").status_code == 404
    commissioner_client, _ = client_for(Role.COMMISSIONER)
    assert commissioner_client.get(f"/budgets/{holder.pk}/").status_code == 403


def test_surplus_warning_shows_when_more_than_8_weeks_builds_up(client, holder_budget):
    user, holder, budget = holder_budget
    page = sign_in(client, user).get(f"/budgets/{holder.pk}/").content.decode()
    # About 3 months of loads, £45 spent: well over 8 weeks of funding.
    assert "Unspent money is building up" in page


def test_no_surplus_warning_for_a_new_budget(client):
    today = timezone.localdate()
    user = UserFactory()
    holder = BudgetHolderFactory(user=user)
    make_budget(holder, starts_on=today - timedelta(days=2), ends_on=today + timedelta(days=360))
    budget_loads_post_due(on=today)
    page = sign_in(client, user).get(f"/budgets/{holder.pk}/").content.decode()
    assert "Unspent money is building up" not in page


def test_statement_csv_lists_every_line_with_a_running_balance_and_is_audited(
    client, holder_budget
):
    user, holder, budget = holder_budget
    response = sign_in(client, user).get(f"/budgets/{holder.pk}/statement.csv")
    assert response.status_code == 200
    rows = response.content.decode().splitlines()
    assert rows[0] == "Date,Description,Money in,Money out,Balance"
    assert any("Money paid in by the council,1000.00" in row for row in rows)
    assert any("Card payment: Thames Day Trips,,45.00," in row for row in rows)
    assert any("Declined: betting shops and casinos" in row for row in rows)
    assert AuditEvent.objects.filter(action=AuditAction.EXPORTED, budget_holder=holder).exists()


def test_statement_pdf_is_a_pdf(client, holder_budget):
    user, holder, _ = holder_budget
    response = sign_in(client, user).get(f"/budgets/{holder.pk}/statement.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_monitoring_officer_imports_a_statement_and_sees_bad_lines(client_for, holder_budget):
    officer_client, _ = client_for(Role.MONITORING_OFFICER)
    bad = SimpleUploadedFile(
        "bad.csv",
        b"transaction_id,card_reference,date,merchant_name,merchant_postcode,mcc,amount\n"
        b"X1,CARD-V,2026-01-01,Shop,,5411,ten\n",
        content_type="text/csv",
    )
    response = officer_client.post(
        "/budgets/statements/import/", {"scheme": "default", "statement": bad}
    )
    assert response.status_code == 400
    assert "The amount is not a sum of money" in response.content.decode()
    good = SimpleUploadedFile(
        "good.csv",
        b"transaction_id,card_reference,date,merchant_name,merchant_postcode,mcc,amount\n"
        b"X1,CARD-V,2026-01-01,Shop,,5411,10.00\n",
        content_type="text/csv",
    )
    response = officer_client.post(
        "/budgets/statements/import/", {"scheme": "default", "statement": good}
    )
    assert response.status_code == 200
    assert "Statement imported" in response.content.decode()


def test_budget_holders_cannot_import_statements(client_for):
    holder_client, _ = client_for(Role.BUDGET_HOLDER)
    assert holder_client.get("/budgets/statements/import/").status_code == 403


def test_a_frozen_card_is_shown_as_not_active_with_what_to_do(client, holder_budget):
    user, holder, budget = holder_budget
    card = Card.objects.get(budget=budget)
    page = sign_in(client, user).get(f"/budgets/{holder.pk}/").content.decode()
    assert "(active)" in page and "cannot be used at the moment" not in page

    card.status = CardStatus.INACTIVE  # frozen by the council, or not yet activated at Stripe
    card.save(update_fields=["status"])
    page = sign_in(client, user).get(f"/budgets/{holder.pk}/").content.decode()
    assert "(not active)" in page and "not yet active" not in page
    assert "This card cannot be used at the moment" in page
