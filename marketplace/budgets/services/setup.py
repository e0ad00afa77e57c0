"""Council staff's writes: setting up a budget and its support plan, changing them, and
issuing, freezing and cancelling cards. Every change is audited.

A budget's money is in its ledger, and what has been paid in stays paid in:
changing the amount, schedule or dates re-plans only the loads still to come.
"""

import logging
from collections.abc import Iterable
from datetime import date, timedelta

import stripe

from django.db import transaction

from config.tasks import enqueue_on_commit
from marketplace.accounts.audit import audit_record
from marketplace.accounts.models import AuditAction
from marketplace.payments.stripe_api import StripeNotConfigured

from ..models import (
    LOAD_PERIOD_DAYS,
    BudgetLoad,
    BudgetStatus,
    Card,
    CardScheme,
    CardStatus,
    LoadSchedule,
    LoadStatus,
    PersonalBudget,
    SupportPlan,
)
from .budgets import budget_create
from .cards import card_issue

logger = logging.getLogger(__name__)

# Longer than any budget period a council agrees, short enough to keep the load list small.
LONGEST_BUDGET = timedelta(days=3 * 366)


class BudgetSetupError(Exception):
    """A change staff cannot make, with a reason they can act on."""


def _check_period(*, starts_on: date, ends_on: date) -> None:
    if ends_on <= starts_on:
        raise BudgetSetupError("The end date must be after the start date.")
    if ends_on - starts_on > LONGEST_BUDGET:
        raise BudgetSetupError("A budget can last 3 years at most. Set up a new budget after that.")


def _check_plan(*, cash_allowed: bool, cash_limit_pence: int) -> None:
    if cash_allowed and cash_limit_pence <= 0:
        raise BudgetSetupError("Enter the most cash that may be taken out in 4 weeks.")


def _sync_stripe_cards(budget: PersonalBudget) -> None:
    """After commit, send the budget's new limits and the plan's controls to its Stripe cards."""
    card_ids = list(
        budget.cards.filter(scheme=CardScheme.STRIPE)
        .exclude(status=CardStatus.CANCELED)
        .values_list("pk", flat=True)
    )
    if card_ids:
        from ..tasks import card_controls_sync_task

        enqueue_on_commit(card_controls_sync_task, card_ids)


def budget_set_up(
    *,
    budget_holder,
    actor,
    annual_amount_pence: int,
    starts_on: date,
    ends_on: date,
    load_schedule: str,
    care_group: str,
    deployment: str,
    outcomes: Iterable[str] = (),
    allowed_categories: Iterable[str] = (),
    cash_allowed: bool = False,
    cash_limit_pence: int = 0,
    approval_required_above_pence: int | None = None,
    agreed_on: date | None = None,
    ip_address: str | None = None,
) -> PersonalBudget:
    """A new budget for a person, with its support plan, ledger accounts and loads; audited.

    Guarantees: the period is valid and does not overlap another active budget
    of the same person, so a card payment always has one budget to come from.
    """
    _check_period(starts_on=starts_on, ends_on=ends_on)
    _check_plan(cash_allowed=cash_allowed, cash_limit_pence=cash_limit_pence)
    with transaction.atomic():
        overlapping = (
            PersonalBudget.objects.select_for_update()
            .filter(
                budget_holder=budget_holder,
                status__in=[BudgetStatus.ACTIVE, BudgetStatus.SUSPENDED],
                starts_on__lte=ends_on,
                ends_on__gte=starts_on,
            )
            .first()
        )
        if overlapping is not None:
            raise BudgetSetupError(
                f"{budget_holder.full_name} already has a budget from "
                f"{overlapping.starts_on:%-d %B %Y} to {overlapping.ends_on:%-d %B %Y}. "
                "Choose dates after it ends, or close it first."
            )
        budget = budget_create(
            budget_holder=budget_holder,
            annual_amount_pence=annual_amount_pence,
            starts_on=starts_on,
            ends_on=ends_on,
            load_schedule=load_schedule,
            deployment=deployment,
            outcomes=outcomes,
            allowed_categories=allowed_categories,
            cash_allowed=cash_allowed,
            cash_limit_pence=cash_limit_pence,
            approval_required_above_pence=approval_required_above_pence,
            agreed_on=agreed_on,
        )
        if care_group != budget.care_group:
            budget.care_group = care_group
            budget.save(update_fields=["care_group"])
        audit_record(
            actor=actor,
            action=AuditAction.CREATED,
            obj=budget,
            budget_holder=budget_holder,
            summary=f"Personal budget {budget.pk} set up with its support plan",
            changed_fields=[
                "annual_amount_pence",
                "load_schedule",
                "starts_on",
                "ends_on",
                "care_group",
                "deployment",
                "support_plan",
            ],
            ip_address=ip_address,
        )
    return budget


def _replan_loads(*, budget: PersonalBudget, previous_period_days: int) -> None:
    """Schedule the loads still to come for the budget's current amount, schedule and dates.

    Loads already paid in stay as they are; the next load is due when the
    period the last one paid for ends. Loads no longer in the plan are
    cancelled (kept, for the record), and a cancelled day that is back in
    the plan is scheduled again.
    """
    loads = {load.due_on: load for load in budget.loads.select_for_update()}
    posted_days = [day for day, load in loads.items() if load.status == LoadStatus.POSTED]
    day = (
        max(posted_days) + timedelta(days=previous_period_days) if posted_days else budget.starts_on
    )
    period = LOAD_PERIOD_DAYS[LoadSchedule(budget.load_schedule)]
    planned: dict[date, int] = {}
    while day <= budget.ends_on:
        days = min(period, (budget.ends_on - day).days + 1)
        pence = budget.annual_amount_pence * days // 364
        if pence > 0:
            planned[day] = pence
        day += timedelta(days=period)
    to_create, to_update = [], []
    for due_on, pence in planned.items():
        load = loads.get(due_on)
        if load is None:
            to_create.append(BudgetLoad(budget=budget, due_on=due_on, amount_pence=pence))
        elif load.status != LoadStatus.POSTED:
            load.amount_pence, load.status = pence, LoadStatus.SCHEDULED
            to_update.append(load)
    for due_on, load in loads.items():
        if load.status == LoadStatus.SCHEDULED and due_on not in planned:
            load.status = LoadStatus.CANCELLED
            to_update.append(load)
    BudgetLoad.objects.bulk_create(to_create)
    BudgetLoad.objects.bulk_update(to_update, ["amount_pence", "status"])


BUDGET_FIELDS = (
    "annual_amount_pence",
    "load_schedule",
    "starts_on",
    "ends_on",
    "care_group",
    "deployment",
    "status",
)


def budget_update(
    *, budget: PersonalBudget, actor, ip_address: str | None = None, **changes
) -> PersonalBudget:
    """Change a budget's amount, schedule, dates, care group, deployment or status; audited.

    Guarantees: money already paid in is never changed; the loads still to
    come follow the new amount, schedule and dates; the start date stays put
    once money has been paid in, and the end date cannot come before the
    last load paid in; the budget's Stripe cards get the new limits.
    """
    unknown = set(changes) - set(BUDGET_FIELDS)
    if unknown:
        raise TypeError(f"budget_update() cannot change {', '.join(sorted(unknown))}")
    with transaction.atomic():
        budget = PersonalBudget.objects.select_for_update().get(pk=budget.pk)
        changed = [name for name, value in changes.items() if getattr(budget, name) != value]
        if not changed:
            return budget
        if changes.get("annual_amount_pence", budget.annual_amount_pence) <= 0:
            raise BudgetSetupError("The annual amount must be more than £0.")
        starts_on = changes.get("starts_on", budget.starts_on)
        ends_on = changes.get("ends_on", budget.ends_on)
        _check_period(starts_on=starts_on, ends_on=ends_on)
        last_paid = budget.loads.filter(status=LoadStatus.POSTED).order_by("-due_on").first()
        if last_paid is not None:
            if starts_on != budget.starts_on:
                raise BudgetSetupError(
                    "The start date cannot change once money has been paid in. "
                    "End this budget and set up a new one instead."
                )
            if ends_on < last_paid.due_on:
                raise BudgetSetupError(
                    f"The end date cannot be before {last_paid.due_on:%-d %B %Y}, "
                    "when money was last paid in."
                )
        previous_period_days = budget.period_days
        for name in changed:
            setattr(budget, name, changes[name])
        budget.save(update_fields=changed)
        if {"annual_amount_pence", "load_schedule", "starts_on", "ends_on"} & set(changed):
            _replan_loads(budget=budget, previous_period_days=previous_period_days)
        audit_record(
            actor=actor,
            action=AuditAction.CHANGED,
            obj=budget,
            budget_holder=budget.budget_holder,
            summary=f"Personal budget {budget.pk} changed",
            changed_fields=changed,
            ip_address=ip_address,
        )
        _sync_stripe_cards(budget)
    return budget


PLAN_FIELDS = (
    "outcomes",
    "allowed_categories",
    "cash_allowed",
    "cash_limit_pence",
    "approval_required_above_pence",
    "agreed_on",
)


def support_plan_update(
    *, plan: SupportPlan, actor, ip_address: str | None = None, **changes
) -> SupportPlan:
    """Change what the support plan allows (cash and its limit, categories, approval); audited.

    Guarantees: no cash limit without cash, and cash needs a limit; the
    budget's Stripe cards get the plan's new controls after commit.
    """
    unknown = set(changes) - set(PLAN_FIELDS)
    if unknown:
        raise TypeError(f"support_plan_update() cannot change {', '.join(sorted(unknown))}")
    if "outcomes" in changes:
        changes["outcomes"] = [line.strip() for line in changes["outcomes"] if line.strip()]
    if "allowed_categories" in changes:
        changes["allowed_categories"] = sorted(changes["allowed_categories"])
    with transaction.atomic():
        plan = SupportPlan.objects.select_for_update().select_related("budget").get(pk=plan.pk)
        cash_allowed = changes.get("cash_allowed", plan.cash_allowed)
        if not cash_allowed:
            changes["cash_limit_pence"] = 0
        _check_plan(
            cash_allowed=cash_allowed,
            cash_limit_pence=changes.get("cash_limit_pence", plan.cash_limit_pence),
        )
        changed = [name for name, value in changes.items() if getattr(plan, name) != value]
        if not changed:
            return plan
        for name in changed:
            setattr(plan, name, changes[name])
        plan.save(update_fields=[*changed, "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.CHANGED,
            obj=plan,
            budget_holder=plan.budget.budget_holder,
            summary=f"Support plan of personal budget {plan.budget_id} changed",
            changed_fields=changed,
            ip_address=ip_address,
        )
        _sync_stripe_cards(plan.budget)
    return plan


def card_order(
    *,
    budget: PersonalBudget,
    actor,
    email: str = "",
    physical: bool = False,
    ip_address: str | None = None,
) -> Card:
    """Issue a Stripe Issuing card (and cardholder, the first time) for an open budget; audited.

    Guarantees: one active Stripe card per budget (freeze or cancel the old
    one first); the card's spending controls follow the support plan; nothing
    is recorded unless Stripe issued the card.
    """
    from django.utils import timezone

    if budget.status != BudgetStatus.ACTIVE or budget.ends_on < timezone.localdate():
        raise BudgetSetupError("Cards can only be issued on an active budget that has not ended.")
    # A council scheme card may stay in use while the Stripe card arrives.
    active = budget.cards.filter(scheme=CardScheme.STRIPE, status=CardStatus.ACTIVE).first()
    if active is not None:
        raise BudgetSetupError(
            f"This budget already has an active card ending {active.last4 or '----'}. "
            "Freeze or cancel it before issuing another."
        )
    try:
        card = card_issue(budget=budget, email=email, physical=physical)
    except StripeNotConfigured as error:
        raise BudgetSetupError(
            "Cards cannot be issued because Stripe is not set up on this site."
        ) from error
    except stripe.StripeError as error:
        logger.warning("Stripe refused to issue a card for budget %s: %s", budget.pk, error)
        raise BudgetSetupError(
            "Stripe did not issue the card. Try again later; nothing has been recorded."
        ) from error
    audit_record(
        actor=actor,
        action=AuditAction.CREATED,
        obj=card,
        budget_holder=budget.budget_holder,
        summary=f"{'Physical' if physical else 'Virtual'} card {card.pk} issued on personal budget {budget.pk}",
        changed_fields=["card"],
        ip_address=ip_address,
    )
    return card


# What staff may do to a card in each state, and the Stripe status it leads to.
CARD_ACTIONS: dict[str, tuple[set[str], str, str]] = {
    "freeze": ({CardStatus.ACTIVE}, CardStatus.INACTIVE, "frozen"),
    "unfreeze": ({CardStatus.INACTIVE}, CardStatus.ACTIVE, "unfrozen"),
    "cancel": ({CardStatus.ACTIVE, CardStatus.INACTIVE}, CardStatus.CANCELED, "cancelled"),
}


def card_status_change(*, card: Card, actor, action: str, ip_address: str | None = None) -> Card:
    """Freeze, unfreeze or cancel a Stripe card, at Stripe first and then here; audited.

    Guarantees: a cancelled card stays cancelled; a frozen card is declined
    by our own authorisation rules as well as by Stripe; nothing changes
    here unless Stripe accepted the change.
    """
    from .. import stripe_issuing

    if action not in CARD_ACTIONS:
        raise BudgetSetupError("Choose to freeze, unfreeze or cancel the card.")
    allowed_from, new_status, done = CARD_ACTIONS[action]
    if card.scheme != CardScheme.STRIPE:
        raise BudgetSetupError(
            f"This card is run by {card.get_scheme_display()}. Ask the scheme to {action} it."
        )
    if card.status not in allowed_from:
        raise BudgetSetupError(
            f"This card is {card.get_status_display().lower()}; it cannot be {done}."
        )
    try:
        stripe_issuing.card_status_update(card_id=card.reference, status=new_status)
    except StripeNotConfigured as error:
        raise BudgetSetupError("Stripe is not set up on this site.") from error
    except stripe.StripeError as error:
        logger.warning("Stripe refused to %s card %s: %s", action, card.pk, error)
        raise BudgetSetupError(
            f"Stripe did not accept the change. The card is still {card.get_status_display().lower()}."
        ) from error
    with transaction.atomic():
        card = Card.objects.select_for_update().select_related("budget").get(pk=card.pk)
        card.status = new_status
        card.save(update_fields=["status"])
        audit_record(
            actor=actor,
            action=AuditAction.CHANGED,
            obj=card,
            budget_holder=card.budget.budget_holder,
            summary=f"Card {card.pk} {done}",
            changed_fields=["status"],
            ip_address=ip_address,
        )
    return card
