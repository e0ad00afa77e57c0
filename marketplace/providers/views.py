"""Provider self-service at /provider/: organisations, services, prices, vacancies and the team.

Anyone signed in may add or claim an organisation; everything about one
organisation needs a membership of it, checked per request, and answers 404
for any other organisation so ids reveal nothing.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from marketplace.accounts.access import role_required
from marketplace.accounts.roles import Role

from . import selectors
from .forms import ClaimForm, InvitationForm, OrganisationForm, ServiceForm, VacanciesForm
from .models import ClaimStatus, Invitation, Membership, Organisation, Service
from .services import (
    DirectoryError,
    directory_record_submit,
    invitation_accept,
    invitation_cancel,
    invitation_create,
    membership_remove,
    organisation_claim_request,
    organisation_create,
    service_confirm,
    service_submit,
    service_vacancies_update,
)


def _portal_organisation(request, pk: int) -> Organisation:
    return selectors.organisation_for_member(user=request.user, pk=pk)


@login_required
def portal(request):
    organisations = list(selectors.organisations_for_user(user=request.user))
    for organisation in organisations:
        organisation.moderation = selectors.record_moderation_status(record=organisation)
        organisation.stale_count = organisation.services.filter(
            stale_flagged_at__isnull=False
        ).count()
    claims = request.user.organisation_claims.exclude(status=ClaimStatus.APPROVED).select_related(
        "organisation"
    )
    return render(
        request,
        "providers/portal.html",
        {"organisations": organisations, "claims": claims},
    )


@login_required
def organisation_new(request):
    form = OrganisationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        organisation = organisation_create(user=request.user, organisation=form.save(commit=False))
        messages.success(
            request,
            f"{organisation.name} has been sent to the council to check. Add your services while you wait.",
        )
        return redirect("providers:portal_organisation", organisation.pk)
    return render(request, "providers/organisation_form.html", {"form": form, "creating": True})


@login_required
def claim_search(request):
    query = request.GET.get("q", "")
    results = selectors.organisations_claimable(query=query)
    return render(request, "providers/claim_search.html", {"query": query, "results": results})


@login_required
def claim_new(request, pk: int):
    organisation = get_object_or_404(Organisation.objects.published(), pk=pk)
    form = ClaimForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organisation_claim_request(
                organisation=organisation, user=request.user, **form.cleaned_data
            )
        except DirectoryError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                f"We have sent your request to the council. We will email you about {organisation.name}.",
            )
            return redirect("providers:portal")
    return render(
        request, "providers/claim_form.html", {"form": form, "organisation": organisation}
    )


@role_required(Role.PROVIDER_STAFF)
def organisation_detail(request, pk: int):
    organisation = _portal_organisation(request, pk)
    services = list(organisation.services.order_by("name"))
    for service in services:
        service.moderation = selectors.record_moderation_status(record=service)
    return render(
        request,
        "providers/organisation_detail.html",
        {
            "organisation": organisation,
            "draft": selectors.record_draft(record=organisation),
            "moderation": selectors.record_moderation_status(record=organisation),
            "services": services,
            "stale_services": [s for s in services if s.stale_flagged_at or s.is_stale],
            "is_owner": selectors.is_owner(user=request.user, organisation=organisation),
        },
    )


@role_required(Role.PROVIDER_STAFF)
def organisation_edit(request, pk: int):
    organisation = _portal_organisation(request, pk)
    draft = selectors.record_draft(record=organisation)
    form = OrganisationForm(request.POST or None, instance=draft)
    if request.method == "POST" and form.is_valid():
        try:
            directory_record_submit(record=form.save(commit=False), user=request.user)
        except DirectoryError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                "Your changes have been sent to the council to check. People see them once approved.",
            )
            return redirect("providers:portal_organisation", organisation.pk)
    return render(
        request, "providers/organisation_form.html", {"form": form, "organisation": organisation}
    )


def _service_form_page(request, organisation: Organisation, service: Service | None):
    draft = (
        selectors.record_draft(record=service) if service else Service(organisation=organisation)
    )
    initial = ServiceForm.initial_for(draft) if service else {"accepts_invoice": True}
    form = ServiceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        form.apply_to(draft)
        draft.organisation = organisation
        try:
            service_submit(service=draft, user=request.user)
        except DirectoryError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                f"{draft.name} has been sent to the council to check. People see the changes once approved.",
            )
            return redirect("providers:portal_organisation", organisation.pk)
    return render(
        request,
        "providers/service_form.html",
        {"form": form, "organisation": organisation, "service": service},
    )


@role_required(Role.PROVIDER_STAFF)
def service_new(request, pk: int):
    return _service_form_page(request, _portal_organisation(request, pk), None)


@role_required(Role.PROVIDER_STAFF)
def service_edit(request, pk: int, service_pk: int):
    organisation = _portal_organisation(request, pk)
    service = selectors.service_for_member(
        user=request.user, organisation=organisation, pk=service_pk
    )
    return _service_form_page(request, organisation, service)


@role_required(Role.PROVIDER_STAFF)
def service_vacancies(request, pk: int, service_pk: int):
    organisation = _portal_organisation(request, pk)
    service = selectors.service_for_member(
        user=request.user, organisation=organisation, pk=service_pk
    )
    form = VacanciesForm(request.POST or None, initial={"vacancies": service.vacancies})
    if request.method == "POST" and form.is_valid():
        service_vacancies_update(
            service=service, user=request.user, vacancies=form.cleaned_data["vacancies"]
        )
        messages.success(
            request, f"Vacancies for {service.name} updated. People see them straight away."
        )
        return redirect("providers:portal_organisation", organisation.pk)
    return render(
        request,
        "providers/vacancies_form.html",
        {"form": form, "organisation": organisation, "service": service},
    )


@require_POST
@role_required(Role.PROVIDER_STAFF)
def service_confirm_view(request, pk: int, service_pk: int):
    organisation = _portal_organisation(request, pk)
    service = selectors.service_for_member(
        user=request.user, organisation=organisation, pk=service_pk
    )
    service_confirm(service=service, user=request.user)
    messages.success(request, f"Thank you. {service.name} now shows as checked today.")
    return redirect("providers:portal_organisation", organisation.pk)


@role_required(Role.PROVIDER_STAFF)
def team(request, pk: int):
    organisation = _portal_organisation(request, pk)
    is_owner = selectors.is_owner(user=request.user, organisation=organisation)
    form = InvitationForm(request.POST or None)
    if request.method == "POST":
        if not is_owner:
            raise PermissionDenied("Only an owner can manage the team.")
        if form.is_valid():
            try:
                invitation_create(
                    organisation=organisation, invited_by=request.user, **form.cleaned_data
                )
            except DirectoryError as error:
                form.add_error("email", error.message)
            else:
                messages.success(
                    request, f"We have emailed an invitation to {form.cleaned_data['email']}."
                )
                return redirect("providers:team", organisation.pk)
    return render(
        request,
        "providers/team.html",
        {
            "organisation": organisation,
            "members": organisation.memberships.select_related("user").order_by(
                "role", "user__email"
            ),
            "invitations": [i for i in organisation.invitations.all() if i.is_open],
            "form": form,
            "is_owner": is_owner,
        },
    )


@require_POST
@role_required(Role.PROVIDER_STAFF)
def member_remove(request, pk: int, membership_pk: int):
    organisation = _portal_organisation(request, pk)
    membership = get_object_or_404(Membership, pk=membership_pk, organisation=organisation)
    try:
        membership_remove(membership=membership, removed_by=request.user)
    except DirectoryError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{membership.user} has been removed from the team.")
    if membership.user_id == request.user.pk:
        return redirect("providers:portal")
    return redirect("providers:team", organisation.pk)


@require_POST
@role_required(Role.PROVIDER_STAFF)
def invitation_cancel_view(request, pk: int, invitation_pk: int):
    organisation = _portal_organisation(request, pk)
    invitation = get_object_or_404(Invitation, pk=invitation_pk, organisation=organisation)
    invitation_cancel(invitation=invitation, user=request.user)
    messages.success(request, f"The invitation to {invitation.email} has been cancelled.")
    return redirect("providers:team", organisation.pk)


@login_required
def invitation_accept_view(request, token: str):
    invitation = Invitation.objects.select_related("organisation").filter(token=token).first()
    if invitation is None:
        raise Http404("No such invitation")
    error = None
    if request.method == "POST":
        try:
            invitation_accept(invitation=invitation, user=request.user)
        except DirectoryError as problem:
            error = problem.message
        else:
            messages.success(
                request, f"You are now in the team for {invitation.organisation.name}."
            )
            return redirect(
                reverse("providers:portal_organisation", args=[invitation.organisation_id])
            )
    return render(
        request, "providers/invitation_accept.html", {"invitation": invitation, "error": error}
    )
