"""Innovation Fund pages: providers apply and report, reviewers score, grant officers manage.

Every page checks the role on the server and the record on the server: an id a
person may not see answers 404, so ids reveal nothing.
"""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from commissioning.assessments.selectors import citable_assessments, organisations_for_user
from marketplace.accounts.access import role_required
from marketplace.accounts.audit import audit_record
from marketplace.accounts.models import AuditAction, User
from marketplace.accounts.roles import ROLE_GROUPS, Role

from . import selectors, services
from .forms import (
    AgreementForm,
    ApplicationForm,
    AssignReviewerForm,
    AttachmentForm,
    ConflictForm,
    DeterminationForm,
    OrganisationChoiceForm,
    PayTrancheForm,
    ReportForm,
    ScoreForm,
    to_pence,
)
from .models import Attachment, Award, MonitoringReport, Outcome, Round, Tranche
from .opendata import package_360giving


def _errors(error) -> list[str]:
    return list(error.messages)


# Provider staff


@role_required(Role.PROVIDER_STAFF, Role.GRANT_OFFICER)
def home(request):
    if not request.user.has_role(Role.PROVIDER_STAFF):
        return redirect("grants:dashboard")
    return render(
        request,
        "grants/home.html",
        {
            "rounds": selectors.rounds_open(),
            "applications": selectors.applications_for_user(user=request.user),
            "awards": selectors.awards_for_user(user=request.user),
        },
    )


@role_required(Role.PROVIDER_STAFF)
def application_start(request, slug):
    round = get_object_or_404(Round.objects.open(), slug=slug)
    organisations = organisations_for_user(user=request.user)
    form = OrganisationChoiceForm(
        request.POST or None,
        organisations=organisations,
        initial={"organisation": organisations.first()},
    )
    problems = []
    if request.method == "POST" and form.is_valid():
        try:
            application = services.application_start(
                round=round, organisation=form.cleaned_data["organisation"], user=request.user
            )
        except services.GrantError as error:
            problems = _errors(error)
        else:
            messages.success(request, "Your draft application has been created.")
            return redirect("grants:application-edit", pk=application.pk)
    return render(
        request,
        "grants/application_start.html",
        {"round": round, "form": form, "problems": problems},
    )


def _own_application(request, pk):
    application = selectors.application_for_applicant(user=request.user, application_id=pk)
    if application is None:
        raise Http404
    return application


@role_required(Role.PROVIDER_STAFF)
def application_detail(request, pk):
    application = _own_application(request, pk)
    return render(
        request,
        "grants/application_detail.html",
        {
            "application": application,
            "determinations": application.determinations.all(),
            "attachments": application.attachments.all(),
            "award": getattr(application, "award", None),
            "questions": application.round.form.questions.all(),
        },
    )


@role_required(Role.PROVIDER_STAFF)
def application_edit(request, pk):
    application = _own_application(request, pk)
    if not application.editable:
        return redirect("grants:application-detail", pk=pk)
    assessments = citable_assessments(organisation=application.organisation)
    form = ApplicationForm(
        request.POST or None,
        application=application,
        assessments=assessments,
        initial=ApplicationForm.initial_for(application),
    )
    problems = []
    if request.method == "POST" and form.is_valid():
        try:
            services.application_save(
                application=application, user=request.user, **form.service_fields()
            )
        except services.GrantError as error:
            problems = _errors(error)
        else:
            if "submit" in request.POST:
                return redirect("grants:application-submit", pk=pk)
            messages.success(request, "Your draft has been saved. You can come back to it later.")
            return redirect("grants:application-detail", pk=pk)
    return render(
        request,
        "grants/application_edit.html",
        {
            "application": application,
            "form": form,
            "problems": problems,
            "attachment_form": AttachmentForm(prefix="attachment"),
            "attachments": application.attachments.all(),
        },
    )


@role_required(Role.PROVIDER_STAFF)
def application_submit(request, pk):
    application = _own_application(request, pk)
    if not application.editable:
        return redirect("grants:application-detail", pk=pk)
    problems = services.application_submit_problems(application=application)
    if request.method == "POST":
        try:
            services.application_submit(application=application, user=request.user)
        except services.GrantError as error:
            problems = _errors(error)
        else:
            messages.success(
                request, "Your application has been submitted. We have told the grants team."
            )
            return redirect("grants:application-detail", pk=pk)
    return render(
        request,
        "grants/application_submit.html",
        {"application": application, "problems": problems},
    )


@require_POST
@role_required(Role.PROVIDER_STAFF)
def attachment_add(request, pk):
    application = _own_application(request, pk)
    form = AttachmentForm(request.POST, request.FILES, prefix="attachment")
    if form.is_valid():
        try:
            services.attachment_add(
                application=application,
                title=form.cleaned_data["title"],
                file=form.cleaned_data["file"],
                user=request.user,
            )
        except services.GrantError as error:
            for problem in _errors(error):
                messages.error(request, problem)
        else:
            messages.success(request, "The document has been attached.")
    else:
        for errors in form.errors.values():
            for problem in errors:
                messages.error(request, problem)
    return redirect("grants:application-edit", pk=pk)


@require_POST
@role_required(Role.PROVIDER_STAFF)
def attachment_remove(request, pk):
    attachment = get_object_or_404(
        Attachment, pk=pk, application__organisation__memberships__user=request.user
    )
    try:
        services.attachment_remove(attachment=attachment)
    except services.GrantError as error:
        messages.error(request, _errors(error)[0])
    else:
        messages.success(request, "The document has been removed.")
    return redirect("grants:application-edit", pk=attachment.application_id)


@role_required(Role.PROVIDER_STAFF, Role.GRANT_OFFICER)
def attachment_download(request, pk):
    """Documents are private: the applicant's staff and grant officers only, never a
    public media address."""
    attachment = get_object_or_404(Attachment.objects.select_related("application"), pk=pk)
    is_member = attachment.application.organisation.memberships.filter(user=request.user).exists()
    if not (is_member or request.user.has_role(Role.GRANT_OFFICER)):
        raise Http404
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.file.name.rsplit("/", 1)[-1],
    )


def _own_award(request, pk) -> Award:
    award = selectors.awards_for_user(user=request.user).filter(pk=pk).first()
    if award is None:
        raise Http404
    return award


@role_required(Role.PROVIDER_STAFF)
def award_detail(request, pk):
    award = _own_award(request, pk)
    form = AgreementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.agreement_accept(
                award=award,
                user=request.user,
                full_name=form.cleaned_data["full_name"],
                confirmed=form.cleaned_data["confirm"],
            )
        except services.GrantError as error:
            form.add_error(None, _errors(error)[0])
        else:
            messages.success(request, "Thank you. You have accepted the grant agreement.")
            return redirect("grants:award-detail", pk=pk)
    return render(
        request,
        "grants/award_detail.html",
        {"award": award, "form": form, "status": selectors.project_rag(award=award)},
    )


@role_required(Role.PROVIDER_STAFF)
def report_edit(request, pk):
    report = get_object_or_404(
        MonitoringReport.objects.select_related("award__application"),
        pk=pk,
        award__application__organisation__memberships__user=request.user,
    )
    if report.submitted_at is not None or not report.award.accepted:
        return redirect("grants:award-detail", pk=report.award_id)
    form = ReportForm(request.POST or None, instance=report)
    if request.method == "POST" and form.is_valid():
        try:
            services.report_submit(report=report, user=request.user, **form.service_fields())
        except services.GrantError as error:
            for problem in _errors(error):
                form.add_error(None, problem)
        else:
            messages.success(request, f"Your {report.title.lower()} has been sent.")
            return redirect("grants:award-detail", pk=report.award_id)
    return render(request, "grants/report_form.html", {"report": report, "form": form})


# Reviewers


@role_required(Role.GRANT_OFFICER)
def review_list(request):
    return render(
        request,
        "grants/review_list.html",
        {"assignments": selectors.assignments_for_reviewer(user=request.user)},
    )


@role_required(Role.GRANT_OFFICER)
def review(request, pk):
    assignment = selectors.assignment_for_reviewer(user=request.user, application_id=pk)
    if assignment is None:
        raise Http404
    application = assignment.application
    criteria = list(application.round.criteria.all())
    initial = {f"c_{k}": v for k, v in assignment.scores.items()}
    initial["comments"] = assignment.comments
    score_form = ScoreForm(
        request.POST if "score" in request.POST else None, criteria=criteria, initial=initial
    )
    conflict_form = ConflictForm(request.POST if "conflict" in request.POST else None)
    if request.method == "POST":
        try:
            if "conflict" in request.POST and conflict_form.is_valid():
                services.conflict_declare(
                    assignment=assignment, reason=conflict_form.cleaned_data["reason"]
                )
                messages.success(
                    request, "You have declared a conflict. You will not score this application."
                )
                return redirect("grants:review-list")
            if "score" in request.POST and score_form.is_valid():
                services.review_score(
                    assignment=assignment,
                    scores=score_form.scores(),
                    comments=score_form.cleaned_data["comments"],
                )
                messages.success(request, "Your scores have been saved.")
                return redirect("grants:review-list")
        except services.GrantError as error:
            messages.error(request, _errors(error)[0])
            return redirect("grants:review", pk=pk)
    audit_record(
        actor=request.user,
        action=AuditAction.VIEWED,
        obj=application,
        summary=f"Reviewed grant application {application.reference}",
        ip_address=request.META.get("REMOTE_ADDR"),
    )
    return render(
        request,
        "grants/review.html",
        {
            "assignment": assignment,
            "application": application,
            "score_form": score_form,
            "conflict_form": conflict_form,
            "questions": application.round.form.questions.all(),
        },
    )


# Grant officers


@role_required(Role.GRANT_OFFICER)
def dashboard(request):
    return render(request, "grants/manage/dashboard.html", selectors.fund_dashboard())


@role_required(Role.GRANT_OFFICER)
def overdue(request):
    data = selectors.fund_dashboard()
    return render(request, "grants/manage/overdue.html", {"overdue": data["overdue"]})


@role_required(Role.GRANT_OFFICER)
def round_detail(request, slug):
    round = get_object_or_404(Round, slug=slug)
    applications = (
        round.applications.exclude(status="draft")
        .select_related("organisation")
        .prefetch_related("assignments")
        .order_by("status", "title")
    )
    return render(
        request,
        "grants/manage/round.html",
        {
            "round": round,
            "applications": applications,
            "spend": selectors.round_spend(round=round),
            "drafts": round.applications.filter(status="draft").count(),
        },
    )


def _reviewers():
    return User.objects.filter(
        groups__name__in=ROLE_GROUPS[Role.GRANT_OFFICER], is_active=True
    ).distinct()


@role_required(Role.GRANT_OFFICER)
def manage_application(request, pk):
    application = selectors.application_for_officer(user=request.user, application_id=pk)
    if application is None:
        raise Http404
    conflicted = application.assignments.filter(
        reviewer=request.user, conflict_declared=True
    ).exists()
    assign_form = AssignReviewerForm(
        request.POST if "assign" in request.POST else None,
        reviewers=_reviewers().exclude(grant_assignments__application=application),
    )
    determination_form = DeterminationForm(
        request.POST if "determine" in request.POST else None,
        initial={"amount": application.amount_requested_pence / 100},
    )
    if request.method == "POST":
        if "assign" in request.POST and assign_form.is_valid():
            try:
                services.reviewer_assign(
                    application=application,
                    reviewer=assign_form.cleaned_data["reviewer"],
                    assigned_by=request.user,
                )
            except services.GrantError as error:
                messages.error(request, _errors(error)[0])
            else:
                messages.success(request, "The reviewer has been asked to review.")
            return redirect("grants:manage-application", pk=pk)
        if "determine" in request.POST and determination_form.is_valid():
            if conflicted:
                raise PermissionDenied("You declared a conflict of interest on this application.")
            data = determination_form.cleaned_data
            amount = to_pence(data["amount"]) if data["outcome"] == Outcome.APPROVE else None
            tranches = None
            if amount and data["first_tranche"]:
                first = to_pence(data["first_tranche"])
                starts = application.round.grant_starts_on
                tranches = [(first, starts), (amount - first, starts + timedelta(days=182))]
            try:
                services.application_determine(
                    application=application,
                    outcome=data["outcome"],
                    reasons=data["reasons"],
                    decided_by=request.user,
                    amount_pence=amount,
                    tranches=tranches,
                )
            except services.GrantError as error:
                for problem in _errors(error):
                    determination_form.add_error(None, problem)
            else:
                messages.success(request, "The decision has been sent to the applicant.")
                return redirect("grants:manage-application", pk=pk)
    audit_record(
        actor=request.user,
        action=AuditAction.VIEWED,
        obj=application,
        summary=f"Viewed grant application {application.reference}",
        ip_address=request.META.get("REMOTE_ADDR"),
    )
    return render(
        request,
        "grants/manage/application.html",
        {
            "application": application,
            "scores": selectors.application_scores(application=application),
            "assign_form": assign_form,
            "form": determination_form,
            "conflicted": conflicted,
            "determinations": application.determinations.all(),
            "award": getattr(application, "award", None),
            "questions": application.round.form.questions.all(),
            "pay_form": PayTrancheForm(),
        },
    )


@require_POST
@role_required(Role.GRANT_OFFICER)
def tranche_pay(request, pk):
    tranche = get_object_or_404(Tranche.objects.select_related("award"), pk=pk)
    form = PayTrancheForm(request.POST)
    if form.is_valid():
        try:
            services.tranche_pay(
                tranche=tranche,
                method=form.cleaned_data["method"],
                reference=form.cleaned_data["reference"],
                paid_by=request.user,
            )
        except services.GrantError as error:
            messages.error(request, _errors(error)[0])
        else:
            messages.success(request, f"Tranche {tranche.number} has been paid.")
    else:
        messages.error(request, "Choose how the tranche was paid.")
    return redirect("grants:manage-application", pk=tranche.award.application_id)


@role_required(Role.GRANT_OFFICER)
def manage_award(request, pk):
    award = get_object_or_404(
        Award.objects.select_related("application__organisation", "application__round"), pk=pk
    )
    return render(
        request,
        "grants/manage/award.html",
        {"award": award, "status": selectors.project_rag(award=award)},
    )


# Public open data


@require_GET
def open_data(request):
    base_url = f"{request.scheme}://{request.get_host()}"
    response = JsonResponse(
        package_360giving(base_url=base_url), json_dumps_params={"ensure_ascii": False}
    )
    response["Content-Disposition"] = 'inline; filename="360giving.json"'
    response["Access-Control-Allow-Origin"] = "*"
    return response
