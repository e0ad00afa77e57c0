"""Reads for Personalisation Impact Assessments: scores, progress and comparisons."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Case, Count, F, IntegerField, QuerySet, Value, When
from django.utils import timezone

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.providers.models import Membership, Organisation

from .models import (
    MAX_RATING,
    SECTION_ORDER,
    Assessment,
    AssessmentStatus,
    Framework,
    FrameworkVersion,
    StatementMapping,
    StatementResponse,
)

# Comparisons are shown only when this many providers are in the group, so no
# single provider's scores can be worked out from them.
COMPARISON_MINIMUM = 5
REASSESS_AFTER = timedelta(days=365)


def _score(ratings: list[int]) -> Decimal | None:
    """Mean rating on the 1–4 scale, to two places; None when nothing is rated."""
    if not ratings:
        return None
    return (Decimal(sum(ratings)) / Decimal(len(ratings))).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )


def organisations_for_user(*, user: User) -> QuerySet[Organisation]:
    """Organisations this person works for (provider staff)."""
    if not user.is_authenticated:
        return Organisation.objects.none()
    return Organisation.objects.filter(memberships__user=user).distinct()


def assessment_for_user(*, user: User, assessment_id: int) -> Assessment | None:
    """The assessment if this person works for its organisation, else None (views answer 404)."""
    return (
        Assessment.objects.select_related("organisation", "version__framework")
        .filter(pk=assessment_id, organisation__memberships__user=user)
        .first()
    )


def assessment_for_reviewer(*, user: User, assessment_id: int) -> Assessment | None:
    """Council reviewers (grant officers) see every submitted or reviewed assessment."""
    if not user.has_role(Role.GRANT_OFFICER):
        return None
    return (
        Assessment.objects.select_related("organisation", "version__framework")
        .exclude(status=AssessmentStatus.IN_PROGRESS)
        .filter(pk=assessment_id)
        .first()
    )


def assessment_review_queue() -> QuerySet[Assessment]:
    return Assessment.objects.filter(status=AssessmentStatus.SUBMITTED).select_related(
        "organisation", "version"
    )


def assessments_recent(*, limit: int = 50) -> QuerySet[Assessment]:
    return (
        Assessment.objects.exclude(status=AssessmentStatus.IN_PROGRESS)
        .select_related("organisation", "version__framework")
        .order_by("-submitted_at")[:limit]
    )


def framework_current_version() -> FrameworkVersion | None:
    """The newest published version of the first framework: what a new assessment uses."""
    framework = Framework.objects.order_by("pk").first()
    return framework.current_version() if framework else None


@dataclass
class SectionScore:
    section: str
    label: str
    score: Decimal | None
    rated: int
    statements: int

    @property
    def percent(self) -> int:
        return int((self.score or 0) / MAX_RATING * 100)


def assessment_scores(*, assessment: Assessment) -> dict:
    """Scores per section and overall: the mean rating on the 1 to 4 scale."""
    statements = list(assessment.version.statements.all())
    ratings = dict(
        assessment.responses.exclude(rating__isnull=True).values_list("statement_id", "rating")
    )
    by_section: dict[str, list[int]] = defaultdict(list)
    counts: dict[str, int] = defaultdict(int)
    for statement in statements:
        counts[statement.section] += 1
        if statement.pk in ratings:
            by_section[statement.section].append(ratings[statement.pk])
    sections = [
        SectionScore(
            section=s.value,
            label=s.label,
            score=_score(by_section[s]),
            rated=len(by_section[s]),
            statements=counts[s],
        )
        for s in SECTION_ORDER
        if counts[s]
    ]
    all_ratings = [r for values in by_section.values() for r in values]
    return {
        "sections": sections,
        "overall": _score(all_ratings),
        "rated": len(all_ratings),
        "statements": len(statements),
        "complete": len(all_ratings) == len(statements) and bool(statements),
    }


def assessment_incomplete_items(*, assessment: Assessment) -> list[str]:
    """Plain-English reasons the assessment cannot be submitted yet."""
    problems = []
    responses = {r.statement_id: r for r in assessment.responses.all()}
    for statement in assessment.version.statements.all():
        response = responses.get(statement.pk)
        if response is None or response.rating is None:
            problems.append(f"Rate statement {statement.code}: {statement.text}")
        elif response.needs_action and not (
            response.action_what and response.action_who and response.action_by
        ):
            problems.append(f"Add an action (what, who and by when) for statement {statement.code}")
    return problems


def assessment_status_for_organisation(*, organisation: Organisation) -> dict | None:
    """For the public directory profile: the latest agreed assessment, or one under way.

    Returns ``{"status", "status_label", "date", "overall_score", "framework_version",
    "assessment_id"}`` or None when the provider has never started one.
    """
    # One query: agreed ones first (latest agreement first), then the latest started.
    # Only the columns shown: every profile visit after a change reads this.
    latest = (
        Assessment.objects.filter(organisation=organisation)
        .annotate(
            is_agreed=Case(
                When(status=AssessmentStatus.AGREED, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
        .order_by("-is_agreed", F("agreed_at").desc(nulls_last=True), "-started_at", "-pk")
        .values(
            "pk",
            "status",
            "agreed_at",
            "submitted_at",
            "started_at",
            "overall_score",
            "version__number",
            "version__framework__name",
        )
        .first()
    )
    if latest is None:
        return None
    return profile_assessment(
        assessment_id=latest["pk"],
        status=latest["status"],
        agreed_at=latest["agreed_at"],
        submitted_at=latest["submitted_at"],
        started_at=latest["started_at"],
        overall_score=latest["overall_score"],
        version_number=latest["version__number"],
        framework_name=latest["version__framework__name"],
    )


def profile_assessment(
    *,
    assessment_id: int,
    status: str,
    agreed_at: datetime | None,
    submitted_at: datetime | None,
    started_at: datetime | None,
    overall_score: Decimal | None,
    version_number: int,
    framework_name: str,
) -> dict:
    """``assessment_status_for_organisation``'s answer from the chosen assessment's
    columns (search.profile_html reads them inside the profile's one query)."""
    agreed = status == AssessmentStatus.AGREED
    when = agreed_at if agreed else submitted_at or started_at
    labels = dict(Assessment._meta.get_field("status").flatchoices)
    return {
        "status": status,
        "status_label": str(labels.get(status, status)),
        "date": timezone.localdate(when) if when else None,
        "overall_score": overall_score if agreed else None,
        "framework_version": f"{framework_name}, version {version_number}",
        "assessment_id": assessment_id,
    }


def assessment_progress(*, organisation: Organisation) -> list[dict]:
    """Agreed assessments over time, oldest first, with scores comparable across versions.

    ``comparable`` holds, for each statement mapped from the previous assessment's
    version, the earlier and later rating, so a change of wording does not hide progress.
    """
    assessments = list(
        Assessment.objects.agreed()
        .filter(organisation=organisation)
        .select_related("version")
        .order_by("agreed_at")
    )
    rows = []
    previous: Assessment | None = None
    for assessment in assessments:
        scores = assessment_scores(assessment=assessment)
        comparable = []
        if previous is not None:
            comparable = _mapped_changes(earlier=previous, later=assessment)
        rows.append({"assessment": assessment, "scores": scores, "comparable": comparable})
        previous = assessment
    return rows


def _mapped_changes(*, earlier: Assessment, later: Assessment) -> list[dict]:
    earlier_ratings = dict(earlier.responses.values_list("statement_id", "rating"))
    later_responses = {r.statement_id: r for r in later.responses.select_related("statement")}
    if earlier.version_id == later.version_id:
        pairs = [(sid, sid) for sid in later_responses]
    else:
        pairs = list(
            StatementMapping.objects.filter(
                statement__version=later.version, previous_statement__version=earlier.version
            ).values_list("previous_statement_id", "statement_id")
        )
    changes = []
    for old_id, new_id in pairs:
        response = later_responses.get(new_id)
        if response is None or old_id not in earlier_ratings:
            continue
        changes.append(
            {
                "statement": response.statement,
                "before": earlier_ratings[old_id],
                "after": response.rating,
            }
        )
    return changes


def assessment_comparison(*, assessment: Assessment) -> dict:
    """Anonymous comparison with similar providers (same sector) on the same framework.

    Uses each other provider's latest agreed assessment. Returns ``shown=False``
    with no figures when fewer than COMPARISON_MINIMUM providers are in the group.
    """
    organisation = assessment.organisation
    latest_ids = _latest_agreed_ids(
        Assessment.objects.agreed().filter(
            organisation__sector=organisation.sector,
            version__framework=assessment.version.framework_id,
        )
    )
    peers = [i for org_id, i in latest_ids.items() if org_id != organisation.pk]
    group_size = len(peers)
    result = {
        "group": organisation.get_sector_display(),
        "size": group_size,
        "shown": False,
        "sections": [],
    }
    if group_size < COMPARISON_MINIMUM:
        return result
    section_ratings: dict[str, list[int]] = defaultdict(list)
    for section, rating in StatementResponse.objects.filter(
        assessment_id__in=peers, rating__isnull=False
    ).values_list("statement__section", "rating"):
        section_ratings[section].append(rating)
    overall = [r for values in section_ratings.values() for r in values]
    result.update(
        shown=True,
        overall=_score(overall),
        sections=[
            {"section": s.value, "label": s.label, "score": _score(section_ratings[s])}
            for s in SECTION_ORDER
            if section_ratings[s]
        ],
    )
    return result


def _latest_agreed_ids(queryset) -> dict[int, int]:
    latest: dict[int, tuple] = {}
    for pk, org_id, agreed_at in queryset.values_list("pk", "organisation_id", "agreed_at"):
        if org_id not in latest or agreed_at > latest[org_id][1]:
            latest[org_id] = (pk, agreed_at)
    return {org_id: value[0] for org_id, value in latest.items()}


def assessments_due_for_reassessment(*, today: date | None = None) -> list[Assessment]:
    """Latest agreed assessments a year old or more, none newer started, no reminder sent yet."""
    today = today or timezone.localdate()
    cutoff = timezone.now() - REASSESS_AFTER + (timezone.localdate() - today)
    latest = _latest_agreed_ids(Assessment.objects.agreed())
    open_orgs = set(Assessment.objects.open().values_list("organisation_id", flat=True))
    return list(
        Assessment.objects.filter(
            pk__in=latest.values(), agreed_at__lte=cutoff, reminder__isnull=True
        )
        .exclude(organisation_id__in=open_orgs)
        .select_related("organisation")
    )


def assessment_results_summary() -> dict:
    """For commissioners, beside demand: how personalised the market says it is.

    ``{"providers_assessed", "providers_total", "overall", "by_section": [{label, score}],
    "by_sector": [{sector, label, providers, score}],
    "weakest_statements": [{code, text, score, providers}]}``.
    Sector rows with fewer than COMPARISON_MINIMUM providers show no score.
    """
    from marketplace.providers.models import Sector

    latest = _latest_agreed_ids(Assessment.objects.agreed())
    ids = list(latest.values())
    responses = StatementResponse.objects.filter(assessment_id__in=ids, rating__isnull=False)
    by_section: dict[str, list[int]] = defaultdict(list)
    by_sector: dict[str, list[int]] = defaultdict(list)
    by_statement: dict[tuple, list[int]] = defaultdict(list)
    for section, sector, code, text, rating in responses.values_list(
        "statement__section",
        "assessment__organisation__sector",
        "statement__code",
        "statement__text",
        "rating",
    ):
        by_section[section].append(rating)
        by_sector[sector].append(rating)
        by_statement[(code, text)].append(rating)
    sector_counts = dict(
        Assessment.objects.filter(pk__in=ids)
        .values_list("organisation__sector")
        .annotate(n=Count("pk"))
        .values_list("organisation__sector", "n")
    )
    weakest = sorted(
        (
            {"code": c, "text": t, "score": _score(r), "providers": len(r)}
            for (c, t), r in by_statement.items()
        ),
        key=lambda row: row["score"],
    )[:5]
    return {
        "providers_assessed": len(ids),
        "providers_total": Organisation.objects.count(),
        "overall": _score([r for values in by_section.values() for r in values]),
        "by_section": [
            {"section": s.value, "label": s.label, "score": _score(by_section[s])}
            for s in SECTION_ORDER
        ],
        "by_sector": [
            {
                "sector": sector,
                "label": Sector(sector).label,
                "providers": sector_counts.get(sector, 0),
                "score": _score(ratings)
                if sector_counts.get(sector, 0) >= COMPARISON_MINIMUM
                else None,
            }
            for sector, ratings in sorted(by_sector.items())
        ],
        "weakest_statements": weakest,
    }


def citable_assessments(*, organisation: Organisation) -> QuerySet[Assessment]:
    """Assessments a grant application may cite: the organisation's submitted or agreed ones."""
    return Assessment.objects.filter(
        organisation=organisation,
        status__in=[AssessmentStatus.SUBMITTED, AssessmentStatus.AGREED, AssessmentStatus.RETURNED],
    ).select_related("version__framework")


def user_is_member(*, user: User, organisation: Organisation) -> bool:
    return Membership.objects.filter(user=user, organisation=organisation).exists()
