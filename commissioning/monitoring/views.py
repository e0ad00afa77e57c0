"""The monitoring officer's case queue, case work, matching screen and quarterly statements."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from marketplace.accounts.access import role_required
from marketplace.accounts.audit import audit_record, client_ip
from marketplace.accounts.models import AuditAction, BudgetHolder
from marketplace.accounts.roles import Role
from marketplace.budgets.models import PersonalBudget
from marketplace.payments.forms import MerchantConfirmForm
from marketplace.payments.selectors import merchant_purchases, merchants_to_review
from marketplace.payments.services import merchant_match_confirm

from . import selectors, services
from .forms import (
    AnswerForm,
    ClawbackForm,
    CloseForm,
    EvidenceRequestForm,
    MonitoringSettingsForm,
    NoteForm,
)
from .models import CaseStatus, EvidenceRequest, MonitoringCase, MonitoringSettings, Rule


def _audit_view(request, case: MonitoringCase, what: str):
    audit_record(
        actor=request.user,
        action=AuditAction.VIEWED,
        obj=case,
        budget_holder=case.budget_holder,
        summary=f"{what} of monitoring case {case.pk}",
        ip_address=client_ip(request),
    )


@role_required(Role.MONITORING_OFFICER)
def cases(request):
    status = request.GET.get("status", "open")
    rule = request.GET.get("rule", "")
    if rule not in Rule.values:
        rule = ""
    return render(
        request,
        "monitoring/cases.html",
        {
            "cases": selectors.cases_queue(status=status, rule=rule)[:300],
            "counts": selectors.cases_counts(),
            "rules": Rule.choices,
            "status": status,
            "rule": rule,
        },
    )


def _this_quarter() -> tuple[int, int]:
    today = timezone.localdate()
    return today.year, (today.month - 1) // 3 + 1


def _case(pk: int) -> MonitoringCase:
    return get_object_or_404(
        MonitoringCase.objects.select_related("budget_holder", "budget"), pk=pk
    )


@role_required(Role.MONITORING_OFFICER)
def case_detail(request, pk: int):
    case = _case(pk)
    _audit_view(request, case, "Evidence")
    return render(
        request,
        "monitoring/case_detail.html",
        {
            "case": case,
            "notes": case.notes.select_related("author"),
            "requests": case.evidence_requests.select_related("requested_by", "responded_by"),
            "clawbacks": case.clawbacks.select_related("confirmed_by"),
            "note_form": NoteForm(),
            "this_quarter": _this_quarter(),
        },
    )


@role_required(Role.MONITORING_OFFICER)
@require_POST
def case_note(request, pk: int):
    case = _case(pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        services.case_note_add(case=case, author=request.user, text=form.cleaned_data["text"])
        messages.success(request, "Note added.")
    else:
        messages.error(request, "Enter a note.")
    return redirect("monitoring:case", case.pk)


@role_required(Role.MONITORING_OFFICER)
@require_http_methods(["GET", "POST"])
def case_request(request, pk: int):
    case = _case(pk)
    form = EvidenceRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.evidence_request_create(case=case, officer=request.user, **form.cleaned_data)
        except services.CaseError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                f"Question sent to {case.budget_holder.full_name} and anyone acting for them.",
            )
            return redirect("monitoring:case", case.pk)
    return render(
        request,
        "monitoring/case_form.html",
        {
            "case": case,
            "form": form,
            "heading": "Ask for an explanation",
            "button": "Send question",
        },
    )


@role_required(Role.MONITORING_OFFICER)
@require_http_methods(["GET", "POST"])
def case_clawback(request, pk: int):
    case = _case(pk)
    form = ClawbackForm(request.POST or None, initial={"reason": "Unspent money above the limit"})
    confirming = False
    if request.method == "POST" and form.is_valid():
        if request.POST.get("confirm") == "yes":
            try:
                clawback = services.clawback_create(
                    case=case, officer=request.user, **form.cleaned_data
                )
            except services.CaseError as error:
                form.add_error("amount_pence", str(error))
            else:
                from cms.templatetags.govuk import pence

                messages.success(
                    request, f"{pence(clawback.amount_pence)} recovered from the budget."
                )
                return redirect("monitoring:case", case.pk)
        else:
            confirming = True
    return render(
        request,
        "monitoring/clawback.html",
        {"case": case, "form": form, "confirming": confirming},
    )


@role_required(Role.MONITORING_OFFICER)
@require_http_methods(["GET", "POST"])
def case_close(request, pk: int):
    case = _case(pk)
    form = CloseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.case_close(case=case, officer=request.user, **form.cleaned_data)
        except services.CaseError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Case {case.reference} closed.")
            return redirect("monitoring:cases")
    return render(
        request,
        "monitoring/case_form.html",
        {"case": case, "form": form, "heading": "Close this case", "button": "Close case"},
    )


@role_required(Role.MONITORING_OFFICER)
@require_http_methods(["GET", "POST"])
def monitoring_settings(request):
    config = MonitoringSettings.load()
    form = MonitoringSettingsForm(request.POST or None, instance=config)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Thresholds saved. They apply from the next daily run.")
        return redirect("monitoring:settings")
    return render(request, "monitoring/settings.html", {"form": form})


@role_required(Role.MONITORING_OFFICER)
@require_http_methods(["GET", "POST"])
def matching(request):
    if request.method == "POST":
        form = MerchantConfirmForm(request.POST)
        if form.is_valid():
            key = form.cleaned_data["merchant_key"]
            organisation = form.cleaned_data["organisation"]
            changed = merchant_match_confirm(
                merchant_key_value=key, organisation=organisation, officer=request.user
            )
            if organisation is not None:
                messages.success(
                    request,
                    f"{changed} purchase{'s' if changed != 1 else ''} from “{key}” now show {organisation.name}.",
                )
            else:
                messages.success(request, f"“{key}” marked as not a provider in the directory.")
        else:
            messages.error(request, "Choose a provider, or say it is not one.")
        return redirect("monitoring:matching")
    groups = merchants_to_review()
    return render(
        request,
        "monitoring/matching.html",
        {"groups": groups, "form": MerchantConfirmForm()},
    )


@role_required(Role.MONITORING_OFFICER)
def matching_merchant(request):
    key = request.GET.get("merchant", "")
    purchases = merchant_purchases(merchant_key=key)[:200] if key else []
    return render(
        request, "monitoring/matching_merchant.html", {"key": key, "purchases": purchases}
    )


def _quarter_or_404(year: int, quarter: int) -> None:
    if not 1 <= quarter <= 4 or not 2000 <= year <= 2100:
        raise Http404("No such quarter.")


@role_required(Role.MONITORING_OFFICER)
def quarter(request, budget_id: int, year: int, quarter: int):
    """The quarterly reconciliation of one budget, from its ledger."""
    _quarter_or_404(year, quarter)
    budget = get_object_or_404(PersonalBudget.objects.select_related("budget_holder"), pk=budget_id)
    person = budget.budget_holder
    statement = selectors.quarter_statement(budget=budget, year=year, quarter=quarter)
    audit_record(
        actor=request.user,
        action=AuditAction.VIEWED,
        obj=budget,
        budget_holder=person,
        summary=f"Quarterly reconciliation {statement.label} of personal budget {budget.pk}",
        ip_address=client_ip(request),
    )
    previous = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    following = (year, quarter + 1) if quarter < 4 else (year + 1, 1)
    return render(
        request,
        "monitoring/quarter.html",
        {
            "person": person,
            "budget": budget,
            "other_budgets": PersonalBudget.objects.filter(budget_holder=person)
            .exclude(pk=budget.pk)
            .order_by("-starts_on"),
            "statement": statement,
            "period": (year, quarter),
            "previous": previous,
            "following": following,
            "cases": budget.monitoring_cases.all()[:20],
        },
    )


@role_required(Role.MONITORING_OFFICER)
def person_quarter(request, person_id: int, year: int, quarter: int):
    """The old per-person address: go to the budget that was open in that quarter."""
    _quarter_or_404(year, quarter)
    person = get_object_or_404(BudgetHolder, pk=person_id)
    starts_on, ends_on = selectors.quarter_bounds(year, quarter)
    budgets = PersonalBudget.objects.filter(budget_holder=person).order_by("-starts_on")
    budget = (
        budgets.filter(starts_on__lte=ends_on, ends_on__gte=starts_on).first() or budgets.first()
    )
    if budget is None:
        raise Http404("This person has no budget.")
    return redirect("monitoring:quarter", budget.pk, (year, quarter))


# --- The budget holder's side: answering the council's questions ---------------------------


@login_required
@require_http_methods(["GET", "POST"])
def questions(request, person_id: int):
    person = get_object_or_404(BudgetHolder, pk=person_id)
    if not services.may_answer(request.user, person):
        raise Http404("No such person.")
    open_requests = list(selectors.evidence_requests_open_for(budget_holder=person))
    forms_by_id = {r.pk: AnswerForm(prefix=f"q{r.pk}") for r in open_requests}
    if request.method == "POST":
        evidence_request = get_object_or_404(
            EvidenceRequest, pk=request.POST.get("request_id"), case__budget_holder=person
        )
        form = AnswerForm(request.POST, prefix=f"q{evidence_request.pk}")
        forms_by_id[evidence_request.pk] = form
        if form.is_valid():
            try:
                services.evidence_request_answer(
                    request=evidence_request,
                    user=request.user,
                    response=form.cleaned_data["response"],
                )
            except services.CaseError as error:
                messages.error(request, str(error))
            else:
                messages.success(request, "Thank you. Your answer has been sent to the council.")
            return redirect("monitoring:questions", person.pk)
    audit_record(
        actor=request.user,
        action=AuditAction.VIEWED,
        obj=person,
        budget_holder=person,
        summary=f"Council questions for budget holder {person.pk}",
        ip_address=client_ip(request),
    )
    return render(
        request,
        "monitoring/questions.html",
        {
            "person": person,
            "items": [(r, forms_by_id[r.pk]) for r in open_requests],
            "CaseStatus": CaseStatus,
        },
    )
