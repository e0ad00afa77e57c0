import pytest

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from commissioning.grants import services
from commissioning.grants.models import ApplicationStatus, Outcome
from marketplace.accounts.roles import Role
from tests.factories import MembershipFactory, user_with_role

from .factories import ApplicationFactory


@pytest.fixture
def officer(db):
    return user_with_role(Role.GRANT_OFFICER)


@pytest.fixture
def submitted(db):
    application = ApplicationFactory(
        status=ApplicationStatus.SUBMITTED, submitted_at=timezone.now()
    )
    MembershipFactory(organisation=application.organisation)
    return application


@pytest.fixture
def award(submitted, officer):
    starts = submitted.round.grant_starts_on
    services.application_determine(
        application=submitted,
        outcome=Outcome.APPROVE,
        reasons="A strong, well-costed pilot.",
        decided_by=officer,
        amount_pence=15_000_00,
        tranches=[
            (7_500_00, starts),
            (7_500_00, starts.replace(month=(starts.month % 12) + 1, day=1)),
        ],
    )
    submitted.refresh_from_db()
    return submitted.award


@pytest.fixture
def pdf():
    return SimpleUploadedFile("plan.pdf", b"%PDF-1.4 test", content_type="application/pdf")
