import base64

import segno
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from .audit import audit_record, client_ip
from .forms import CreateAccountForm, DelegationForm, RevokeDelegationForm, SignInForm, TokenForm
from .models import AuditAction, BudgetHolder, Delegation, User
from .permissions import can_manage_delegations, can_view_budget_holder
from .roles import Role
from .selectors import (
    audit_events_for_budget_holder,
    budget_holders_for_user,
    delegations_for_budget_holder,
)
from .services import DelegationError, delegation_create, delegation_revoke


class SignInView(auth_views.LoginView):
    template_name = "accounts/sign_in.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


@require_http_methods(["GET", "POST"])
def create_account(request):
    if request.user.is_authenticated:
        return redirect("accounts:home")
    form = CreateAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save(commit=False)
        user.set_password(form.cleaned_data["password"])
        user.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Your account has been created.")
        return redirect("accounts:home")
    return render(request, "accounts/create_account.html", {"form": form})


@login_required
def account_home(request):
    user: User = request.user
    return render(
        request,
        "accounts/home.html",
        {
            "roles": sorted(user.roles, key=lambda role: list(Role).index(role)),
            "Role": Role,
            "people": budget_holders_for_user(user=user),
            "memberships": user.provider_memberships.select_related("organisation"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request):
    user: User = request.user
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            messages.success(request, "Two-factor sign-in is set up.")
            return redirect(_safe_next(request, reverse("accounts:home")))
        form.add_error(
            "token", "That code did not match. Check the time on your phone and try again."
        )
    qr_svg = segno.make(device.config_url, error="m").svg_data_uri(scale=5, dark="#0b0c0c")
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return render(
        request,
        "accounts/two_factor_setup.html",
        {"form": form, "qr_svg": qr_svg, "secret": secret},
    )


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request):
    user: User = request.user
    if user.is_verified():
        return redirect(_safe_next(request, reverse("accounts:home")))
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        devices = list(TOTPDevice.objects.filter(user=user, confirmed=True))
        allowed = [device for device in devices if device.verify_is_allowed()[0]]
        for device in allowed:
            if device.verify_token(form.cleaned_data["token"]):
                otp_login(request, device)
                return redirect(_safe_next(request, reverse("accounts:home")))
        if devices and not allowed:
            # django-otp slows down repeated guesses: each failure doubles the wait.
            form.add_error("token", "Too many wrong codes. Wait a minute, then try again.")
        else:
            form.add_error("token", "That code did not match. Enter the newest code from your app.")
    return render(request, "accounts/two_factor_verify.html", {"form": form})


def _budget_holder_or_404(request, pk: int) -> BudgetHolder:
    """Load a budget holder the signed-in person may see; 404 for others, so ids reveal nothing."""
    budget_holder = get_object_or_404(BudgetHolder, pk=pk)
    if not can_view_budget_holder(request.user, budget_holder):
        raise Http404("No such person.")
    return budget_holder


@login_required
def people_list(request):
    return render(
        request,
        "accounts/people_list.html",
        {"people": budget_holders_for_user(user=request.user)},
    )


@login_required
def person_detail(request, pk: int):
    budget_holder = _budget_holder_or_404(request, pk)
    audit_record(
        actor=request.user,
        action=AuditAction.VIEWED,
        obj=budget_holder,
        budget_holder=budget_holder,
        summary=f"Personal details of budget holder {budget_holder.pk}",
        ip_address=client_ip(request),
    )
    return render(
        request,
        "accounts/person_detail.html",
        {
            "person": budget_holder,
            "delegations": delegations_for_budget_holder(budget_holder=budget_holder),
            "can_manage_delegations": can_manage_delegations(request.user, budget_holder),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def delegation_add(request, pk: int):
    budget_holder = _budget_holder_or_404(request, pk)
    if not can_manage_delegations(request.user, budget_holder):
        raise PermissionDenied("Only the person, or the council, can choose who acts for them.")
    form = DelegationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            delegation_create(
                budget_holder=budget_holder,
                proxy=data["proxy_email"],
                relationship=data["relationship"],
                may_pay=data["may_pay"],
                may_review=data["may_review"],
                may_manage=data["may_manage"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                created_by=request.user,
                ip_address=client_ip(request),
            )
        except DelegationError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, f"{data['proxy_email']} can now act for {budget_holder.display_name}."
            )
            return redirect("accounts:person-detail", pk=budget_holder.pk)
    return render(request, "accounts/delegation_form.html", {"form": form, "person": budget_holder})


@login_required
@require_http_methods(["GET", "POST"])
def delegation_end(request, pk: int, delegation_pk: int):
    budget_holder = _budget_holder_or_404(request, pk)
    if not can_manage_delegations(request.user, budget_holder):
        raise PermissionDenied("Only the person, or the council, can end a delegation.")
    delegation = get_object_or_404(Delegation, pk=delegation_pk, budget_holder=budget_holder)
    form = RevokeDelegationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        delegation_revoke(
            delegation=delegation,
            revoked_by=request.user,
            reason=form.cleaned_data["reason"],
            ip_address=client_ip(request),
        )
        messages.success(
            request, f"{delegation.proxy} can no longer act for {budget_holder.display_name}."
        )
        return redirect("accounts:person-detail", pk=budget_holder.pk)
    return render(
        request,
        "accounts/delegation_end.html",
        {"form": form, "person": budget_holder, "delegation": delegation},
    )


@login_required
def person_activity(request, pk: int):
    """Who has looked at or changed this person's records: open to the person and their proxies."""
    budget_holder = _budget_holder_or_404(request, pk)
    return render(
        request,
        "accounts/person_activity.html",
        {
            "person": budget_holder,
            "events": audit_events_for_budget_holder(budget_holder=budget_holder)[:200],
        },
    )
