"""Real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, with axe-core.

Browser tests fail, never skip, when Chromium or axe-core is missing: `make test`
installs both.

``click()`` returns once the click is dispatched, before the page it leads to has
arrived, and ``inner_text()``, ``content()``, ``is_visible()`` and ``count()`` read
whatever page is there at that moment. So a click that navigates goes through
``submit`` or ``follow`` (which return once the new page has loaded), and checks are
Playwright's web-first ``expect(...)`` assertions, which retry until they hold.
"""

import json
import os
from pathlib import Path

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

# Playwright's sync API runs an event loop in the test thread; the test's own
# ORM calls are still synchronous, so Django's async guard does not apply.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("SCC_CHROMIUM", "/usr/bin/chromium")
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 15_000
# expect() retries for as long as an action waits (its own default is 5 s), so a
# loaded machine slows the tests down instead of failing them.
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: run `make test`.", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium, live_server):
    """A fresh browser tab with its own cookies; ``page.base_url`` is the live server."""
    context = chromium.new_context(base_url=live_server.url, java_script_enabled=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    yield page
    context.close()


@pytest.fixture
def no_js_page(chromium, live_server):
    """A tab with JavaScript turned off: every page must work without it."""
    context = chromium.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    yield page
    context.close()


def assert_no_axe_violations(page, *, context: str = "") -> None:
    """Run axe-core (WCAG 2.x A and AA rules) on the current page; fail listing any violation."""
    if not AXE.exists():
        pytest.fail(f"axe-core is missing at {AXE}: run `make setup`.", pytrace=False)
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, so the page's own
        # Content-Security-Policy stays in force for everything else.
        page.evaluate(AXE.read_text() + "\n;void 0")
    result = page.evaluate(
        """async () => await axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}
        })"""
    )
    violations = [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "nodes": [node["target"] for node in violation["nodes"]][:5],
        }
        for violation in result["violations"]
    ]
    assert not violations, f"axe-core found problems on {context or page.url}:\n" + json.dumps(
        violations, indent=2
    )


def click_through(locator) -> None:
    """Click ``locator`` and return once the page it leads to has loaded (after any redirect)."""
    with locator.page.expect_navigation():
        locator.click()


def submit(page, button_name: str, **options) -> None:
    """Press the button named ``button_name`` and wait for the page its form leads to."""
    click_through(page.get_by_role("button", name=button_name, **options))


def follow(page, link_name: str, **options) -> None:
    """Follow the link named ``link_name`` and wait for the page it leads to."""
    click_through(page.get_by_role("link", name=link_name, **options))


def sign_in_through_the_page(page, user, password) -> None:
    """Sign in as a person would, typing the security code when the role needs one."""
    page.goto("/account/sign-in/")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(password)
    # Waiting for the next page matters: before it arrives page.url is still the sign-in page.
    submit(page, "Sign in")
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None and "/two-factor/" in page.url:
        page.get_by_label("Security code").fill(f"{totp(device.bin_key):06d}")
        submit(page, "Continue")
