"""Demo: the Innovation Fund's first round in its monitoring year, and a new round open now.

Round 1 had 41 bids and made 12 awards totalling exactly £200,000 (Barnet
2010, section 4.2). Every grantee sent its first quarterly report; all but the
lunch club sent the second, which is a few days late, so it shows amber.
"""

from datetime import datetime, time, timedelta

from django.utils import timezone

from cms.demo import DemoContext
from marketplace.providers.models import Membership, Organisation, Sector

from .models import (
    Application,
    ApplicationForm,
    ApplicationStatus,
    Award,
    Criterion,
    Determination,
    DevelopmentArea,
    Fund,
    MonitoringReport,
    Outcome,
    PaymentMethod,
    Question,
    QuestionKind,
    ReportKind,
    ReviewerAssignment,
    RiskLevel,
    Round,
    Tranche,
)
from .services import _add_months, default_agreement, report_schedule

AWARDS_POUNDS = [
    25_000,
    20_000,
    20_000,
    18_000,
    17_500,
    16_000,
    15_000,
    15_000,
    15_000,
    14_000,
    12_500,
    12_000,
]
assert sum(AWARDS_POUNDS) == 200_000

PROJECTS = [
    (
        "Befriending pilot",
        DevelopmentArea.SOCIAL_CAPITAL,
        "Volunteers visit lunch club members at home between sessions, so no one goes a week without company.",
    ),
    (
        "Personal assistant training hub",
        DevelopmentArea.WORKFORCE,
        "Shared training for personal assistants employed by people with direct payments.",
    ),
    (
        "Community brokers",
        DevelopmentArea.SUPPORT_PLANNING,
        "Trained local people help others plan how to use their personal budget.",
    ),
    (
        "Micro-provider start-up support",
        DevelopmentArea.MARKET,
        "Help for small local enterprises to offer care and support.",
    ),
    (
        "Flexible day opportunities",
        DevelopmentArea.MARKET,
        "Day activities bookable by the hour instead of by the day.",
    ),
    (
        "Peer support for carers",
        DevelopmentArea.SOCIAL_CAPITAL,
        "Carers who have used personal budgets support new carers.",
    ),
    (
        "Easy read support plans",
        DevelopmentArea.SUPPORT_PLANNING,
        "Support plans co-written in easy read with people with learning disabilities.",
    ),
    (
        "Values-based recruitment",
        DevelopmentArea.WORKFORCE,
        "Recruiting care staff for values, with people who use services on interview panels.",
    ),
    (
        "Men's shed",
        DevelopmentArea.SOCIAL_CAPITAL,
        "A workshop space where older men share skills and company.",
    ),
    (
        "Time banking for support",
        DevelopmentArea.SOCIAL_CAPITAL,
        "People trade hours of help, building networks alongside paid support.",
    ),
    (
        "Online booking for small providers",
        DevelopmentArea.MARKET,
        "Simple online booking and card payment for small providers.",
    ),
    (
        "Mental health recovery coaching",
        DevelopmentArea.SUPPORT_PLANNING,
        "Coaches help people plan support around their own recovery goals.",
    ),
    (
        "Dementia-friendly cafés",
        DevelopmentArea.SOCIAL_CAPITAL,
        "Cafés where people with dementia and their carers are welcome.",
    ),
    (
        "Shared lives expansion",
        DevelopmentArea.MARKET,
        "Recruiting more shared lives carers in the borough.",
    ),
    (
        "Apprenticeships in care",
        DevelopmentArea.WORKFORCE,
        "Apprenticeships for local young people in care work.",
    ),
    (
        "Direct payment support service",
        DevelopmentArea.SUPPORT_PLANNING,
        "Payroll and advice for people employing their own staff.",
    ),
]
DECLINE_REASONS = [
    "The panel liked the idea but the costs were not clearly linked to outcomes for people.",
    "The project duplicates a service already funded in the same area.",
    "The bid did not show how people who use services were involved in designing it.",
    "The panel scored other bids higher on personalisation; we encourage you to apply again.",
]


def _extra_organisations(ctx: DemoContext, needed: int) -> list[Organisation]:
    """Bidders beyond the directory's providers, if the directory is small at this scale."""
    if needed <= 0:
        return []
    sectors = [Sector.VOLUNTARY, Sector.PRIVATE, Sector.SOCIAL_ENTERPRISE, Sector.USER_LED]
    made = []
    for n in range(needed):
        organisation = Organisation(
            name=f"Barnet Community Project {n + 1}",
            slug=f"barnet-community-project-{n + 1}",
            sector=sectors[n % 4],
        )
        organisation.save()
        made.append(organisation)
    return made


def _lunch_club(ctx: DemoContext) -> Organisation | None:
    user = ctx.made.get("provider_users", {}).get("provider")
    if user is None:
        return None
    membership = Membership.objects.filter(user=user).select_related("organisation").first()
    return membership.organisation if membership else None


def seed(ctx: DemoContext) -> None:
    now = timezone.now()
    today = ctx.today
    staff = ctx.made.get("staff", {})
    officer, second_reviewer = staff.get("grants"), staff.get("grant.reviewer")

    fund = Fund.objects.create(
        name="Innovation Fund",
        slug="innovation-fund",
        description="Small grants to help providers make their services more personalised.",
    )
    form = ApplicationForm.objects.create(name="Innovation Fund application")
    Question.objects.bulk_create(
        [
            Question(
                form=form,
                key="need",
                label="What need will the project meet, and how do you know?",
                kind=QuestionKind.LONG_TEXT,
                max_words=300,
                sort_order=0,
            ),
            Question(
                form=form,
                key="people",
                label="How many people will benefit in the first year?",
                kind=QuestionKind.NUMBER,
                sort_order=1,
            ),
            Question(
                form=form,
                key="coproduction",
                label="How have people who use services helped design the project?",
                kind=QuestionKind.LONG_TEXT,
                max_words=250,
                sort_order=2,
            ),
            Question(
                form=form,
                key="continue",
                label="Will the project continue after the grant?",
                kind=QuestionKind.YES_NO,
                sort_order=3,
            ),
        ]
    )
    starts = today - timedelta(days=200)
    round1 = Round.objects.create(
        fund=fund,
        title="2025 to 2026 round",
        slug="round-1",
        description="The first round: one-year grants across the four development areas.",
        opens_at=now - timedelta(days=330),
        closes_at=now - timedelta(days=270),
        budget_pence=200_000_00,
        max_award_pence=25_000_00,
        form=form,
        grant_starts_on=starts,
        grant_ends_on=_add_months(starts, 12) - timedelta(days=1),
    )
    round2 = Round.objects.create(
        fund=fund,
        title="2026 to 2027 round",
        slug="round-2",
        description="Open now. We especially welcome bids for support planning and brokerage.",
        opens_at=now - timedelta(days=10),
        closes_at=now + timedelta(days=50),
        budget_pence=200_000_00,
        max_award_pence=25_000_00,
        form=form,
        grant_starts_on=today + timedelta(days=90),
        grant_ends_on=today + timedelta(days=454),
    )
    criteria = []
    for r in (round1, round2):
        criteria += Criterion.objects.bulk_create(
            [
                Criterion(
                    round=r, name="Makes support more personalised", max_score=5, sort_order=0
                ),
                Criterion(
                    round=r, name="People who use services involved", max_score=5, sort_order=1
                ),
                Criterion(
                    round=r, name="Value for money and sustainability", max_score=5, sort_order=2
                ),
            ]
        )
    round1_criteria = [c for c in criteria if c.round_id == round1.pk]

    lunch_club = _lunch_club(ctx)
    pool = [
        o
        for o in (ctx.made.get("organisations") or Organisation.objects.order_by("pk"))
        if o != lunch_club
    ]
    ctx.rng.shuffle(pool)
    bidders = ([lunch_club] if lunch_club else []) + pool
    bidders = bidders[:41] + _extra_organisations(ctx, 41 - len(bidders))
    submitted_at = now - timedelta(days=285)
    # The lunch club's befriending pilot is one of the three £15,000 awards.
    amounts = list(AWARDS_POUNDS)
    if lunch_club:
        amounts.remove(15_000)
        amounts.insert(0, 15_000)
    applications = []
    for n, organisation in enumerate(bidders):
        title, area, summary = PROJECTS[n % len(PROJECTS)]
        if n >= len(PROJECTS):
            title = f"{title} ({organisation.name})"
        awarded = n < len(amounts)
        amount = (
            amounts[n]
            if awarded
            else ctx.rng.choice([8_000, 10_000, 12_000, 15_000, 20_000, 25_000])
        )
        applications.append(
            Application(
                round=round1,
                organisation=organisation,
                title=title,
                development_area=area,
                summary=summary,
                amount_requested_pence=amount * 100,
                answers={
                    "need": summary,
                    "people": str(ctx.rng.randint(15, 120)),
                    "coproduction": "A working group of people who use our services shaped the plan.",
                    "continue": "yes",
                },
                status=ApplicationStatus.APPROVED if awarded else ApplicationStatus.DECLINED,
                created_at=submitted_at - timedelta(days=14),
                submitted_at=submitted_at,
            )
        )
    Application.objects.bulk_create(applications)

    assignments, determinations = [], []
    for n, application in enumerate(applications):
        for reviewer in (officer, second_reviewer):
            if reviewer is None:
                continue
            high = application.status == ApplicationStatus.APPROVED
            assignments.append(
                ReviewerAssignment(
                    application=application,
                    reviewer=reviewer,
                    assigned_by=officer,
                    assigned_at=submitted_at + timedelta(days=2),
                    scores={
                        str(c.pk): ctx.rng.randint(3, 5) if high else ctx.rng.randint(1, 4)
                        for c in round1_criteria
                    },
                    comments="Clear plan with people at its heart." if high else "",
                    scored_at=submitted_at + timedelta(days=9),
                )
            )
        determinations.append(
            Determination(
                application=application,
                outcome=Outcome.APPROVE
                if application.status == ApplicationStatus.APPROVED
                else Outcome.DECLINE,
                reasons=(
                    "The panel funded this project: a clear need, designed with the people it serves."
                    if application.status == ApplicationStatus.APPROVED
                    else DECLINE_REASONS[n % len(DECLINE_REASONS)]
                ),
                decided_by=officer,
                decided_at=submitted_at + timedelta(days=16),
            )
        )
    ReviewerAssignment.objects.bulk_create(assignments)
    Determination.objects.bulk_create(determinations)

    awards = []
    for application in applications[:12]:
        awards.append(
            Award(
                application=application,
                amount_pence=application.amount_requested_pence,
                agreement_text=default_agreement(
                    application=application, amount_pence=application.amount_requested_pence
                ),
                awarded_at=submitted_at + timedelta(days=16),
                starts_on=round1.grant_starts_on,
                ends_on=round1.grant_ends_on,
                agreement_accepted_at=submitted_at + timedelta(days=30),
                agreement_accepted_name=application.organisation.name + " director",
            )
        )
    Award.objects.bulk_create(awards)

    tranches, reports = [], []
    second_due = _add_months(round1.grant_starts_on, 6)
    for award in awards:
        half = award.amount_pence // 2
        tranches.append(
            Tranche(
                award=award,
                number=1,
                amount_pence=half,
                due_on=round1.grant_starts_on,
                paid_at=now - timedelta(days=199),
                method=PaymentMethod.BANK,
                reference=f"BACS-IF-{award.pk}-1",
                paid_by=officer,
            )
        )
        paid_second = second_due <= today
        tranches.append(
            Tranche(
                award=award,
                number=2,
                amount_pence=award.amount_pence - half,
                due_on=second_due,
                paid_at=now - timedelta(days=(today - second_due).days) if paid_second else None,
                method=PaymentMethod.BANK if paid_second else "",
                reference=f"BACS-IF-{award.pk}-2" if paid_second else "",
                paid_by=officer if paid_second else None,
            )
        )
        late = lunch_club is not None and award.application.organisation_id == lunch_club.pk
        for report in report_schedule(award=award):
            if report.due_on < today and not (
                late and report.kind == ReportKind.QUARTERLY and report.period == 2
            ):
                fraction = report.period / 4 if report.kind == ReportKind.QUARTERLY else 0.75
                sent_on = report.due_on - timedelta(days=ctx.rng.randint(0, 6))
                report.submitted_at = timezone.make_aware(datetime.combine(sent_on, time(10)))
                report.submitted_by = None
                report.personal_outcomes = (
                    "People told us they feel more in control of when and how they are supported."
                )
                report.community_impact = "New links with two local community groups."
                report.spend_to_date_pence = int(
                    award.amount_pence * fraction * ctx.rng.uniform(0.8, 1.05)
                )
                report.risk_level = ctx.rng.choice([RiskLevel.GREEN] * 5 + [RiskLevel.AMBER])
                report.risks = (
                    "Volunteer recruitment slower than planned."
                    if report.risk_level == RiskLevel.AMBER
                    else "None new."
                )
                if report.kind != ReportKind.QUARTERLY:
                    report.body = "What worked, what did not, and what we would do differently."
            reports.append(report)
    Tranche.objects.bulk_create(tranches)
    MonitoringReport.objects.bulk_create(reports)
    ctx.made["grant_rounds"] = [round1, round2]
    ctx.made["grant_awards"] = len(awards)
