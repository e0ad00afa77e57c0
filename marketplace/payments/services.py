"""Writes for purchases, card-merchant matching, invoices and marketplace payments."""

from datetime import date

from django.db import IntegrityError, transaction

from marketplace.accounts.models import BudgetHolder
from marketplace.providers.models import Organisation
from marketplace.providers.taxonomy import ServiceCategory

from .matching import merchant_key, merchant_match, normalise_postcode
from .mcc import category_for_mcc
from .models import Channel, MatchStatus, Purchase

CARD_CHANNELS = (Channel.CARD, Channel.CARD_STATEMENT)


@transaction.atomic
def purchase_record(
    *,
    budget_holder: BudgetHolder,
    amount_pence: int,
    occurred_on: date,
    channel: Channel,
    source_reference: str,
    organisation: Organisation | None = None,
    category: ServiceCategory | None = None,
    merchant_name: str = "",
    merchant_category_code: str = "",
    match_status: MatchStatus | None = None,
    match_confidence: int = 0,
    merchant_postcode: str = "",
    stripe_merchant_id: str = "",
) -> tuple[Purchase, bool]:
    """Record one purchase exactly once; returns ``(purchase, created)``.

    A second call with the same channel and source reference returns the
    first record unchanged, so retried events and re-imported statements are
    harmless. A card purchase without an organisation is matched to a
    directory provider here (merchant id, learned aliases, name and
    postcode); without a confident match, the merchant category code decides
    the category.
    """
    existing = Purchase.objects.filter(channel=channel, source_reference=source_reference).first()
    if existing is not None:
        return existing, False
    if organisation is None and channel in CARD_CHANNELS and match_status is None and (
        merchant_name or stripe_merchant_id
    ):
        match = merchant_match(
            merchant_name=merchant_name,
            merchant_postcode=merchant_postcode,
            stripe_merchant_id=stripe_merchant_id,
            merchant_category_code=merchant_category_code,
        )
        match_confidence = match.confidence
        if match.organisation_id is not None:
            organisation = Organisation.objects.get(pk=match.organisation_id)
            category = category or match.category
            match_status = MatchStatus.MATCHED
    if match_status is None:
        if organisation is not None:
            match_status = MatchStatus.MATCHED
            match_confidence = match_confidence or 100
        elif merchant_category_code:
            match_status = MatchStatus.CATEGORY_ONLY
        else:
            match_status = MatchStatus.UNMATCHED
    purchase = Purchase(
        budget_holder=budget_holder,
        organisation=organisation,
        category=category or category_for_mcc(merchant_category_code),
        amount_pence=amount_pence,
        occurred_on=occurred_on,
        channel=channel,
        source_reference=source_reference,
        merchant_name=merchant_name,
        merchant_category_code=merchant_category_code,
        merchant_key=merchant_key(merchant_name),
        merchant_postcode=normalise_postcode(merchant_postcode)[:10],
        stripe_merchant_id=stripe_merchant_id,
        match_status=match_status,
        match_confidence=match_confidence,
        care_group=budget_holder.care_group,
        postcode_district=budget_holder.postcode_district,
        sector=organisation.sector if organisation is not None else "",
    )
    try:
        with transaction.atomic():
            purchase.save()
    except IntegrityError:
        # Another process recorded the same source a moment ago.
        return Purchase.objects.get(channel=channel, source_reference=source_reference), False
    return purchase, True
