"""Budget holder pages (the person, their proxies, monitoring officers read-only) and
the statement import screen for monitoring officers."""

import csv
import io
from datetime import date

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from cms.formatting import format_pence
from marketplace.accounts.access import role_required
from marketplace.accounts.audit import audit_record, client_ip
from marketplace.accounts.models import AuditAction, BudgetHolder
from marketplace.accounts.permissions import Scope, can_act_for, can_view_budget_holder
from marketplace.accounts.roles import Role

from .forms import StatementImportForm
from .selectors import (
    SURPLUS_WEEKS_WARNING,
    budget_available_pence,
    budget_balance_pence,
    budget_current_for,
    budget_held_pence,
    budget_next_load,
    budget_spend_by_category,
    budget_statement,
    budget_weeks_of_funding,
    guide_url,
)
from .services import StatementError, statement_import

VIEWER_ROLES = (Role.BUDGET_HOLDER, Role.PROXY, Role.MONITORING_OFFICER)


def _holder_and_budget(request, person_id: int):
    """The person and their current budget, for people who may see them; 404 for anyone else."""
    budget_holder = get_object_or_404(BudgetHolder, pk=person_id)
    if not can_view_budget_holder(request.user, budget_holder):
        raise Http404("No such budget.")
    budget = budget_current_for(budget_holder=budget_holder)
    if budget is None:
        raise Http404("No such budget.")
    return budget_holder, budget


def _period(request, budget) -> tuple[date, date]:
    def parse(name, default):
        try:
            return date.fromisoformat(request.GET.get(name, ""))
        except ValueError:
            return default

    return parse("from", budget.starts_on), parse("to", min(budget.ends_on, timezone.localdate()))


@role_required(*VIEWER_ROLES)
def budget_detail(request, person_id: int):
    budget_holder, budget = _holder_and_budget(request, person_id)
    audit_record(
        actor=request.user,
        action=AuditAction.VIEWED,
        obj=budget,
        budget_holder=budget_holder,
        summary=f"Budget and statement of budget holder {budget_holder.pk}",
        ip_address=client_ip(request),
    )
    lines = budget_statement(budget=budget)
    weeks = budget_weeks_of_funding(budget=budget)
    spend = budget_spend_by_category(budget=budget)
    largest = max((total for _, total in spend), default=0)
    return render(
        request,
        "budgets/budget_detail.html",
        {
            "person": budget_holder,
            "budget": budget,
            "plan": getattr(budget, "support_plan", None),
            "balance_pence": budget_balance_pence(budget=budget),
            "available_pence": budget_available_pence(budget=budget),
            "held_pence": budget_held_pence(budget=budget),
            "next_load": budget_next_load(budget=budget),
            "weeks_of_funding": weeks,
            "surplus_warning": weeks > SURPLUS_WEEKS_WARNING,
            "surplus_weeks": SURPLUS_WEEKS_WARNING,
            "spend_by_category": [
                (label, total, round(100 * total / largest) if largest else 0)
                for label, total in spend
            ],
            "lines": list(reversed(lines))[:100],
            "line_count": len(lines),
            "cards": budget.cards.all(),
            "guide_url": guide_url(),
            "is_self": budget_holder.user_id == request.user.pk,
            "may_pay": can_act_for(request.user, budget_holder, Scope.PAY),
        },
    )


def _export_audit(request, budget_holder, budget, what: str):
    audit_record(
        actor=request.user,
        action=AuditAction.EXPORTED,
        obj=budget,
        budget_holder=budget_holder,
        summary=f"Statement ({what}) of budget holder {budget_holder.pk}",
        ip_address=client_ip(request),
    )


@role_required(*VIEWER_ROLES)
def statement_csv(request, person_id: int):
    budget_holder, budget = _holder_and_budget(request, person_id)
    start, end = _period(request, budget)
    _export_audit(request, budget_holder, budget, "CSV")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Date", "Description", "Money in", "Money out", "Balance"])
    for line in budget_statement(budget=budget, start=start, end=end):
        writer.writerow(
            [
                line.on.isoformat(),
                line.description,
                f"{line.money_in_pence / 100:.2f}" if line.money_in_pence else "",
                f"{line.money_out_pence / 100:.2f}" if line.money_out_pence else "",
                f"{line.balance_pence / 100:.2f}" if line.balance_pence is not None else "",
            ]
        )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="statement-{budget_holder.council_reference}-{start}-{end}.csv"'
    )
    return response


@role_required(*VIEWER_ROLES)
def statement_pdf(request, person_id: int):
    from .statement_pdf import statement_pdf_bytes

    budget_holder, budget = _holder_and_budget(request, person_id)
    start, end = _period(request, budget)
    _export_audit(request, budget_holder, budget, "PDF")
    content = statement_pdf_bytes(
        budget_holder=budget_holder,
        budget=budget,
        start=start,
        end=end,
        lines=budget_statement(budget=budget, start=start, end=end),
        balance=format_pence(budget_balance_pence(budget=budget)),
    )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="statement-{budget_holder.council_reference}-{start}-{end}.pdf"'
    )
    return response


@role_required(Role.MONITORING_OFFICER)
@require_http_methods(["GET", "POST"])
def statement_import_view(request):
    form = StatementImportForm(request.POST or None, request.FILES or None)
    result, problems = None, []
    if request.method == "POST" and form.is_valid():
        upload_name = request.FILES["statement"].name
        try:
            result = statement_import(
                text=form.cleaned_data["statement"],
                scheme_name=form.cleaned_data["scheme"],
                filename=upload_name,
                imported_by=request.user,
            )
        except StatementError as error:
            problems = error.problems
            form.add_error(
                "statement", f"{error} Correct the lines listed below and upload the file again."
            )
    return render(
        request,
        "budgets/statement_import.html",
        {
            "form": form,
            "result": result,
            "problems": problems[:500],
            "problem_count": len(problems),
        },
        status=400 if problems else 200,
    )
