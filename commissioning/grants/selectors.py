"""Reads for the Innovation Fund: applications, reviews, awards, monitoring and RAG status."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Prefetch, QuerySet, Sum
from django.utils import timezone

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.providers.models import Organisation

from .models import (
    Application,
    ApplicationStatus,
    Award,
    MonitoringReport,
    ReviewerAssignment,
    RiskLevel,
    Round,
    Tranche,
)

# Red/amber/green rules for a funded project (also shown on the dashboard):
#   red   – a report more than AMBER_OVERDUE_DAYS overdue, or the latest report's risks are red;
#   amber – a report 1 to AMBER_OVERDUE_DAYS days overdue, or the latest report's risks are amber;
#   green – everything due is in and the latest risks are green (or none reported yet).
AMBER_OVERDUE_DAYS = 14


def rounds_open() -> QuerySet[Round]:
    return Round.objects.open().select_related("fund")


def applications_for_user(*, user: User) -> QuerySet[Application]:
    """Applications of the organisations this person works for."""
    return (
        Application.objects.filter(organisation__memberships__user=user)
        .select_related("round", "organisation")
        .distinct()
    )


def application_for_applicant(*, user: User, application_id: int) -> Application | None:
    """The application if this person works for the applicant, else None (views answer 404)."""
    return applications_for_user(user=user).filter(pk=application_id).first()


def application_for_officer(*, user: User, application_id: int) -> Application | None:
    if not user.has_role(Role.GRANT_OFFICER):
        return None
    return (
        Application.objects.select_related("round__fund", "organisation", "cited_assessment")
        .filter(pk=application_id)
        .exclude(status=ApplicationStatus.DRAFT)
        .first()
    )


def assignments_for_reviewer(*, user: User) -> QuerySet[ReviewerAssignment]:
    return (
        ReviewerAssignment.objects.filter(reviewer=user)
        .exclude(application__status=ApplicationStatus.DRAFT)
        .select_related("application__round", "application__organisation")
    )


def assignment_for_reviewer(*, user: User, application_id: int) -> ReviewerAssignment | None:
    """The reviewer's own assignment on this application; None when not assigned (404)."""
    return assignments_for_reviewer(user=user).filter(application_id=application_id).first()


def application_scores(*, application: Application) -> dict:
    """Scores from reviewers without a conflict: per reviewer, and the mean total."""
    criteria = list(application.round.criteria.all())
    assignments = list(application.assignments.select_related("reviewer"))
    scored = [a for a in assignments if a.scored_at and not a.conflict_declared]
    totals = [a.total_score for a in scored]
    return {
        "criteria": criteria,
        "max_total": sum(c.max_score for c in criteria),
        "assignments": assignments,
        "scored": scored,
        "mean_total": round(sum(totals) / len(totals), 1) if totals else None,
    }


def round_spend(*, round: Round) -> dict:
    """Awarded and paid amounts against the round's budget, in pence."""
    awarded = (
        Award.objects.filter(application__round=round).aggregate(t=Sum("amount_pence"))["t"] or 0
    )
    paid = (
        Tranche.objects.filter(award__application__round=round, paid_at__isnull=False).aggregate(
            t=Sum("amount_pence")
        )["t"]
        or 0
    )
    return {
        "budget": round.budget_pence,
        "awarded": awarded,
        "paid": paid,
        "remaining": round.budget_pence - awarded,
        "awarded_percent": int(awarded * 100 / round.budget_pence) if round.budget_pence else 0,
    }


@dataclass
class ProjectStatus:
    award: Award
    rag: str
    reasons: list[str]
    overdue: list[MonitoringReport]
    next_due: MonitoringReport | None
    paid_pence: int
    spend_to_date_pence: int | None


def project_rag(*, award: Award, today: date | None = None) -> ProjectStatus:
    """The red/amber/green status of one funded project, with the reasons for it.

    Expects ``award.reports`` and ``award.tranches`` prefetched when called in a loop.
    """
    today = today or timezone.localdate()
    reports = list(award.reports.all())
    overdue = [r for r in reports if r.days_overdue(today) > 0]
    submitted = [r for r in reports if r.submitted_at]
    latest = max(submitted, key=lambda r: r.submitted_at) if submitted else None
    reasons = []
    rag = RiskLevel.GREEN
    for report in overdue:
        days = report.days_overdue(today)
        if days > AMBER_OVERDUE_DAYS:
            rag = RiskLevel.RED
            reasons.append(f"{report.title} is {days} days overdue")
        else:
            if rag != RiskLevel.RED:
                rag = RiskLevel.AMBER
            reasons.append(f"{report.title} is {days} day{'s' if days != 1 else ''} overdue")
    if latest is not None and latest.risk_level == RiskLevel.RED:
        rag = RiskLevel.RED
        reasons.append(f"{latest.title} reports a red risk")
    elif latest is not None and latest.risk_level == RiskLevel.AMBER and rag == RiskLevel.GREEN:
        rag = RiskLevel.AMBER
        reasons.append(f"{latest.title} reports an amber risk")
    pending = [r for r in reports if r.submitted_at is None and r.due_on >= today]
    return ProjectStatus(
        award=award,
        rag=rag,
        reasons=reasons,
        overdue=overdue,
        next_due=min(pending, key=lambda r: r.due_on) if pending else None,
        paid_pence=sum(t.amount_pence for t in award.tranches.all() if t.paid_at),
        spend_to_date_pence=latest.spend_to_date_pence if latest else None,
    )


def _awards() -> QuerySet[Award]:
    # Only the report fields the RAG rules read: the free-text answers stay in the database.
    reports = MonitoringReport.objects.only(
        "award_id", "kind", "period", "due_on", "submitted_at", "risk_level", "spend_to_date_pence"
    )
    return Award.objects.select_related(
        "application__organisation", "application__round"
    ).prefetch_related(
        Prefetch("reports", queryset=reports),
        Prefetch("tranches", queryset=Tranche.objects.order_by("number")),
    )


def fund_dashboard(*, today: date | None = None) -> dict:
    """Everything the grant officer's dashboard shows, across every round of the fund.

    A fixed number of queries however many rounds and projects there are.
    """
    today = today or timezone.localdate()
    rounds = list(Round.objects.select_related("fund").order_by("-opens_at"))
    counts: dict[int, dict[str, int]] = {
        r.pk: dict.fromkeys(ApplicationStatus.values, 0) for r in rounds
    }
    for round_id, status, n in (
        Application.objects.order_by().values_list("round_id", "status").annotate(n=Count("pk"))
    ):
        counts[round_id][status] = n
    awarded = dict(
        Award.objects.order_by()
        .values_list("application__round_id")
        .annotate(t=Sum("amount_pence"))
    )
    paid = dict(
        Tranche.objects.filter(paid_at__isnull=False)
        .order_by()
        .values_list("award__application__round_id")
        .annotate(t=Sum("amount_pence"))
    )
    round_rows = []
    for r in rounds:
        spend = {
            "budget": r.budget_pence,
            "awarded": awarded.get(r.pk, 0),
            "paid": paid.get(r.pk, 0),
        }
        spend["remaining"] = r.budget_pence - spend["awarded"]
        spend["awarded_percent"] = int(spend["awarded"] * 100 / r.budget_pence)
        round_rows.append({"round": r, "spend": spend, "counts": counts[r.pk]})
    projects = [project_rag(award=a, today=today) for a in _awards()]
    order = {RiskLevel.RED: 0, RiskLevel.AMBER: 1, RiskLevel.GREEN: 2}
    projects.sort(key=lambda p: (order[p.rag], p.award.application.title))
    overdue = sorted(
        ((report, p.award) for p in projects for report in p.overdue),
        key=lambda pair: pair[0].due_on,
    )
    return {
        "rounds": round_rows,
        "projects": projects,
        "rag_counts": {
            level: sum(1 for p in projects if p.rag == level) for level in RiskLevel.values
        },
        "overdue": [
            {"report": report, "award": award, "days": report.days_overdue(today)}
            for report, award in overdue
        ],
        "awaiting_determination": Application.objects.filter(
            status=ApplicationStatus.SUBMITTED
        ).select_related("organisation", "round"),
    }


def awards_for_user(*, user: User) -> QuerySet[Award]:
    return _awards().filter(application__organisation__memberships__user=user).distinct()


def projects_for_organisation(*, organisation: Organisation) -> list[dict]:
    """For the public directory profile: the organisation's funded projects.

    Each: ``{"title", "amount_pence", "round", "fund", "development_area", "status",
    "awarded_on", "status_changes_on"}``: the status is today's, and ``status_changes_on``
    the first day it reads differently (None once completed).
    Only awards whose written agreement the provider has accepted are shown, latest
    award first. (search.profile_html reads the same rows inside the profile's one query
    and makes them with ``profile_project``.)
    """
    today = timezone.localdate()
    # Only the columns shown (an award's agreement text and an application's answers are
    # long, and every profile visit after a change reads this).
    return [
        profile_project(
            title=award["application__title"],
            amount_pence=award["amount_pence"],
            round_title=award["application__round__title"],
            fund_name=award["application__round__fund__name"],
            development_area=award["application__development_area"],
            awarded_at=award["awarded_at"],
            starts_on=award["starts_on"],
            ends_on=award["ends_on"],
            today=today,
        )
        for award in Award.objects.filter(
            application__organisation=organisation, agreement_accepted_at__isnull=False
        )
        .order_by("-awarded_at", "-pk")
        .values(
            "amount_pence",
            "awarded_at",
            "starts_on",
            "ends_on",
            "application__title",
            "application__development_area",
            "application__round__title",
            "application__round__fund__name",
        )
    ]


def profile_project(
    *,
    title: str,
    amount_pence: int,
    round_title: str,
    fund_name: str,
    development_area: str,
    awarded_at: datetime,
    starts_on: date,
    ends_on: date,
    today: date,
) -> dict:
    """One row of ``projects_for_organisation`` from an accepted award's columns."""
    if today < starts_on:
        status, changes_on = "Starting soon", starts_on
    elif today > ends_on:
        status, changes_on = "Completed", None
    else:
        status, changes_on = "In progress", ends_on + timedelta(days=1)
    return {
        "title": title,
        "amount_pence": amount_pence,
        "round": round_title,
        "fund": fund_name,
        "development_area": str(_development_areas().get(development_area, development_area)),
        "status": status,
        "awarded_on": timezone.localdate(awarded_at),
        "status_changes_on": changes_on,
    }


def _development_areas() -> dict:
    return dict(Application._meta.get_field("development_area").flatchoices)


def awards_for_publication() -> QuerySet[Award]:
    """Awards published as open data: agreement accepted (the grant is made)."""
    return (
        Award.objects.filter(agreement_accepted_at__isnull=False)
        .select_related("application__organisation", "application__round__fund")
        .order_by("pk")
    )
