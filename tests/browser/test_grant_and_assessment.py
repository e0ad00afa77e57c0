"""A provider applies to the Innovation Fund and completes a Personalisation Impact
Assessment in a real browser, with axe-core checking every page on the way."""

import pytest
from playwright.sync_api import expect

from commissioning.assessments.models import AssessmentStatus
from commissioning.grants.models import ApplicationStatus
from tests.browser.conftest import (
    assert_no_axe_violations,
    follow,
    sign_in_through_the_page,
    submit,
)
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
    follow(page, "Apply to Spring round")
    expect(page.locator("h1")).to_have_text("Apply to Spring round")
    assert_no_axe_violations(page, context="start application")
    submit(page, "Start application")

    expect(page.locator("h1")).to_have_text("Your application")
    page.get_by_label("Project title").fill("Befriending pilot")
    page.get_by_label("Social capital").check()
    page.get_by_label("Amount you are asking for, in pounds").fill("15000")
    submit(page, "Save and come back later")
    expect(page.locator("main")).to_contain_text("Your draft has been saved")
    assert_no_axe_violations(page, context="draft application")

    follow(page, "Continue your application")
    expect(page.get_by_label("Project title")).to_have_value("Befriending pilot")
    page.get_by_label("Project summary").fill("Volunteers visit members at home between sessions.")
    page.get_by_label("What need will the project meet?").fill(
        "Members are lonely between sessions."
    )
    page.get_by_label("How many people will benefit?").fill("40")
    document = tmp_path / "budget.pdf"
    document.write_bytes(b"%PDF-1.4 budget")
    submit(page, "Save and come back later")
    follow(page, "Continue your application")
    page.get_by_label("What is this document?").fill("Project budget")
    page.get_by_label("Document", exact=True).set_input_files(str(document))
    submit(page, "Attach document")
    expect(page.locator("main")).to_contain_text("The document has been attached.")
    assert_no_axe_violations(page, context="application form")

    submit(page, "Save and check your application")
    expect(page.locator("h1")).to_have_text("Check your application")
    assert_no_axe_violations(page, context="check your application")
    submit(page, "Submit application")
    expect(page.locator("main")).to_contain_text("Your application has been submitted")
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
    submit(page, "Start assessment")
    expect(page.locator("h1")).to_have_text("Finchley Lunch Club")
    assert_no_axe_violations(page, context="assessment task list")

    # First sitting: one section, saved to come back later.
    follow(page, "The organisation")
    expect(page.locator("h1")).to_have_text("The organisation")
    page.get_by_label("3 – Developing").check()
    page.get_by_label("Evidence for O1").fill("Members' meeting minutes")
    submit(page, "Save and come back later")
    expect(page.locator("main")).to_contain_text("Your answers have been saved")

    # Second sitting: continue through the remaining sections.
    follow(page, "Its services")
    expect(page.locator("h1")).to_have_text("Its services")
    assert_no_axe_violations(page, context="assessment section")
    page.get_by_label("2 – Starting").check()
    submit(page, "Save and continue")
    # A weak rating needs an action plan.
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_no_axe_violations(page, context="assessment section with errors")
    page.get_by_label("Action for S1: what you will do").fill("Let members choose their volunteer")
    page.get_by_label("Action for S1: who will do it").fill("Volunteer coordinator")
    page.locator("input[name$='_action_by_day']").fill("1")
    page.locator("input[name$='_action_by_month']").fill("3")
    page.locator("input[name$='_action_by_year']").fill("2027")
    submit(page, "Save and continue")
    expect(page.locator("h1")).to_have_text("Support for personalised ways of working")
    page.get_by_label("4 – Embedded").check()
    submit(page, "Save and continue")
    expect(page.locator("h1")).to_have_text("Outcomes for people")
    page.get_by_label("3 – Developing").check()
    submit(page, "Save and continue")

    expect(page.locator(".govuk-task-list")).to_contain_text("Completed")
    submit(page, "Submit assessment")
    expect(page.locator("main")).to_contain_text("sent to the council")
    assert_no_axe_violations(page, context="submitted assessment")
    assessment = membership.organisation.assessments.get()
    assert assessment.status == AssessmentStatus.SUBMITTED
    assert str(assessment.responses.get(statement__code="S1").action_by) == "2027-03-01"
