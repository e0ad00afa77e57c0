"""A provider applies to the Innovation Fund and completes a Personalisation Impact
Assessment in a real browser, with axe-core checking every page on the way."""

import pytest

from commissioning.assessments.models import AssessmentStatus
from commissioning.grants.models import ApplicationStatus
from tests.browser.conftest import assert_no_axe_violations, sign_in_through_the_page
from tests.commissioning.assessments.factories import FrameworkVersionFactory
from tests.commissioning.grants.factories import RoundFactory
from tests.factories import PASSWORD, MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_provider_applies_for_a_grant(browser_page, tmp_path):
    round = RoundFactory(title="Spring round")
    membership = MembershipFactory(organisation__name="Finchley Lunch Club")
    page = browser_page
    sign_in_through_the_page(page, membership.user, PASSWORD)

    page.goto("/grants/")
    assert_no_axe_violations(page, context="Innovation Fund home")
    page.get_by_role("link", name="Apply to Spring round").click()
    assert_no_axe_violations(page, context="start application")
    page.get_by_role("button", name="Start application").click()

    assert page.locator("h1").inner_text() == "Your application"
    page.get_by_label("Project title").fill("Befriending pilot")
    page.get_by_label("Social capital").check()
    page.get_by_label("Amount you are asking for, in pounds").fill("15000")
    page.get_by_role("button", name="Save and come back later").click()
    assert "Your draft has been saved" in page.content()
    assert_no_axe_violations(page, context="draft application")

    page.get_by_role("link", name="Continue your application").click()
    assert page.get_by_label("Project title").input_value() == "Befriending pilot"
    page.get_by_label("Project summary").fill("Volunteers visit members at home between sessions.")
    page.get_by_label("What need will the project meet?").fill(
        "Members are lonely between sessions."
    )
    page.get_by_label("How many people will benefit?").fill("40")
    document = tmp_path / "budget.pdf"
    document.write_bytes(b"%PDF-1.4 budget")
    page.get_by_role("button", name="Save and come back later").click()
    page.get_by_role("link", name="Continue your application").click()
    page.get_by_label("What is this document?").fill("Project budget")
    page.get_by_label("Document", exact=True).set_input_files(str(document))
    page.get_by_role("button", name="Attach document").click()
    assert "The document has been attached." in page.content()
    assert_no_axe_violations(page, context="application form")

    page.get_by_role("button", name="Save and check your application").click()
    assert page.locator("h1").inner_text() == "Check your application"
    assert_no_axe_violations(page, context="check your application")
    page.get_by_role("button", name="Submit application").click()
    assert "Your application has been submitted" in page.content()
    assert_no_axe_violations(page, context="submitted application")

    application = membership.organisation.grant_applications.get(round=round)
    assert application.status == ApplicationStatus.SUBMITTED
    assert application.attachments.get().title == "Project budget"


def test_a_provider_completes_an_assessment(browser_page):
    FrameworkVersionFactory()
    membership = MembershipFactory(organisation__name="Finchley Lunch Club")
    page = browser_page
    sign_in_through_the_page(page, membership.user, PASSWORD)

    page.goto("/assessments/")
    assert_no_axe_violations(page, context="assessment home")
    page.get_by_role("button", name="Start assessment").click()
    assert page.locator("h1").inner_text() == "Finchley Lunch Club"
    assert_no_axe_violations(page, context="assessment task list")

    # First sitting: one section, saved to come back later.
    page.get_by_role("link", name="The organisation").click()
    page.get_by_label("3 – Developing").check()
    page.get_by_label("Evidence for O1").fill("Members' meeting minutes")
    page.get_by_role("button", name="Save and come back later").click()
    assert "Your answers have been saved" in page.content()

    # Second sitting: continue through the remaining sections.
    page.get_by_role("link", name="Its services").click()
    assert_no_axe_violations(page, context="assessment section")
    page.get_by_label("2 – Starting").check()
    page.get_by_role("button", name="Save and continue").click()
    # A weak rating needs an action plan.
    assert page.locator(".govuk-error-summary").is_visible()
    assert_no_axe_violations(page, context="assessment section with errors")
    page.get_by_label("Action for S1: what you will do").fill("Let members choose their volunteer")
    page.get_by_label("Action for S1: who will do it").fill("Volunteer coordinator")
    page.locator("input[name$='_action_by_day']").fill("1")
    page.locator("input[name$='_action_by_month']").fill("3")
    page.locator("input[name$='_action_by_year']").fill("2027")
    page.get_by_role("button", name="Save and continue").click()
    assert page.locator("h1").inner_text() == "Support for personalised ways of working"
    page.get_by_label("4 – Embedded").check()
    page.get_by_role("button", name="Save and continue").click()
    assert page.locator("h1").inner_text() == "Outcomes for people"
    page.get_by_label("3 – Developing").check()
    page.get_by_role("button", name="Save and continue").click()

    assert "Completed" in page.locator(".govuk-task-list").inner_text()
    page.get_by_role("button", name="Submit assessment").click()
    assert "sent to the council" in page.content()
    assert_no_axe_violations(page, context="submitted assessment")
    assessment = membership.organisation.assessments.get()
    assert assessment.status == AssessmentStatus.SUBMITTED
    assert str(assessment.responses.get(statement__code="S1").action_by) == "2027-03-01"
