"""Personalisation Impact Assessment pages.

Providers complete their own organisation's assessment, a section per page,
saving as they go. Council reviewers are grant officers (the people who run
provider development): they see submitted assessments, comment per section,
and agree or return them. Another organisation's assessment id answers 404.
"""

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from marketplace.accounts.access import role_required
from marketplace.accounts.roles import Role

from . import selectors, services
from .forms import EvidenceForm, ReviewForm, SectionForm, StartForm
from .models import SECTION_ORDER, SECTION_SLUGS, Assessment, AssessmentStatus, EvidenceFile

SLUG_FOR = {section: slug for slug, section in SECTION_SLUGS.items()}


def _own(request, pk) -> Assessment:
    assessment = selectors.assessment_for_user(user=request.user, assessment_id=pk)
    if assessment is None:
        raise Http404
    return assessment


def _task_list(assessment: Assessment) -> list[dict]:
    responses = {r.statement_id: r for r in assessment.responses.exclude(rating__isnull=True)}
    rows = []
    latest_reviews = {}
    for review in assessment.section_reviews.all():
        latest_reviews.setdefault(review.section, review)
    for section in SECTION_ORDER:
        statements = assessment.version.statements_in(section)
        if not statements:
            continue
        rated = sum(1 for s in statements if s.pk in responses)
        if section in assessment.returned_sections:
            status = "Returned with a comment"
        elif rated == len(statements):
            status = "Completed"
        elif rated:
            status = "In progress"
        else:
            status = "Not started"
        rows.append(
            {
                "section": section,
                "slug": SLUG_FOR[section],
                "status": status,
                "rated": rated,
                "statements": len(statements),
                "editable": assessment.section_editable(section),
                "review": latest_reviews.get(section),
            }
        )
    return rows


@role_required(Role.PROVIDER_STAFF, Role.GRANT_OFFICER)
def home(request):
    if not request.user.has_role(Role.PROVIDER_STAFF):
        return redirect("assessments:review-queue")
    organisations = selectors.organisations_for_user(user=request.user)
    assessments = (
        Assessment.objects.filter(organisation__in=organisations)
        .select_related("organisation", "version__framework")
        .order_by("organisation__name", "-started_at")
    )
    open_orgs = set(
        assessments.filter(status__in=["in_progress", "submitted", "returned"]).values_list(
            "organisation_id", flat=True
        )
    )
    can_start = [o for o in organisations if o.pk not in open_orgs]
    return render(
        request,
        "assessments/home.html",
        {
            "assessments": assessments,
            "start_form": StartForm(
                organisations=organisations.filter(pk__in=[o.pk for o in can_start]),
                initial={"organisation": can_start[0].pk},
            )
            if can_start
            else None,
            "version": selectors.framework_current_version(),
        },
    )


@require_POST
@role_required(Role.PROVIDER_STAFF)
def start(request):
    form = StartForm(
        request.POST, organisations=selectors.organisations_for_user(user=request.user)
    )
    if not form.is_valid():
        messages.error(request, "Choose the organisation the assessment is for.")
        return redirect("assessments:home")
    try:
        assessment = services.assessment_start(
            organisation=form.cleaned_data["organisation"], user=request.user
        )
    except services.AssessmentError as error:
        messages.error(request, error.messages[0])
        return redirect("assessments:home")
    return redirect("assessments:detail", pk=assessment.pk)


@role_required(Role.PROVIDER_STAFF)
def detail(request, pk):
    assessment = _own(request, pk)
    scores = selectors.assessment_scores(assessment=assessment)
    context = {
        "assessment": assessment,
        "tasks": _task_list(assessment),
        "scores": scores,
        "problems": [],
        "evidence": assessment.evidence_files.all(),
    }
    if assessment.status == AssessmentStatus.AGREED:
        context["comparison"] = selectors.assessment_comparison(assessment=assessment)
        context["progress"] = selectors.assessment_progress(organisation=assessment.organisation)
    return render(request, "assessments/detail.html", context)


@role_required(Role.PROVIDER_STAFF)
def section(request, pk, slug):
    assessment = _own(request, pk)
    section = SECTION_SLUGS.get(slug)
    if section is None:
        raise Http404
    if not assessment.section_editable(section):
        messages.error(request, "This section cannot be changed now.")
        return redirect("assessments:detail", pk=pk)
    statements = assessment.version.statements_in(section)
    responses = {r.statement_id: r for r in assessment.responses.filter(statement__in=statements)}
    complete = "continue" in request.POST
    form = SectionForm(
        request.POST or None, statements=statements, responses=responses, complete=complete
    )
    if request.method == "POST" and form.is_valid():
        services.assessment_section_save(
            assessment=assessment, section=section, answers=form.answers(), user=request.user
        )
        if complete:
            following = SECTION_ORDER[SECTION_ORDER.index(section) + 1 :]
            for next_section in following:
                if assessment.section_editable(next_section) and assessment.version.statements_in(
                    next_section
                ):
                    return redirect("assessments:section", pk=pk, slug=SLUG_FOR[next_section])
        else:
            messages.success(request, "Your answers have been saved. You can come back later.")
        return redirect("assessments:detail", pk=pk)
    review = assessment.section_reviews.filter(section=section).first()
    return render(
        request,
        "assessments/section.html",
        {
            "assessment": assessment,
            "section": section,
            "slug": slug,
            "form": form,
            "evidence_form": EvidenceForm(prefix="evidence"),
            "evidence": assessment.evidence_files.filter(section=section),
            "review": review,
        },
    )


@require_POST
@role_required(Role.PROVIDER_STAFF)
def evidence_add(request, pk, slug):
    assessment = _own(request, pk)
    section = SECTION_SLUGS.get(slug)
    if section is None:
        raise Http404
    form = EvidenceForm(request.POST, request.FILES, prefix="evidence")
    if form.is_valid():
        try:
            services.evidence_add(
                assessment=assessment,
                section=section,
                title=form.cleaned_data["title"],
                file=form.cleaned_data["file"],
                user=request.user,
            )
        except services.AssessmentError as error:
            messages.error(request, error.messages[0])
        else:
            messages.success(request, "Your evidence has been attached.")
    else:
        for errors in form.errors.values():
            for problem in errors:
                messages.error(request, problem)
    return redirect("assessments:section", pk=pk, slug=slug)


@role_required(Role.PROVIDER_STAFF, Role.GRANT_OFFICER)
def evidence_download(request, pk):
    """Evidence is private: the provider's staff, and council reviewers once submitted."""
    evidence = get_object_or_404(EvidenceFile.objects.select_related("assessment"), pk=pk)
    is_member = evidence.assessment.organisation.memberships.filter(user=request.user).exists()
    reviewer = request.user.has_role(Role.GRANT_OFFICER) and (
        evidence.assessment.status != AssessmentStatus.IN_PROGRESS
    )
    if not (is_member or reviewer):
        raise Http404
    return FileResponse(
        evidence.file.open("rb"), as_attachment=True, filename=evidence.file.name.rsplit("/", 1)[-1]
    )


@require_POST
@role_required(Role.PROVIDER_STAFF)
def evidence_remove(request, pk):
    evidence = get_object_or_404(
        EvidenceFile, pk=pk, assessment__organisation__memberships__user=request.user
    )
    try:
        services.evidence_remove(evidence=evidence)
    except services.AssessmentError as error:
        messages.error(request, error.messages[0])
    return redirect(
        "assessments:section", pk=evidence.assessment_id, slug=SLUG_FOR[evidence.section]
    )


@require_POST
@role_required(Role.PROVIDER_STAFF)
def submit(request, pk):
    assessment = _own(request, pk)
    try:
        services.assessment_submit(assessment=assessment, user=request.user)
    except services.AssessmentError as error:
        return render(
            request,
            "assessments/detail.html",
            {
                "assessment": assessment,
                "tasks": _task_list(assessment),
                "scores": selectors.assessment_scores(assessment=assessment),
                "problems": error.messages,
                "evidence": assessment.evidence_files.all(),
            },
            status=400,
        )
    messages.success(request, "Your assessment has been sent to the council for review.")
    return redirect("assessments:detail", pk=pk)


# Council reviewers


@role_required(Role.GRANT_OFFICER)
def review_queue(request):
    return render(
        request,
        "assessments/review_queue.html",
        {
            "queue": selectors.assessment_review_queue(),
            "recent": selectors.assessments_recent(limit=30),
            "summary": selectors.assessment_results_summary(),
        },
    )


@role_required(Role.GRANT_OFFICER)
def review(request, pk):
    assessment = selectors.assessment_for_reviewer(user=request.user, assessment_id=pk)
    if assessment is None:
        raise Http404
    sections = [s for s in SECTION_ORDER if assessment.version.statements_in(s)]
    form = ReviewForm(request.POST or None, sections=sections)
    if (
        request.method == "POST"
        and assessment.status == AssessmentStatus.SUBMITTED
        and form.is_valid()
    ):
        try:
            services.assessment_review(
                assessment=assessment, reviewer=request.user, sections=form.outcomes()
            )
        except services.AssessmentError as error:
            form.add_error(None, error.messages[0])
        else:
            assessment.refresh_from_db()
            messages.success(
                request,
                "The assessment has been agreed."
                if assessment.status == AssessmentStatus.AGREED
                else "The assessment has been returned to the provider with your comments.",
            )
            return redirect("assessments:review-queue")
    responses = {r.statement_id: r for r in assessment.responses.all()}
    blocks = []
    for section in sections:
        blocks.append(
            {
                "section": section,
                "rows": [
                    (statement, responses.get(statement.pk))
                    for statement in assessment.version.statements_in(section)
                ],
                "evidence": [e for e in assessment.evidence_files.all() if e.section == section],
                "outcome": form[f"{section.value}_outcome"],
                "comment": form[f"{section.value}_comment"],
            }
        )
    return render(
        request,
        "assessments/review.html",
        {
            "assessment": assessment,
            "blocks": blocks,
            "form": form,
            "scores": selectors.assessment_scores(assessment=assessment),
            "history": assessment.section_reviews.all(),
        },
    )
