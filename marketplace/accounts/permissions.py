"""Who may see or act on a budget holder's records.

Every view that shows personal data asks here, on the server, per record.
"""

from enum import StrEnum

from .models import BudgetHolder, Delegation, User
from .roles import Role


class Scope(StrEnum):
    VIEW = "view"
    PAY = "pay"
    REVIEW = "review"
    MANAGE = "manage"


_SCOPE_FIELD = {Scope.PAY: "may_pay", Scope.REVIEW: "may_review", Scope.MANAGE: "may_manage"}


def can_act_for(user: User, budget_holder: BudgetHolder, scope: Scope = Scope.VIEW) -> bool:
    """True when ``user`` is the budget holder, or a proxy whose current delegation covers ``scope``."""
    if not user.is_authenticated:
        return False
    if budget_holder.user_id == user.pk:
        return True
    delegations = Delegation.objects.current().filter(budget_holder=budget_holder, proxy=user)
    if scope != Scope.VIEW:
        delegations = delegations.filter(**{_SCOPE_FIELD[scope]: True})
    return delegations.exists()


def can_view_budget_holder(user: User, budget_holder: BudgetHolder) -> bool:
    """The person, their proxies, and the council's monitoring officers."""
    return can_act_for(user, budget_holder) or user.has_role(Role.MONITORING_OFFICER)


def can_manage_delegations(user: User, budget_holder: BudgetHolder) -> bool:
    """The person themself, or a monitoring officer (for appointees set up by the council)."""
    return budget_holder.user_id == user.pk or user.has_role(Role.MONITORING_OFFICER)
