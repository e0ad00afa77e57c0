"""Provider invoices, remittances and payment set-up; paying an invoice from a budget; approvals."""

import uuid

import stripe

from django.contrib import messages
from django.db import IntegrityError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from marketplace.accounts.access import role_required
from marketplace.accounts.audit import audit_record, client_ip
from marketplace.accounts.models import AuditAction, BudgetHolder
from marketplace.accounts.permissions import Scope, can_act_for
from marketplace.accounts.roles import Role

from . import selectors, services, stripe_connect
from .forms import DecisionForm, InvoiceForm, PayForm
from .models import ConnectedAccount, Invoice, InvoiceStatus, Payment
from .stripe_api import StripeNotConfigured

# --- Provider portal ------------------------------------------------------------------


def _provider_organisations(request):
    organisations = selectors.organisations_for_provider_user(user=request.user)
    if not organisations.exists():
        raise Http404("No provider.")
    return organisations


@role_required(Role.PROVIDER_STAFF)
def provider_invoices(request):
    organisations = _provider_organisations(request)
    accounts = {
        a.organisation_id: a
        for a in ConnectedAccount.objects.filter(organisation__in=organisations)
    }
    return render(
        request,
        "payments/provider_invoices.html",
        {
            "invoices": selectors.invoices_for_organisations(organisations=organisations)[:200],
            "organisations": [(o, accounts.get(o.pk)) for o in organisations],
        },
    )


@role_required(Role.PROVIDER_STAFF)
@require_http_methods(["GET", "POST"])
def invoice_new(request):
    organisations = _provider_organisations(request)
    form = InvoiceForm(request.POST or None, organisations=organisations)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            invoice = services.invoice_create(
                organisation=data["organisation"],
                budget_holder=data["budget_holder"],
                kind=data["kind"],
                provider_reference=data["provider_reference"],
                description=data["description"],
                category=data["category"],
                amount_pence=data["amount_pence"],
                due_on=data["due_on"],
                created_by=request.user,
            )
        except IntegrityError:
            form.add_error(
                "provider_reference", "You have already used this reference. Enter a new one."
            )
        else:
            messages.success(
                request,
                f"{invoice.get_kind_display()} {invoice.provider_reference} sent. "
                "The person or their proxy can now pay it from their budget.",
            )
            return redirect("payments:provider-invoices")
    return render(request, "payments/invoice_form.html", {"form": form})


@role_required(Role.PROVIDER_STAFF)
@require_POST
def invoice_cancel(request, invoice_id: int):
    organisations = _provider_organisations(request)
    invoice = get_object_or_404(Invoice, pk=invoice_id, organisation__in=organisations)
    try:
        services.invoice_cancel(invoice=invoice, by=request.user)
        messages.success(
            request, f"{invoice.get_kind_display()} {invoice.provider_reference} cancelled."
        )
    except services.PaymentError as error:
        messages.error(request, str(error))
    return redirect("payments:provider-invoices")


@role_required(Role.PROVIDER_STAFF)
def remittances(request):
    organisations = _provider_organisations(request)
    return render(
        request,
        "payments/remittances.html",
        {
            "payments": selectors.remittances_for_organisations(organisations=organisations)[:500],
        },
    )


@role_required(Role.PROVIDER_STAFF)
@require_http_methods(["GET", "POST"])
def payment_setup(request, organisation_id: int):
    organisation = get_object_or_404(_provider_organisations(request), pk=organisation_id)
    account = ConnectedAccount.objects.filter(organisation=organisation).first()
    if request.method == "POST":
        try:
            account = services.connected_account_start(
                organisation=organisation, email=organisation.email
            )
            url = stripe_connect.connect_onboarding_link(
                account_id=account.stripe_account_id,
                refresh_url=request.build_absolute_uri(
                    reverse("payments:payment-setup", args=[organisation.pk])
                ),
                return_url=request.build_absolute_uri(
                    reverse("payments:payment-setup-return", args=[organisation.pk])
                ),
            )
        except (StripeNotConfigured, stripe.StripeError):
            messages.error(request, "Payment set-up is not available right now. Try again later.")
            return redirect("payments:payment-setup", organisation.pk)
        return redirect(url)
    return render(
        request, "payments/payment_setup.html", {"organisation": organisation, "account": account}
    )


@role_required(Role.PROVIDER_STAFF)
def payment_setup_return(request, organisation_id: int):
    organisation = get_object_or_404(_provider_organisations(request), pk=organisation_id)
    account = get_object_or_404(ConnectedAccount, organisation=organisation)
    try:
        services.connected_account_update(
            state=stripe_connect.connect_account_retrieve(account_id=account.stripe_account_id)
        )
    except (StripeNotConfigured, stripe.StripeError):
        messages.error(
            request, "We could not check with Stripe just now. Your status will update shortly."
        )
    return redirect("payments:payment-setup", organisation.pk)


# --- Budget holders and proxies ----------------------------------------------------------


def _holder_or_404(request, person_id: int, scope: Scope = Scope.VIEW) -> BudgetHolder:
    budget_holder = get_object_or_404(BudgetHolder, pk=person_id)
    if not can_act_for(request.user, budget_holder, scope):
        raise Http404("No such person.")
    return budget_holder


@role_required(Role.BUDGET_HOLDER, Role.PROXY)
def holder_invoices(request, person_id: int):
    budget_holder = _holder_or_404(request, person_id)
    audit_record(
        actor=request.user,
        action=AuditAction.VIEWED,
        obj=budget_holder,
        budget_holder=budget_holder,
        summary=f"Invoices to budget holder {budget_holder.pk}",
        ip_address=client_ip(request),
    )
    invoices = selectors.invoices_to_pay(budget_holder=budget_holder)
    return render(
        request,
        "payments/holder_invoices.html",
        {
            "person": budget_holder,
            "to_pay": [
                i
                for i in invoices
                if i.status in (InvoiceStatus.UNPAID, InvoiceStatus.AWAITING_APPROVAL)
            ],
            "history": [
                i
                for i in invoices
                if i.status not in (InvoiceStatus.UNPAID, InvoiceStatus.AWAITING_APPROVAL)
            ][:100],
            "may_pay": can_act_for(request.user, budget_holder, Scope.PAY),
        },
    )


@role_required(Role.BUDGET_HOLDER, Role.PROXY)
@require_http_methods(["GET", "POST"])
def pay_invoice(request, person_id: int, invoice_id: int):
    budget_holder = _holder_or_404(request, person_id, Scope.PAY)
    invoice = get_object_or_404(
        Invoice.objects.select_related("organisation"), pk=invoice_id, budget_holder=budget_holder
    )
    live = invoice.payments.exclude(status__in=["failed", "declined"]).first()
    if live is not None:
        return redirect("payments:payment-done", budget_holder.pk, live.pk)
    budget = selectors.budget_current_for(budget_holder=budget_holder)
    form = PayForm(request.POST or None, initial={"idempotency_key": uuid.uuid4().hex})
    error = None
    if request.method == "POST" and form.is_valid():
        try:
            payment, _ = services.payment_create(
                invoice=invoice,
                paid_by=request.user,
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except services.PaymentError as problem:
            error = str(problem)
        else:
            return redirect("payments:payment-done", budget_holder.pk, payment.pk)
    audit_record(
        actor=request.user,
        action=AuditAction.VIEWED,
        obj=invoice,
        budget_holder=budget_holder,
        summary=f"Invoice {invoice.pk} before paying",
        ip_address=client_ip(request),
    )
    return render(
        request,
        "payments/pay_check.html",
        {
            "person": budget_holder,
            "invoice": invoice,
            "form": form,
            "error": error,
            "budget": budget,
            "available_pence": selectors.budget_available_pence(budget=budget) if budget else 0,
            "approval_reasons": selectors.payment_approval_reasons(invoice=invoice, budget=budget)
            if budget
            else [],
        },
    )


@role_required(Role.BUDGET_HOLDER, Role.PROXY)
def payment_done(request, person_id: int, payment_id: int):
    budget_holder = _holder_or_404(request, person_id)
    payment = get_object_or_404(
        Payment.objects.select_related("invoice", "organisation"),
        pk=payment_id,
        budget_holder=budget_holder,
    )
    return render(
        request, "payments/payment_done.html", {"person": budget_holder, "payment": payment}
    )


# --- Monitoring officers: approvals and card-merchant matching -----------------------------


@role_required(Role.MONITORING_OFFICER)
def approvals(request):
    return render(
        request, "payments/approvals.html", {"payments": selectors.payments_awaiting_approval()}
    )


@role_required(Role.MONITORING_OFFICER)
@require_http_methods(["GET", "POST"])
def approval_detail(request, payment_id: int):
    payment = get_object_or_404(
        Payment.objects.select_related("invoice", "organisation", "budget_holder", "paid_by"),
        pk=payment_id,
    )
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        approve = form.cleaned_data["decision"] == "approve"
        try:
            services.payment_decide(
                payment=payment,
                officer=request.user,
                approve=approve,
                note=form.cleaned_data["note"],
            )
        except services.PaymentError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                f"Payment {payment.remittance_reference} {'approved and sent' if approve else 'declined'}.",
            )
            return redirect("payments:approvals")
    audit_record(
        actor=request.user,
        action=AuditAction.VIEWED,
        obj=payment,
        budget_holder=payment.budget_holder,
        summary=f"Payment {payment.pk} awaiting approval",
        ip_address=client_ip(request),
    )
    budget = selectors.budget_current_for(budget_holder=payment.budget_holder)
    return render(
        request,
        "payments/approval_detail.html",
        {
            "payment": payment,
            "form": form,
            "budget": budget,
            "available_pence": selectors.budget_available_pence(budget=budget) if budget else 0,
            "today": timezone.localdate(),
        },
    )
