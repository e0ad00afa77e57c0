"""Records nobody has confirmed for six months are flagged to the provider and listed for editors."""

from datetime import timedelta
from io import StringIO

import pytest

from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from marketplace.providers.models import Service
from marketplace.providers.selectors import service_last_checked, services_stale_for_editors
from marketplace.providers.tasks import flag_stale_records
from tests.conftest import sign_in
from tests.factories import MembershipFactory

from .factories import ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def stale_service():
    service = ServiceFactory(
        name="Old lunch club", last_confirmed_at=timezone.now() - timedelta(days=200)
    )
    MembershipFactory(organisation=service.organisation)
    ServiceFactory(name="Fresh service", organisation=service.organisation)
    return service


def test_command_flags_stale_services_once_and_emails_the_provider(
    stale_service, django_capture_on_commit_callbacks
):
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("flag_stale_records", stdout=out)
    assert "Flagged 1 service as needing a check." in out.getvalue()
    stale_service.refresh_from_db()
    assert stale_service.stale_flagged_at is not None
    assert len(mail.outbox) == 1
    assert "Old lunch club" in mail.outbox[0].body and "Fresh service" not in mail.outbox[0].body

    with django_capture_on_commit_callbacks(execute=True):
        call_command("flag_stale_records", stdout=StringIO())
    assert len(mail.outbox) == 1


def test_celery_task_runs_the_same_flagging(stale_service):
    assert flag_stale_records.delay().get() == 1


def test_provider_portal_shows_a_banner_for_flagged_services(stale_service):
    flag_stale_records()
    member = stale_service.organisation.memberships.get().user
    page = (
        sign_in(Client(), member)
        .get(f"/provider/organisations/{stale_service.organisation_id}/")
        .content.decode()
    )
    assert "Please check 1 service" in page
    assert "Confirm these details are still correct" in page


def test_editors_report_lists_stale_live_services_oldest_first(stale_service):
    older = ServiceFactory(name="Older", last_confirmed_at=timezone.now() - timedelta(days=400))
    draft = ServiceFactory(name="Draft", last_confirmed_at=timezone.now() - timedelta(days=400))
    Service.objects.filter(pk=draft.pk).update(live=False)
    assert list(services_stale_for_editors().values_list("name", flat=True)) == [
        "Older",
        "Old lunch club",
    ]
    assert older.is_stale


def test_public_last_checked_date(stale_service):
    assert service_last_checked(service=stale_service) == timezone.localdate(
        stale_service.last_confirmed_at
    )
