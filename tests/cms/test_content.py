import pytest

from django.contrib.auth.models import Group

from wagtail.models import Page, Workflow, WorkflowState

from cms.content import GLOSSARY, GUIDES, load_starter_content
from cms.models import GlossaryPage, HomePage, InformationPage
from marketplace.accounts.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def home():
    return load_starter_content()


def test_starter_content_gives_a_newcomer_the_whole_advice_section(client, home):
    assert client.get("/").status_code == 200
    advice = client.get("/advice/")
    assert advice.status_code == 200
    for guide in GUIDES:
        assert guide["title"] in advice.content.decode()
        page = client.get(f"/advice/{guide['slug']}/")
        assert page.status_code == 200
        assert guide["summary"] in page.content.decode()


def test_step_by_step_callouts_and_contact_details_render_as_gov_uk_patterns(client, home):
    what = client.get("/advice/what-is-a-personal-budget/").content.decode()
    assert "app-step-by-step" in what and "Ask for an assessment" in what
    assert "govuk-inset-text" in what
    card = client.get("/advice/using-your-personal-budget-card/").content.decode()
    assert "Card lost or stolen?" in card and "020 8359 4000" in card
    direct = client.get("/advice/direct-payments/").content.decode()
    assert "govuk-warning-text" in direct


def test_glossary_is_alphabetical_with_anchors(client, home):
    page = client.get("/advice/glossary/").content.decode()
    positions = [
        page.index(f">{term}</dt>") for term, _ in sorted(GLOSSARY, key=lambda t: t[0].lower())
    ]
    assert positions == sorted(positions)
    assert 'id="direct-payment"' in page
    assert 'href="#letter-D"' in page


def test_loading_starter_content_twice_changes_nothing(home):
    again = load_starter_content()
    assert again.pk == home.pk
    assert HomePage.objects.count() == 1
    assert GlossaryPage.objects.count() == 1
    assert InformationPage.objects.count() == len(GUIDES)


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/cookies/", "Cookies"),
        ("/accessibility/", "Accessibility statement"),
        ("/privacy/", "Privacy notice"),
    ],
)
def test_service_pages(client, home, path, heading):
    response = client.get(path)
    assert response.status_code == 200
    assert heading in response.content.decode()


def test_not_found_page_helps_people_on(client, home):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert 'href="/find/"' in response.content.decode()


def test_editors_submit_changes_for_moderation_and_moderators_publish(client_for, home):
    """An editor's change waits in Wagtail's moderation workflow; the live page is unchanged."""
    editor_client, editor = client_for(Role.CMS_EDITOR)
    assert editor.groups.filter(name="Editors").exists()
    guide = InformationPage.objects.get(slug="direct-payments")
    workflow = Workflow.objects.get(name="Moderators approval")
    assert guide.get_workflow() == workflow
    edit_url = f"/admin/pages/{guide.pk}/edit/"
    form = editor_client.get(edit_url)
    assert form.status_code == 200

    # An editor may not publish straight away.
    assert not guide.permissions_for_user(editor).can_publish()
    revision = guide.save_revision(user=editor)
    workflow.start(guide, editor)
    state = WorkflowState.objects.get(base_content_type__isnull=False, object_id=str(guide.pk))
    assert state.status == WorkflowState.STATUS_IN_PROGRESS
    assert Page.objects.get(pk=guide.pk).live_revision != revision

    moderators = Group.objects.get(name="Moderators")
    task = state.current_task_state.task.specific
    assert task.groups.filter(pk=moderators.pk).exists()

    _, moderator = client_for(Role.CMS_EDITOR)
    moderator.groups.set([moderators])
    state.current_task_state.approve(user=moderator)
    guide.refresh_from_db()
    assert guide.live_revision == revision
