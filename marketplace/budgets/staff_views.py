"""Council staff's budget screens: find a person, set up and change their budget and
support plan, issue, freeze and cancel cards. Proxies are added and ended on the
person's page (marketplace.accounts), which these screens link to.

No care management or finance role exists on the platform, so these screens are
for monitoring officers, who already reconcile budgets and import card statements.
"""

from django.contrib import messages
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from marketplace.accounts.access import role_required
from marketplace.accounts.audit import audit_record, client_ip
from marketplace.accounts.models import AuditAction, BudgetHolder
from marketplace.accounts.roles import Role
from marketplace.accounts.selectors import delegations_for_budget_holder

from .models import Card, CardScheme, CardStatus, PersonalBudget
from .selectors import budget_balance_pence
from .services import (
    BudgetSetupError,
    budget_set_up,
    budget_update,
    card_order,
    card_status_change,
    support_plan_update,
)
from .services.setup import CARD_ACTIONS
from .staff_forms import BudgetEditForm, BudgetSetUpForm, CardIssueForm, SupportPlanForm

STAFF_ROLES = (Role.MONITORING_OFFICER,)
MAX_RESULTS = 50


@role_required(*STAFF_ROLES)
def people(request):
    """Find a person by name or council reference."""
    query = request.GET.get("q", "").strip()[:100]
    results = []
    if query:
        results = list(
            BudgetHolder.objects.filter(
                Q(full_name__icontains=query) | Q(council_reference__iexact=query)
            ).order_by("full_name")[: MAX_RESULTS + 1]
        )
    return render(
        request,
        "budgets/staff/people.html",
        {
            "query": query,
            "results": results[:MAX_RESULTS],
            "more": len(results) > MAX_RESULTS,
        },
    )


@role_required(*STAFF_ROLES)
def person(request, person_id: int):
    """A person's budgets, cards and proxies, with what staff can change."""
    budget_holder = get_object_or_404(BudgetHolder, pk=person_id)
    audit_record(
        actor=request.user,
        action=AuditAction.VIEWED,
        obj=budget_holder,
        budget_holder=budget_holder,
        summary=f"Budgets and cards of budget holder {budget_holder.pk} (staff)",
        ip_address=client_ip(request),
    )
    budgets = list(
        PersonalBudget.objects.filter(budget_holder=budget_holder)
        .select_related("support_plan")
        .prefetch_related("cards")
        .order_by("-starts_on")
    )
    return render(
        request,
        "budgets/staff/person.html",
        {
            "person": budget_holder,
            "budgets": [(budget, budget_balance_pence(budget=budget)) for budget in budgets],
            "delegations": delegations_for_budget_holder(budget_holder=budget_holder),
            "CardStatus": CardStatus,
            "STRIPE": CardScheme.STRIPE,
        },
    )


def _pounds(pence: int | None) -> str:
    """An amount as the forms take it back: ``1300000`` pence is ``"13000.00"``."""
    return "" if pence is None else f"{pence / 100:.2f}"


def _budget(budget_id: int) -> PersonalBudget:
    return get_object_or_404(
        PersonalBudget.objects.select_related("budget_holder", "support_plan"), pk=budget_id
    )


def _form_page(request, form, *, person, heading: str, button: str, budget=None, intro=""):
    """The one staff form page: budget set-up and changes, plan changes, card issue."""
    return render(
        request,
        "budgets/staff/form.html",
        {
            "person": person,
            "budget": budget,
            "form": form,
            "heading": heading,
            "button": button,
            "intro": intro,
        },
    )


@role_required(*STAFF_ROLES)
@require_http_methods(["GET", "POST"])
def budget_new(request, person_id: int):
    budget_holder = get_object_or_404(BudgetHolder, pk=person_id)
    form = BudgetSetUpForm(
        request.POST or None,
        initial={"care_group": budget_holder.care_group, "load_schedule": "four_weekly"},
    )
    if request.method == "POST" and form.is_valid():
        try:
            budget = budget_set_up(
                budget_holder=budget_holder,
                actor=request.user,
                ip_address=client_ip(request),
                **form.cleaned_data,
            )
        except BudgetSetupError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                f"Budget set up for {budget_holder.full_name}: money is paid in from "
                f"{budget.starts_on:%-d %B %Y}.",
            )
            return redirect("budgets:staff-person", budget_holder.pk)
    return _form_page(
        request,
        form,
        person=budget_holder,
        heading="Set up a personal budget",
        button="Set up budget",
    )


@role_required(*STAFF_ROLES)
@require_http_methods(["GET", "POST"])
def budget_edit(request, budget_id: int):
    budget = _budget(budget_id)
    initial = {name: getattr(budget, name) for name in BudgetEditForm.base_fields}
    initial["annual_amount_pence"] = _pounds(budget.annual_amount_pence)
    form = BudgetEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            budget_update(
                budget=budget,
                actor=request.user,
                ip_address=client_ip(request),
                **form.cleaned_data,
            )
        except BudgetSetupError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Budget changed. Payments still to come follow the change.")
            return redirect("budgets:staff-person", budget.budget_holder_id)
    return _form_page(
        request,
        form,
        person=budget.budget_holder,
        budget=budget,
        heading="Change the budget",
        button="Save changes",
    )


@role_required(*STAFF_ROLES)
@require_http_methods(["GET", "POST"])
def plan_edit(request, budget_id: int):
    budget = _budget(budget_id)
    plan = budget.support_plan
    initial = {name: getattr(plan, name) for name in SupportPlanForm.base_fields}
    initial["outcomes"] = "\n".join(plan.outcomes)
    initial["cash_limit_pence"] = _pounds(plan.cash_limit_pence) if plan.cash_allowed else ""
    initial["approval_required_above_pence"] = _pounds(plan.approval_required_above_pence)
    form = SupportPlanForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["agreed_on"] = data["agreed_on"] or plan.agreed_on or budget.starts_on
        try:
            support_plan_update(
                plan=plan, actor=request.user, ip_address=client_ip(request), **data
            )
        except BudgetSetupError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Support plan changed. The card follows it straight away.")
            return redirect("budgets:staff-person", budget.budget_holder_id)
    return _form_page(
        request,
        form,
        person=budget.budget_holder,
        budget=budget,
        heading="Change what the support plan allows",
        button="Save changes",
    )


@role_required(*STAFF_ROLES)
@require_http_methods(["GET", "POST"])
def card_new(request, budget_id: int):
    budget = _budget(budget_id)
    holder_user = budget.budget_holder.user
    form = CardIssueForm(
        request.POST or None,
        initial={"kind": "virtual", "email": holder_user.email if holder_user else ""},
    )
    if request.method == "POST" and form.is_valid():
        try:
            card = card_order(
                budget=budget,
                actor=request.user,
                email=form.cleaned_data["email"],
                physical=form.cleaned_data["kind"] == "physical",
                ip_address=client_ip(request),
            )
        except BudgetSetupError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Card ending {card.last4 or '----'} issued.")
            return redirect("budgets:staff-person", budget.budget_holder_id)
    return _form_page(
        request,
        form,
        person=budget.budget_holder,
        budget=budget,
        heading="Issue a card",
        button="Issue card",
        intro="The card can only be used as the support plan allows. Gambling, bars, "
        "off-licences, tobacco, dating and escort services, pawn shops and money transfers "
        "are always blocked; cash only where the plan allows it.",
    )


@role_required(*STAFF_ROLES)
@require_http_methods(["GET", "POST"])
def card_status(request, card_id: int, action: str):
    card = get_object_or_404(
        Card.objects.select_related("budget__budget_holder"), pk=card_id, scheme=CardScheme.STRIPE
    )
    if action not in CARD_ACTIONS:
        return redirect("budgets:staff-person", card.budget.budget_holder_id)
    error = ""
    if request.method == "POST":
        try:
            card_status_change(
                card=card, actor=request.user, action=action, ip_address=client_ip(request)
            )
        except BudgetSetupError as problem:
            error = str(problem)
        else:
            messages.success(
                request, f"Card ending {card.last4 or '----'} {CARD_ACTIONS[action][2]}."
            )
            return redirect("budgets:staff-person", card.budget.budget_holder_id)
    return render(
        request,
        "budgets/staff/card_status.html",
        {"card": card, "person": card.budget.budget_holder, "action": action, "error": error},
        status=400 if error else 200,
    )
