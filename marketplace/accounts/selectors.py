from django.db.models import Q, QuerySet

from .models import AuditEvent, BudgetHolder, Delegation, User


def budget_holders_for_user(*, user: User) -> QuerySet[BudgetHolder]:
    """The budget holders this person may act for today: themself and those who delegated to them."""
    delegated = Delegation.objects.current().filter(proxy=user).values("budget_holder_id")
    return BudgetHolder.objects.filter(Q(user=user) | Q(pk__in=delegated)).distinct()


def delegations_for_budget_holder(*, budget_holder: BudgetHolder) -> QuerySet[Delegation]:
    return budget_holder.delegations.select_related("proxy").order_by("revoked_at", "-starts_on")


def audit_events_for_budget_holder(*, budget_holder: BudgetHolder) -> QuerySet[AuditEvent]:
    return budget_holder.audit_events.select_related("actor")
