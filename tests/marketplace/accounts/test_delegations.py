from datetime import timedelta

import pytest

from django.urls import reverse
from django.utils import timezone

from marketplace.accounts.models import AuditAction, AuditEvent, Delegation
from marketplace.accounts.permissions import Scope, can_act_for
from marketplace.accounts.roles import Role
from marketplace.accounts.services import DelegationError, delegation_create, delegation_revoke
from tests.factories import BudgetHolderFactory, DelegationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_budget_holder_adds_a_proxy_with_a_scope_and_it_is_audited(client_for):
    client, user = client_for(Role.BUDGET_HOLDER)
    holder = user.budget_holder
    daughter = UserFactory(email="daughter@example.org")
    today = timezone.localdate()
    response = client.post(
        reverse("accounts:delegation-add", args=[holder.pk]),
        {
            "proxy_email": "Daughter@example.org",
            "relationship": "relative",
            "may_pay": "on",
            "ends_on_day": str(today.day),
            "ends_on_month": str(today.month),
            "ends_on_year": str(today.year + 1),
        },
    )
    assert response.status_code == 302
    delegation = Delegation.objects.get(proxy=daughter)
    assert delegation.may_pay and not delegation.may_review and not delegation.may_manage
    assert delegation.ends_on == today.replace(year=today.year + 1)
    assert can_act_for(daughter, holder, Scope.PAY)
    assert not can_act_for(daughter, holder, Scope.REVIEW)
    event = AuditEvent.objects.get(action=AuditAction.CREATED, object_id=str(delegation.pk))
    assert event.actor == user and event.budget_holder == holder


def test_form_explains_an_unknown_email_and_a_bad_date(client_for):
    client, user = client_for(Role.BUDGET_HOLDER)
    response = client.post(
        reverse("accounts:delegation-add", args=[user.budget_holder.pk]),
        {
            "proxy_email": "nobody@example.org",
            "relationship": "carer",
            "ends_on_day": "31",
            "ends_on_month": "2",
            "ends_on_year": "2027",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "There is no account with this email address" in page
    assert "Enter a real date" in page
    assert not Delegation.objects.exists()


def test_a_delegation_cannot_end_before_it_starts_or_duplicate_a_current_one():
    holder = BudgetHolderFactory()
    proxy = UserFactory()
    today = timezone.localdate()
    with pytest.raises(DelegationError, match="end date"):
        delegation_create(
            budget_holder=holder,
            proxy=proxy,
            relationship="carer",
            created_by=proxy,
            starts_on=today,
            ends_on=today - timedelta(days=1),
        )
    delegation_create(budget_holder=holder, proxy=proxy, relationship="carer", created_by=proxy)
    with pytest.raises(DelegationError, match="already acts"):
        delegation_create(budget_holder=holder, proxy=proxy, relationship="carer", created_by=proxy)


def test_future_and_ended_delegations_give_no_rights():
    today = timezone.localdate()
    future = DelegationFactory(starts_on=today + timedelta(days=3))
    ended = DelegationFactory(
        starts_on=today - timedelta(days=30), ends_on=today - timedelta(days=1)
    )
    assert not can_act_for(future.proxy, future.budget_holder)
    assert not can_act_for(ended.proxy, ended.budget_holder)


def test_revoking_keeps_the_record_and_audits_it(client_for):
    client, user = client_for(Role.BUDGET_HOLDER)
    delegation = DelegationFactory(budget_holder=user.budget_holder)
    response = client.post(
        reverse("accounts:delegation-end", args=[user.budget_holder.pk, delegation.pk]),
        {"reason": "My sister is taking over"},
    )
    assert response.status_code == 302
    delegation.refresh_from_db()
    assert (
        delegation.revoked_at is not None
        and delegation.revoked_reason == "My sister is taking over"
    )
    assert not can_act_for(delegation.proxy, user.budget_holder)
    assert AuditEvent.objects.filter(
        action=AuditAction.CHANGED, object_id=str(delegation.pk)
    ).exists()
    # Revoking twice changes nothing.
    delegation_revoke(delegation=delegation, revoked_by=user, reason="again")
    delegation.refresh_from_db()
    assert delegation.revoked_reason == "My sister is taking over"


def test_viewing_a_personal_record_is_audited_and_visible_to_the_person(client_for):
    officer_client, officer = client_for(Role.MONITORING_OFFICER)
    holder_client, holder_user = client_for(Role.BUDGET_HOLDER)
    holder = holder_user.budget_holder
    officer_client.get(reverse("accounts:person-detail", args=[holder.pk]))
    event = AuditEvent.objects.get(action=AuditAction.VIEWED, budget_holder=holder)
    assert event.actor == officer
    assert holder.full_name not in event.summary  # the log names the record, not its contents
    page = holder_client.get(reverse("accounts:person-activity", args=[holder.pk])).content.decode()
    assert str(officer) in page


def test_audit_events_cannot_be_changed_or_deleted(client_for):
    client, user = client_for(Role.BUDGET_HOLDER)
    client.get(reverse("accounts:person-detail", args=[user.budget_holder.pk]))
    event = AuditEvent.objects.get()
    event.summary = "edited"
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()
