"""Demo: a published framework in two versions, and assessments from a third of providers.

The lunch club (run by the ``provider`` demo user) had version 1 agreed a
year ago, cited it in its Innovation Fund bid, and has version 2 agreed after
the council returned one section with a comment.
"""

from datetime import timedelta

from django.utils import timezone

from cms.demo import DemoContext
from marketplace.providers.models import Membership, Organisation

from .models import (
    Assessment,
    AssessmentStatus,
    Framework,
    FrameworkVersion,
    Section,
    SectionOutcome,
    SectionReview,
    Statement,
    StatementMapping,
    StatementResponse,
    VersionStatus,
)

S = Section
VERSION_1 = [
    (
        S.ORGANISATION,
        "O1",
        "I know the organisation listens to what I say and changes things.",
        "Minutes of meetings with people who use the service; changes made after feedback.",
    ),
    (
        S.ORGANISATION,
        "O2",
        "People like me help run the organisation.",
        "People who use services on the board, in recruitment or in training.",
    ),
    (
        S.ORGANISATION,
        "O3",
        "I can find out what the service costs before I buy it.",
        "Published prices; a clear invoice.",
    ),
    (
        S.ORGANISATION,
        "O4",
        "I can pay with my personal budget or card without fuss.",
        "Takes the prepayment card; invoices in plain English.",
    ),
    (
        S.SERVICES,
        "S1",
        "I can choose who supports me.",
        "How people meet and choose their workers; changes of worker on request.",
    ),
    (
        S.SERVICES,
        "S2",
        "I can choose when I am supported.",
        "Flexible times; no minimum block bookings.",
    ),
    (
        S.SERVICES,
        "S3",
        "I can change my support at short notice.",
        "Notice periods; examples of changes made within a week.",
    ),
    (
        S.SERVICES,
        "S4",
        "Support fits my culture, faith and language.",
        "Languages spoken; food, faith and cultural needs met.",
    ),
    (
        S.WAYS_OF_WORKING,
        "W1",
        "Staff help me plan my support around my life, not their rota.",
        "Person-centred plans; one-page profiles.",
    ),
    (
        S.WAYS_OF_WORKING,
        "W2",
        "Staff are trained to support me to take positive risks.",
        "Training records; risk enablement plans.",
    ),
    (
        S.WAYS_OF_WORKING,
        "W3",
        "Staff know me and what matters to me.",
        "Continuity of staff; what matters recorded and used.",
    ),
    (
        S.WAYS_OF_WORKING,
        "W4",
        "The organisation works with others to support me.",
        "Joint working with other providers, groups and brokers.",
    ),
    (
        S.OUTCOMES,
        "P1",
        "I am doing the things that matter to me.",
        "Outcome records; stories from people.",
    ),
    (
        S.OUTCOMES,
        "P2",
        "I feel part of my community.",
        "Links to local groups; people's own networks growing.",
    ),
    (
        S.OUTCOMES,
        "P3",
        "I feel safe and in control.",
        "Feedback; safeguarding handled with the person.",
    ),
    (
        S.OUTCOMES,
        "P4",
        "I have people in my life who care about me.",
        "Friendships and family contact supported.",
    ),
]
# Version 2 rewords some statements (mapped to version 1) and adds two new ones.
VERSION_2_CHANGES = {
    "S1": "I can choose who supports me and change them if it does not work out.",
    "W1": "Staff plan my support with me, around my life and not their rota.",
    "P2": "I feel part of my community and take part in it.",
}
VERSION_2_NEW = [
    (
        S.SERVICES,
        "S5",
        "I can use my support flexibly, for example saving hours for a day out.",
        "Banked hours; flexible use agreed with the person.",
    ),
    (
        S.OUTCOMES,
        "P5",
        "I have the information I need to make choices.",
        "Accessible information; easy read; advice signposted.",
    ),
]


def _statements(version, rows) -> list[Statement]:
    return Statement.objects.bulk_create(
        Statement(
            version=version, section=section, code=code, text=text, guidance=guidance, sort_order=n
        )
        for n, (section, code, text, guidance) in enumerate(rows)
    )


def _lunch_club(ctx: DemoContext) -> Organisation | None:
    user = ctx.made.get("provider_users", {}).get("provider")
    if user is None:
        return None
    membership = Membership.objects.filter(user=user).select_related("organisation").first()
    return membership.organisation if membership else None


def seed(ctx: DemoContext) -> None:
    now = timezone.now()
    reviewer = ctx.made.get("staff", {}).get("grants")
    framework = Framework.objects.create(
        name="Personalisation Impact Assessment",
        slug="pia",
        introduction=(
            "A self-assessment for providers of how personalised their services are, written "
            "from the point of view of the people who use them."
        ),
    )
    v1 = FrameworkVersion.objects.create(
        framework=framework,
        number=1,
        status=VersionStatus.PUBLISHED,
        notes="First version, tested with providers.",
        published_at=now - timedelta(days=700),
    )
    v1_statements = _statements(v1, VERSION_1)
    v2 = FrameworkVersion.objects.create(
        framework=framework,
        number=2,
        status=VersionStatus.PUBLISHED,
        previous=v1,
        notes="Reworded three statements after provider feedback; added flexible use and information.",
        published_at=now - timedelta(days=200),
    )
    rows = [
        (sec, code, VERSION_2_CHANGES.get(code, text), guide)
        for sec, code, text, guide in VERSION_1
    ]
    # Keep sections together in the new version.
    rows = rows[:8] + [VERSION_2_NEW[0]] + rows[8:] + [VERSION_2_NEW[1]]
    v2_statements = _statements(v2, rows)
    by_code_v1 = {s.code: s for s in v1_statements}
    StatementMapping.objects.bulk_create(
        StatementMapping(
            version=v2, statement=s, previous_statement=by_code_v1[s.code], sort_order=n
        )
        for n, s in enumerate(v2_statements)
        if s.code in by_code_v1
    )

    organisations = ctx.made.get("organisations") or list(Organisation.objects.order_by("pk"))
    lunch_club = _lunch_club(ctx)
    others = [o for o in organisations if lunch_club is None or o.pk != lunch_club.pk]
    chosen = ctx.rng.sample(others, k=max(0, len(organisations) // 3 - (1 if lunch_club else 0)))

    assessments: list[Assessment] = []
    plans: list[tuple[Assessment, list[Statement], float]] = []
    for n, organisation in enumerate(chosen):
        level = ctx.rng.uniform(1.6, 3.6)
        if n % 3 == 0:  # a year ago on version 1, then version 2: progress over time
            old = Assessment(
                organisation=organisation,
                version=v1,
                status=AssessmentStatus.AGREED,
                started_at=now - timedelta(days=430),
                submitted_at=now - timedelta(days=420),
                agreed_at=now - timedelta(days=400),
                reviewer=reviewer,
            )
            assessments.append(old)
            plans.append((old, v1_statements, level - 0.4))
        stage = ctx.rng.random()
        status = (
            AssessmentStatus.AGREED
            if stage < 0.75
            else AssessmentStatus.SUBMITTED
            if stage < 0.88
            else AssessmentStatus.IN_PROGRESS
        )
        started = now - timedelta(days=ctx.rng.randint(20, 150))
        current = Assessment(
            organisation=organisation,
            version=v2,
            status=status,
            started_at=started,
            submitted_at=started + timedelta(days=10)
            if status != AssessmentStatus.IN_PROGRESS
            else None,
            agreed_at=started + timedelta(days=18) if status == AssessmentStatus.AGREED else None,
            reviewer=reviewer if status == AssessmentStatus.AGREED else None,
        )
        assessments.append(current)
        plans.append((current, v2_statements, level))

    lunch_v1 = lunch_v2 = None
    if lunch_club is not None:
        lunch_v1 = Assessment(
            organisation=lunch_club,
            version=v1,
            status=AssessmentStatus.AGREED,
            started_at=now - timedelta(days=460),
            submitted_at=now - timedelta(days=450),
            agreed_at=now - timedelta(days=440),
            reviewer=reviewer,
        )
        lunch_v2 = Assessment(
            organisation=lunch_club,
            version=v2,
            status=AssessmentStatus.AGREED,
            started_at=now - timedelta(days=60),
            submitted_at=now - timedelta(days=30),
            agreed_at=now - timedelta(days=12),
            reviewer=reviewer,
        )
        assessments += [lunch_v1, lunch_v2]
        plans += [(lunch_v1, v1_statements, 2.3), (lunch_v2, v2_statements, 2.9)]

    Assessment.objects.bulk_create(assessments)
    responses = []
    for assessment, statements, level in plans:
        ratings = []
        for statement in statements:
            if assessment.status == AssessmentStatus.IN_PROGRESS and statement.section in (
                S.WAYS_OF_WORKING,
                S.OUTCOMES,
            ):
                continue
            rating = max(1, min(4, round(level + ctx.rng.uniform(-1.0, 1.0))))
            ratings.append(rating)
            weak = rating <= 2
            responses.append(
                StatementResponse(
                    assessment=assessment,
                    statement=statement,
                    rating=rating,
                    evidence=f"{statement.guidance.split(';')[0]}.",
                    action_what="Plan this with the people we support at our next review meeting."
                    if weak
                    else "",
                    action_who="Service manager" if weak else "",
                    action_by=(assessment.started_at + timedelta(days=180)).date()
                    if weak
                    else None,
                )
            )
        if assessment.status == AssessmentStatus.AGREED and ratings:
            assessment.overall_score = round(sum(ratings) / len(ratings), 2)
    StatementResponse.objects.bulk_create(responses, batch_size=2000)
    Assessment.objects.bulk_update(
        [a for a, *_ in plans if a.overall_score is not None], ["overall_score"]
    )

    if lunch_v2 is not None:
        SectionReview.objects.bulk_create(
            [
                SectionReview(
                    assessment=lunch_v2,
                    section=S.SERVICES,
                    outcome=SectionOutcome.RETURNED,
                    comment="Please add an example of someone changing their session time at short notice.",
                    reviewer=reviewer,
                    created_at=now - timedelta(days=25),
                ),
                *[
                    SectionReview(
                        assessment=lunch_v2,
                        section=section,
                        outcome=SectionOutcome.AGREED,
                        reviewer=reviewer,
                        created_at=now - timedelta(days=12),
                    )
                    for section in S
                ],
            ]
        )
        from commissioning.grants.models import Application

        Application.objects.filter(organisation=lunch_club, title__icontains="befriending").update(
            cited_assessment=lunch_v1
        )
    ctx.made["assessments"] = len(assessments)
