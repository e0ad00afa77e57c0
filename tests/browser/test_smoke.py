"""The front door in a real browser: home page and sign-in, with and without JavaScript."""

import re

import pytest
from playwright.sync_api import expect

from cms.content import load_starter_content
from marketplace.accounts.roles import Role
from tests.browser.conftest import assert_no_axe_violations, sign_in_through_the_page, submit
from tests.factories import PASSWORD, user_with_role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site():
    return load_starter_content()


def test_home_page_is_accessible_and_styled(browser_page, site):
    page = browser_page
    page.goto("/")
    expect(page).to_have_title(
        re.compile("^" + re.escape("Find care and support that works for you"))
    )
    expect(page.locator("h1")).to_have_text("Find care and support that works for you")
    # GOV.UK Frontend's styles and its JavaScript both loaded.
    font = page.evaluate("getComputedStyle(document.querySelector('h1')).fontFamily")
    assert "arial" in font.lower()
    expect(page.locator("body")).to_have_class(re.compile("govuk-frontend-supported"))
    assert_no_axe_violations(page, context="home page")


def test_skip_link_is_the_first_thing_a_keyboard_reaches(browser_page, site):
    page = browser_page
    page.goto("/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to main content"


def test_sign_in_and_out_in_the_browser(browser_page, site):
    user = user_with_role(Role.BUDGET_HOLDER)
    page = browser_page
    page.goto("/account/sign-in/")
    assert_no_axe_violations(page, context="sign-in page")
    submit(page, "Sign in")
    # The error summary lists what is wrong, and is itself accessible.
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_no_axe_violations(page, context="sign-in page with errors")
    sign_in_through_the_page(page, user, PASSWORD)
    expect(page.locator("h1")).to_have_text("Your account")
    assert_no_axe_violations(page, context="account page")
    submit(page, "Sign out")
    expect(page.locator("h1")).to_have_text("You have signed out")


def test_staff_sign_in_asks_for_a_security_code(browser_page, site):
    user = user_with_role(Role.COMMISSIONER)
    page = browser_page
    sign_in_through_the_page(page, user, PASSWORD)
    expect(page.locator("h1")).to_have_text("Your account")


def test_pages_work_without_javascript(no_js_page, site):
    user = user_with_role(Role.BUDGET_HOLDER)
    page = no_js_page
    page.goto("/advice/glossary/")
    expect(page.locator("h1")).to_have_text(re.compile("^Glossary"), use_inner_text=True)
    expect(page.get_by_text("Direct payment", exact=True).first).to_be_attached()
    sign_in_through_the_page(page, user, PASSWORD)
    expect(page.locator("h1")).to_have_text("Your account")
