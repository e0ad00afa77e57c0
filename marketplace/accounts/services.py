from datetime import date

from django.db import transaction
from django.utils import timezone

from .audit import audit_record
from .models import AuditAction, BudgetHolder, Delegation, Relationship, User


class DelegationError(Exception):
    """A delegation that cannot be made, with a reason a person can act on."""


@transaction.atomic
def delegation_create(
    *,
    budget_holder: BudgetHolder,
    proxy: User,
    relationship: Relationship,
    created_by: User,
    may_pay: bool = False,
    may_review: bool = True,
    may_manage: bool = False,
    starts_on: date | None = None,
    ends_on: date | None = None,
    ip_address: str | None = None,
) -> Delegation:
    """Let ``proxy`` act for ``budget_holder`` within the given scope and period; audited."""
    starts_on = starts_on or timezone.localdate()
    if ends_on is not None and ends_on < starts_on:
        raise DelegationError("The end date must be on or after the start date.")
    if budget_holder.user_id == proxy.pk:
        raise DelegationError("A person cannot be their own proxy.")
    if (
        Delegation.objects.current(on=starts_on)
        .filter(budget_holder=budget_holder, proxy=proxy)
        .exists()
    ):
        raise DelegationError(f"{proxy} already acts for this person. Change or end that first.")
    delegation = Delegation.objects.create(
        budget_holder=budget_holder,
        proxy=proxy,
        relationship=relationship,
        may_pay=may_pay,
        may_review=may_review,
        may_manage=may_manage,
        starts_on=starts_on,
        ends_on=ends_on,
        created_by=created_by,
    )
    audit_record(
        actor=created_by,
        action=AuditAction.CREATED,
        obj=delegation,
        budget_holder=budget_holder,
        summary=f"Delegation {delegation.pk} created ({delegation.get_relationship_display()})",
        changed_fields=["proxy", "relationship", "scope", "starts_on", "ends_on"],
        ip_address=ip_address,
    )
    return delegation


@transaction.atomic
def delegation_revoke(
    *, delegation: Delegation, revoked_by: User, reason: str, ip_address: str | None = None
) -> Delegation:
    """End a delegation now. The record stays, for the audit trail."""
    delegation = Delegation.objects.select_for_update().get(pk=delegation.pk)
    if delegation.revoked_at is not None:
        return delegation
    delegation.revoked_at = timezone.now()
    delegation.revoked_reason = reason
    delegation.save(update_fields=["revoked_at", "revoked_reason"])
    audit_record(
        actor=revoked_by,
        action=AuditAction.CHANGED,
        obj=delegation,
        budget_holder=delegation.budget_holder,
        summary=f"Delegation {delegation.pk} ended",
        changed_fields=["revoked_at", "revoked_reason"],
        ip_address=ip_address,
    )
    return delegation
