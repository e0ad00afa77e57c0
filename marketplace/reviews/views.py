"""Screens for reviews. Each view checks, on the server, who is asking and what record."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from marketplace.accounts.access import role_required
from marketplace.accounts.audit import audit_record, client_ip
from marketplace.accounts.models import AuditAction
from marketplace.accounts.roles import Role
from marketplace.providers.models import Organisation, Service

from .deidentify import deidentified_suggestion
from .forms import ApproveForm, ReplyForm, ReportForm, ResolveReportForm, ReviewForm, WithholdForm
from .models import Review, ReviewReport, ReviewStatus
from .selectors import (
    reports_open,
    review_eligibility_for_user,
    reviews_for_moderation,
    reviews_for_profile,
    reviews_for_provider,
)
from .services import (
    ReviewError,
    ReviewNotAllowed,
    report_resolve,
    review_approve,
    review_reply,
    review_report,
    review_submit,
    review_waive_reply,
    review_withhold,
)

MODERATORS = (Role.CMS_EDITOR, Role.ADMINISTRATOR)


def _organisation_or_404(slug: str) -> Organisation:
    """A provider the public can see (the same rule as its profile page)."""
    return get_object_or_404(Organisation.objects.published(), slug=slug)


def _cannot_review(request, organisation, reasons: list[str]):
    return render(
        request,
        "reviews/cannot_review.html",
        {"organisation": organisation, "reasons": reasons},
        status=403,
    )


# --- Public ---------------------------------------------------------------------------------


def organisation_reviews(request, slug: str):
    """Every published review of one provider, a page at a time."""
    organisation = _organisation_or_404(slug)
    return render(
        request,
        "reviews/organisation_reviews.html",
        {
            "organisation": organisation,
            "reviews": reviews_for_profile(
                organisation=organisation,
                page=request.GET.get("reviews_page"),
                user=request.user,
            ),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def review_write(request, slug: str):
    """Write a review: only for people with a verified purchase (checked again on submit)."""
    organisation = _organisation_or_404(slug)
    user = request.user
    if not user.has_role(Role.BUDGET_HOLDER, Role.PROXY):
        return _cannot_review(
            request,
            organisation,
            [
                "Reviews are written by people who use a provider with a personal budget, or "
                "by someone they have named to act for them. Your account is not linked to a "
                "personal budget."
            ],
        )
    eligibility = review_eligibility_for_user(user=user, organisation=organisation)
    allowed = [e.budget_holder for e in eligibility if e.allowed]
    if not allowed:
        reasons = [e.reason for e in eligibility] or [
            "You do not have permission to write reviews for anyone. The person you act for "
            "can give you that permission."
        ]
        return _cannot_review(request, organisation, reasons)
    services = list(Service.objects.published().filter(organisation=organisation).order_by("name"))
    chosen_service = services[0] if len(services) == 1 else None
    form = ReviewForm(request.POST or None, people=allowed, user=user, services=services)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            review_submit(
                author=user,
                budget_holder=data["budget_holder"],
                organisation=organisation,
                rating=data["rating"],
                dignity=data["dignity"],
                reliability=data["reliability"],
                choice=data["choice"],
                value=data["value"],
                title=data["title"],
                body=data["body"],
                service=data.get("service") or chosen_service,
                ip_address=client_ip(request),
            )
        except ReviewNotAllowed as error:
            return _cannot_review(request, organisation, [str(error)])
        except ReviewError as error:
            form.add_error(None, str(error))
        else:
            return redirect("reviews:sent", slug=organisation.slug)
    return render(
        request,
        "reviews/review_form.html",
        {
            "organisation": organisation,
            "form": form,
            "person": allowed[0] if len(allowed) == 1 else None,
            "for_self": len(allowed) == 1 and allowed[0].user_id == user.pk,
            "not_allowed": [e for e in eligibility if not e.allowed],
        },
    )


@login_required
def review_sent(request, slug: str):
    return render(request, "reviews/review_sent.html", {"organisation": _organisation_or_404(slug)})


@require_http_methods(["GET", "POST"])
def review_report_view(request, pk: int):
    """Anyone, signed in or not, may report a published review."""
    review = get_object_or_404(
        Review.objects.select_related("organisation"), pk=pk, status=ReviewStatus.PUBLISHED
    )
    form = ReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        review_report(
            review=review,
            reason=form.cleaned_data["reason"],
            details=form.cleaned_data["details"],
            reporter=request.user,
        )
        return render(request, "reviews/report_sent.html", {"review": review})
    return render(request, "reviews/report_form.html", {"review": review, "form": form})


# --- Moderation (council content moderators, signed in with a second factor) ----------------


@role_required(*MODERATORS)
def moderation_queue(request):
    return render(
        request,
        "reviews/moderation_queue.html",
        {
            "reviews": reviews_for_moderation(),
            "reports": reports_open(),
            "awaiting_reply": Review.objects.filter(status=ReviewStatus.AWAITING_REPLY).count(),
        },
    )


def _audit_original_viewed(request, review: Review) -> None:
    audit_record(
        actor=request.user,
        action=AuditAction.VIEWED,
        obj=review,
        budget_holder=review.budget_holder,
        summary=f"Original text of review {review.pk} read for moderation",
        ip_address=client_ip(request),
    )


def _names_for(review: Review) -> list[str]:
    names = [review.budget_holder.full_name, review.budget_holder.preferred_name]
    if review.author is not None:
        names += [review.author.first_name, review.author.last_name]
    return [name for name in names if name]


@role_required(*MODERATORS)
@require_http_methods(["GET", "POST"])
def moderate_review(request, pk: int):
    """Read the original, edit the suggested de-identified copy, send it to the provider."""
    review = get_object_or_404(
        Review.objects.select_related("organisation", "budget_holder", "author"),
        pk=pk,
        status=ReviewStatus.SUBMITTED,
    )
    names = _names_for(review)
    form = ApproveForm(
        request.POST or None,
        initial={
            "public_title": deidentified_suggestion(text=review.title, names=names),
            "public_body": deidentified_suggestion(text=review.body, names=names),
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            review_approve(
                review=review,
                moderator=request.user,
                public_title=form.cleaned_data["public_title"],
                public_body=form.cleaned_data["public_body"],
                ip_address=client_ip(request),
            )
        except ReviewError as error:
            form.add_error("public_body", str(error))
        else:
            messages.success(
                request,
                f"The review has been sent to {review.organisation.name}. It will be published "
                "when they reply, or in 7 days.",
            )
            return redirect("reviews:moderate")
    _audit_original_viewed(request, review)  # the page shows the original text
    return render(request, "reviews/moderate_review.html", {"review": review, "form": form})


@role_required(*MODERATORS)
@require_http_methods(["GET", "POST"])
def withhold_review(request, pk: int):
    review = get_object_or_404(
        Review.objects.select_related("organisation", "budget_holder"),
        pk=pk,
        status__in=[ReviewStatus.SUBMITTED, ReviewStatus.AWAITING_REPLY],
    )
    form = WithholdForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            review_withhold(
                review=review,
                moderator=request.user,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
                ip_address=client_ip(request),
            )
        except ReviewError as error:
            form.add_error("reason", str(error))
        else:
            messages.success(request, "The review has been withheld and the reason recorded.")
            return redirect("reviews:moderate")
    return render(request, "reviews/withhold_review.html", {"review": review, "form": form})


@role_required(*MODERATORS)
@require_http_methods(["GET", "POST"])
def resolve_report(request, pk: int):
    report = get_object_or_404(
        ReviewReport.objects.select_related(
            "review", "review__organisation", "review__budget_holder"
        ),
        pk=pk,
        resolved_at__isnull=True,
    )
    form = ResolveReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            report_resolve(
                report=report,
                moderator=request.user,
                withhold_reason=data["reason"] if data["decision"] == "withhold" else "",
                note=data["note"],
                ip_address=client_ip(request),
            )
        except ReviewError as error:
            form.add_error("reason", str(error))
        else:
            messages.success(
                request,
                "The review has been withheld."
                if data["decision"] == "withhold"
                else "The review stays published.",
            )
            return redirect("reviews:moderate")
    _audit_original_viewed(request, report.review)  # the page shows the original text
    return render(request, "reviews/resolve_report.html", {"report": report, "form": form})


# --- Provider portal -----------------------------------------------------------------------


@role_required(Role.PROVIDER_STAFF)
def provider_reviews(request):
    reviews = list(reviews_for_provider(user=request.user))
    return render(
        request,
        "reviews/provider_reviews.html",
        {
            "awaiting": [r for r in reviews if r.status == ReviewStatus.AWAITING_REPLY],
            "published": [r for r in reviews if r.status == ReviewStatus.PUBLISHED],
        },
    )


def _provider_review_or_404(request, pk: int) -> Review:
    """A review of an organisation this person works for; 404 for any other."""
    try:
        return reviews_for_provider(user=request.user).get(pk=pk)
    except Review.DoesNotExist:
        raise Http404("No such review.") from None


@role_required(Role.PROVIDER_STAFF)
@require_http_methods(["GET", "POST"])
def provider_reply(request, pk: int):
    review = _provider_review_or_404(request, pk)
    if review.replied_at is not None:
        messages.info(request, "You have already replied to this review.")
        return redirect("reviews:provider")
    form = ReplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            review_reply(review=review, user=request.user, text=form.cleaned_data["text"])
        except ReviewNotAllowed:
            raise Http404("No such review.") from None
        except ReviewError as error:
            form.add_error("text", str(error))
        else:
            messages.success(request, "Your reply has been published with the review.")
            return redirect("reviews:provider")
    return render(request, "reviews/provider_reply.html", {"review": review, "form": form})


@role_required(Role.PROVIDER_STAFF)
@require_POST
def provider_publish_now(request, pk: int):
    review = _provider_review_or_404(request, pk)
    try:
        review_waive_reply(review=review, user=request.user)
    except ReviewNotAllowed:
        raise Http404("No such review.") from None
    messages.success(request, "The review has been published without a reply.")
    return redirect("reviews:provider")
