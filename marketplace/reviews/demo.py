"""Demo reviews, written only where a verified purchase exists (from the payments seeder).

A mix of ratings around each provider's own quality; negative reviews
published intact; some waiting for moderation or a provider's reply; a few
withheld for listed reasons; replies from providers; open reports. Kamala
Shah's newest purchase is left unreviewed so the journey "her daughter
reviews on her behalf" can be tried.
"""

from datetime import datetime, time, timedelta

from django.db.models import Max
from django.utils import timezone

from cms.demo import DemoContext
from marketplace.accounts.models import Delegation
from marketplace.payments.models import MatchStatus, Purchase
from marketplace.providers.models import Membership

from .deidentify import deidentified_suggestion
from .models import AuthorRole, ReportReason, Review, ReviewReport, ReviewStatus, WithholdReason
from .selectors import REVIEW_PERIOD_DAYS
from .services import rating_summaries_refresh

TEXTS = {
    5: [
        (
            "Could not ask for better",
            "The carers always arrive on time and take the time to chat. {name} looks forward to every visit and the office answers the phone straight away.",
        ),
        (
            "They really listen",
            "They asked what mattered to {name} and planned the support around it. When we needed to change days they sorted it within a week.",
        ),
        (
            "Warm and reliable",
            "Friendly staff who treat {name} with real respect. The price is fair for what we get and the invoices are clear.",
        ),
    ],
    4: [
        (
            "Good service, small hiccups",
            "Mostly the same two carers, which helps a lot. Once or twice they were half an hour late, but they always rang to say.",
        ),
        (
            "Helpful and kind",
            "The lunch club is lively and the staff know everyone by name. Transport could be more flexible on Fridays.",
        ),
        (
            "Pleased overall",
            "Good value and the manager listened when we asked for an earlier visit. Paperwork can be slow.",
        ),
    ],
    3: [
        (
            "Mixed experience",
            "Some carers are excellent, others rush. We never know who is coming, which unsettles {name}.",
        ),
        (
            "Okay but expensive",
            "The support itself is fine but the hourly rate went up twice this year with little notice.",
        ),
        (
            "Depends on the day",
            "Good when the regular team is on. Cover at weekends is patchy and nobody tells us in advance.",
        ),
    ],
    2: [
        (
            "Often late",
            "Visits were an hour late on most mornings and nobody phoned. {name} was left waiting to get up, which is not acceptable.",
        ),
        (
            "Not listened to",
            "We asked several times for a female carer and were ignored. The office promised to call back and did not.",
        ),
        (
            "Poor communication",
            "Rotas changed without warning and I had to ring {phone} three times before anyone answered.",
        ),
    ],
    1: [
        (
            "Missed visits",
            "Two visits were missed completely in one week and {name} went without lunch. The complaint we made was never answered.",
        ),
        (
            "Would not recommend",
            "Staff were rude to {name} and rushed every visit. We have moved to another provider.",
        ),
        (
            "Very disappointing",
            "They charged for sessions that did not happen and it took two months to get the money back.",
        ),
    ],
}

REPLIES = {
    "good": [
        "Thank you for taking the time to write this. We will pass your kind words to the team.",
        "We are so pleased the support is working well. Thank you for the feedback.",
    ],
    "bad": [
        "We are sorry to read this. Our manager would like to talk it through: please ring the office and ask for her.",
        "Thank you for telling us. We have changed how we plan rotas so this does not happen again.",
        "We apologise. We have reviewed our missed-visit procedure and refunded the sessions.",
    ],
}

REPORT_DETAILS = [
    (ReportReason.NOT_ABOUT_SERVICE, "This seems to be about the council, not the provider."),
    (ReportReason.OTHER, "I think this was written by a competitor."),
    (ReportReason.DEFAMATION, "It says the manager stole money, which is not true."),
]


def _clamp(value: float) -> int:
    return max(1, min(5, round(value)))


def _aware(day, ctx: DemoContext) -> datetime:
    moment = datetime.combine(day, time(9)) + timedelta(minutes=ctx.rng.randint(0, 600))
    return timezone.make_aware(moment)


def seed(ctx: DemoContext) -> None:
    today = ctx.today
    since = today - timedelta(days=REVIEW_PERIOD_DAYS - 1)
    newest = (
        Purchase.objects.filter(
            organisation__isnull=False,
            amount_pence__gt=0,
            occurred_on__gte=since,
            occurred_on__lte=today,
            match_status__in=[MatchStatus.MATCHED, MatchStatus.CONFIRMED],
        )
        .values("budget_holder_id", "organisation_id")
        .annotate(last=Max("occurred_on"), purchase_id=Max("pk"))
        .order_by("organisation_id", "budget_holder_id")
    )
    pairs = list(newest)
    if not pairs:
        return  # No verified purchases: nobody could have written a review.

    holders_with_user = dict(
        Purchase.objects.filter(budget_holder__user__isnull=False)
        .values_list("budget_holder_id", "budget_holder__user_id")
        .distinct()
    )
    proxies: dict[int, int] = {}
    for holder_id, proxy_id in (
        Delegation.objects.current(today)
        .filter(may_review=True)
        .values_list("budget_holder_id", "proxy_id")
    ):
        proxies.setdefault(holder_id, proxy_id)
    personas = ctx.made.get("personas", {})
    kept_for_journey = {p.pk for key, p in personas.items() if key == "kamala"}
    staff_by_org: dict[int, int] = {}
    for org_id, user_id in Membership.objects.order_by("pk").values_list(
        "organisation_id", "user_id"
    ):
        staff_by_org.setdefault(org_id, user_id)
    # The demo's provider sign-ins each see a couple of reviews waiting for their reply.
    demo_provider_orgs = set(
        Membership.objects.filter(
            user__in=list(ctx.made.get("provider_users", {}).values())
        ).values_list("organisation_id", flat=True)
    )
    moderator = ctx.made.get("staff", {}).get("moderator")
    names = dict(
        Purchase.objects.filter(pk__in=[p["purchase_id"] for p in pairs]).values_list(
            "budget_holder_id", "budget_holder__full_name"
        )
    )

    quality: dict[int, float] = {}
    awaiting_for_provider: dict[int, int] = {}
    reviews: list[Review] = []
    for pair in pairs:
        holder_id, org_id = pair["budget_holder_id"], pair["organisation_id"]
        if holder_id in kept_for_journey:
            continue
        if holder_id in holders_with_user:
            author_id, role = holders_with_user[holder_id], AuthorRole.BUDGET_HOLDER
        elif holder_id in proxies:
            author_id, role = proxies[holder_id], AuthorRole.PROXY
        else:
            continue
        if ctx.rng.random() > 0.6:
            continue
        if org_id not in quality:
            quality[org_id] = ctx.rng.uniform(2.0, 4.8)
        rating = _clamp(ctx.rng.gauss(quality[org_id], 0.9))
        dimensions = [_clamp(ctx.rng.gauss(rating, 0.7)) for _ in range(4)]
        title, template = ctx.rng.choice(TEXTS[rating])
        first_name = (names.get(holder_id) or "Mum").split(" ")[0]
        body = template.format(name=first_name, phone=f"07700 900{ctx.rng.randint(100, 999)}")
        earliest = pair["last"] + timedelta(days=1)
        span = max((today - earliest).days, 0)

        # Status: providers with demo staff get a couple waiting for their reply.
        roll = ctx.rng.random()
        if org_id in demo_provider_orgs and awaiting_for_provider.get(org_id, 0) < 2:
            status = ReviewStatus.AWAITING_REPLY
            awaiting_for_provider[org_id] = awaiting_for_provider.get(org_id, 0) + 1
        elif roll < 0.03:
            status = ReviewStatus.SUBMITTED
        elif roll < 0.08:
            status = ReviewStatus.AWAITING_REPLY
        elif roll < 0.12:
            status = ReviewStatus.WITHHELD
        else:
            status = ReviewStatus.PUBLISHED

        if status in (ReviewStatus.SUBMITTED, ReviewStatus.AWAITING_REPLY):
            submitted_on = today - timedelta(days=ctx.rng.randint(0, min(5, span)))
        else:
            submitted_on = earliest + timedelta(days=ctx.rng.randint(0, max(span - 8, 0)))
        submitted_on = max(submitted_on, earliest) if earliest <= today else today
        submitted_at = _aware(submitted_on, ctx)
        review = Review(
            organisation_id=org_id,
            budget_holder_id=holder_id,
            author_id=author_id,
            author_role=role,
            purchase_id=pair["purchase_id"],
            rating=rating,
            dignity=dimensions[0],
            reliability=dimensions[1],
            choice=dimensions[2],
            value=dimensions[3],
            title=title,
            body=body,
            status=status,
            submitted_at=submitted_at,
        )
        if status != ReviewStatus.SUBMITTED:
            review.public_title = title
            review.public_body = deidentified_suggestion(
                text=body, names=[names.get(holder_id, "")]
            )
            review.moderated_at = submitted_at + timedelta(hours=ctx.rng.randint(2, 30))
            review.moderated_by = moderator
            review.reply_due_at = review.moderated_at + timedelta(days=7)
        if status == ReviewStatus.WITHHELD:
            review.withheld_reason = ctx.rng.choice(WithholdReason.values)
            review.withheld_note = "Demo: the passage that could not be published."
            review.reply_due_at = None
        if status == ReviewStatus.PUBLISHED:
            if ctx.rng.random() < 0.4:
                review.reply = ctx.rng.choice(REPLIES["good" if rating >= 4 else "bad"])
                review.replied_at = review.moderated_at + timedelta(days=ctx.rng.randint(1, 6))
                review.replied_by_id = staff_by_org.get(org_id)
                review.published_at = review.replied_at
            else:
                review.published_at = review.reply_due_at
            if review.published_at > timezone.now():
                # Recent: the provider chose not to wait out the window.
                review.published_at = timezone.now()
                review.reply_waived_at = review.published_at
        reviews.append(review)

    Review.objects.bulk_create(reviews, batch_size=2000)
    published = [r for r in reviews if r.status == ReviewStatus.PUBLISHED and r.pk]
    if published:
        reports = []
        for reason, details in REPORT_DETAILS[: max(1, min(len(published), 3 * ctx.scale))]:
            reports.append(
                ReviewReport(review=ctx.rng.choice(published), reason=reason, details=details)
            )
        ReviewReport.objects.bulk_create(reports)
    rating_summaries_refresh()
    ctx.made["reviews"] = len(reviews)
