"""Awarded grants as a 360Giving Data Standard 1.4.3 data package.

Published at /api/grants/360giving.json and by ``manage.py export_360giving``.
Only awards whose agreement the provider has accepted are published; amounts
are in pounds (GBP), as the standard expects, converted from integer pence.
"""

from datetime import datetime, time
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from marketplace.providers.models import Organisation

from .selectors import awards_for_publication

STANDARD_VERSION = "1.4"
LICENSE = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"


def grant_id(award) -> str:
    return f"360G-{settings.GRANTNAV_PREFIX}-{award.pk}"


def organisation_id(organisation: Organisation) -> str:
    """Org-id.guide identifier: charity number, then company number, else a local id."""
    charity = (getattr(organisation, "charity_number", "") or "").strip().replace(" ", "")
    company = (getattr(organisation, "company_number", "") or "").strip().replace(" ", "").upper()
    if charity:
        return f"GB-CHC-{charity}"
    if company:
        return f"GB-COH-{company}"
    return f"GB-SCC-{settings.GRANTNAV_PREFIX}-{organisation.pk}"


def _when(value) -> str:
    """A full RFC 3339 date-time. The schema's date fields are ``oneOf`` a date pattern or a
    date-time format; a plain date satisfies both when formats are not checked, which
    fails ``oneOf``, so we always write a date-time."""
    if isinstance(value, datetime):
        moment = timezone.localtime(value)
    else:
        moment = timezone.make_aware(datetime.combine(value, time.min))
    return moment.replace(microsecond=0).isoformat()


def _pounds(pence: int) -> float | int:
    value = Decimal(pence) / 100
    return int(value) if value == value.to_integral() else float(value)


def _recipient(organisation: Organisation) -> dict:
    data = {"id": organisation_id(organisation), "name": organisation.name}
    charity = (getattr(organisation, "charity_number", "") or "").strip()
    company = (getattr(organisation, "company_number", "") or "").strip()
    if charity:
        data["charityNumber"] = charity
    if company:
        data["companyNumber"] = company
    return data


def grant_record(award, *, base_url: str) -> dict:
    application = award.application
    round = application.round
    tranches = [t for t in award.tranches.all() if t.paid_at]
    record = {
        "id": grant_id(award),
        "title": application.title,
        "description": application.summary or application.title,
        "currency": "GBP",
        "amountAppliedFor": _pounds(application.amount_requested_pence),
        "amountAwarded": _pounds(award.amount_pence),
        "awardDate": _when(award.awarded_at),
        "plannedDates": [
            {
                "startDate": _when(award.starts_on),
                "endDate": _when(award.ends_on),
                "duration": 12,
            }
        ],
        "recipientOrganization": [_recipient(application.organisation)],
        "fundingOrganization": [{"id": settings.FUNDER_ORG_ID, "name": settings.COUNCIL_NAME}],
        "grantProgramme": [{"code": round.slug, "title": f"{round.fund.name}: {round.title}"}],
        "fromOpenCall": "Yes",
        "classifications": [
            {
                "vocabulary": "scc-development-area",
                "code": application.development_area,
                "title": application.get_development_area_display(),
            }
        ],
        "beneficiaryLocation": [
            {
                "name": settings.COUNCIL_NAME,
                "countryCode": "GB",
                "geoCode": settings.COUNCIL_GSS_CODE,
                "geoCodeType": "LONB",
            }
        ],
        "locationScope": "GLS050",
        "dateModified": _when(timezone.now()),
        "dataSource": f"{base_url}/api/grants/360giving.json",
    }
    if tranches:
        record["amountDisbursed"] = _pounds(sum(t.amount_pence for t in tranches))
        record["disbursementTransaction"] = [
            {
                "id": f"{grant_id(award)}-T{t.number}",
                "transactionDate": _when(t.paid_at),
                "currency": "GBP",
                "value": _pounds(t.amount_pence),
            }
            for t in tranches
        ]
    return record


def package_360giving(*, base_url: str | None = None) -> dict:
    """The whole data package. ``grants`` is empty when nothing is awarded yet (the
    schema asks for at least one grant, so publishers should check before sharing)."""
    base_url = (base_url or settings.WAGTAILADMIN_BASE_URL).rstrip("/")
    awards = awards_for_publication().prefetch_related("tranches")
    now = timezone.now().replace(microsecond=0)
    return {
        "grants": [grant_record(award, base_url=base_url) for award in awards],
        "version": STANDARD_VERSION,
        "title": f"{settings.COUNCIL_NAME} Innovation Fund grants",
        "description": (
            "Grants from the council's Innovation Fund to care providers, to make services "
            "more personalised."
        ),
        "issued": _when(now),
        "modified": _when(now),
        "identifier": f"360G-{settings.GRANTNAV_PREFIX}-innovation-fund",
        "publisher": {
            "identifier": settings.FUNDER_ORG_ID,
            "name": settings.COUNCIL_NAME,
            "website": base_url,
        },
        "license": LICENSE,
        "accessURL": f"{base_url}/api/grants/360giving.json",
    }
