"""The page chrome rendered once per process (config/chrome.py) is the same HTML the
templates render without it, for every visitor, and never carries one visitor's
details to another."""

import re
from pathlib import Path

import pytest

from django.conf import settings
from django.template import Context, Engine, TemplateSyntaxError
from django.test import Client, override_settings

from config import chrome
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TEMPLATES_DIR = Path(settings.BASE_DIR) / "templates"
CHROME_TEMPLATES = ("base.html", "includes/header.html", "includes/footer.html")


def _without_fragments(text: str) -> str:
    """The template as it was before the chrome tags: every fragment rendered each time."""
    text = re.sub(r"\{% chrome_fragment [^%]*%\}|\{% endchrome_fragment %\}", "", text)
    text = text.replace("{% chrome_url ", "{% url ")
    return text.replace("{% load chrome %}", "").replace(
        " site_chrome chrome %}", " site_chrome %}"
    )


def _plain_templates():
    """TEMPLATES with base, header and footer served without the fragment tags."""
    sources = {
        name: _without_fragments((TEMPLATES_DIR / name).read_text()) for name in CHROME_TEMPLATES
    }
    for name, source in sources.items():
        assert "chrome_fragment" not in source and "chrome_url" not in source, name
    options = dict(settings.TEMPLATES[0]["OPTIONS"])
    options["loaders"] = [
        ("django.template.loaders.locmem.Loader", sources),
        "django.template.loaders.filesystem.Loader",
        "django.template.loaders.app_directories.Loader",
    ]
    return [{**settings.TEMPLATES[0], "APP_DIRS": False, "OPTIONS": options}]


def _normalised(response) -> str:
    text = response.content.decode()
    text = re.sub(r'nonce="[^"]+"', 'nonce="N"', text)
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'value="T"', text)


def _site_settings():
    from wagtail.models import Site

    from cms.models import SiteSettings

    return SiteSettings.for_site(Site.objects.get(is_default_site=True))


PAGES = ["/find/", "/find/?q=home+care", "/account/sign-in/", "/account/create/", "/no-such-page/"]


@pytest.mark.parametrize("signed_in", [False, True], ids=["signed-out", "signed-in"])
@pytest.mark.parametrize("phase", ["beta", ""], ids=["phase-banner", "no-banner"])
def test_pages_are_byte_identical_to_the_templates_without_fragments(signed_in, phase):
    site_settings = _site_settings()
    site_settings.phase = phase
    site_settings.council_name = "Barnet & <District> Council"
    site_settings.contact_hours = "9:00am to 5:00pm"
    site_settings.save()
    client = Client()
    if signed_in:
        client.force_login(UserFactory(email="o'neil+care@example.org"))

    chrome.forget()
    cached = {page: [_normalised(client.get(page)) for _ in range(2)] for page in PAGES}
    assert chrome._rendered, "the fragments were not kept"
    with override_settings(TEMPLATES=_plain_templates()):
        plain = {page: _normalised(client.get(page)) for page in PAGES}

    for page in PAGES:
        first, second = cached[page]
        assert first == plain[page], page
        assert second == plain[page], page
    # (a signed-in visitor is sent on from the sign-in and create-account pages)
    for page in PAGES if not signed_in else ["/find/", "/find/?q=home+care", "/no-such-page/"]:
        first = cached[page][0]
        assert "Barnet &amp; &lt;District&gt; Council" in first, page
        assert ("govuk-phase-banner" in first) == bool(phase), page
        assert ("Sign out" in first) == signed_in, page
        assert ("o&#x27;neil+care@example.org" in first) == signed_in, page


def test_each_visitor_sees_their_own_account_link_and_token():
    first, second = UserFactory(), UserFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(first)
    assert first.email in client.get("/find/").content.decode()

    client.force_login(second)
    page = client.get("/find/").content.decode()
    assert second.email in page
    assert first.email not in page
    token = re.search(
        r'action="/account/sign-out/"[^>]*><input type="hidden" name="csrfmiddlewaretoken" '
        r'value="([^"]+)"',
        page,
    ).group(1)
    # The token in the cached header's sign-out form is this visitor's, fresh per page.
    assert client.post("/account/sign-out/", {"csrfmiddlewaretoken": token}).status_code == 302
    assert "Sign in" in Client().get("/find/").content.decode()
    assert "_auth_user_id" not in client.session


def test_a_changed_setting_is_a_new_fragment_not_a_stale_one(client):
    chrome.forget()
    site_settings = _site_settings()
    site_settings.contact_phone = "020 7946 0001"
    site_settings.save()
    assert "020 7946 0001" in client.get("/find/").content.decode()

    site_settings.contact_phone = "020 7946 0002"
    site_settings.save()
    page = client.get("/find/").content.decode()

    assert "020 7946 0002" in page
    assert "020 7946 0001" not in page


def test_a_fragment_is_rendered_once_for_the_same_values():
    engine = Engine(libraries={"chrome": "config.chrome"})
    template = engine.from_string(
        '{% load chrome %}{% chrome_fragment "test" name %}{{ name }} {{ counter.next }}'
        "{% endchrome_fragment %}"
    )

    class Counter:
        calls = 0

        def next(self):
            self.calls += 1
            return self.calls

    chrome.forget()
    counter = Counter()
    assert template.render(Context({"name": "a", "counter": counter})) == "a 1"
    assert template.render(Context({"name": "a", "counter": counter})) == "a 1"
    assert template.render(Context({"name": "b", "counter": counter})) == "b 2"
    assert counter.calls == 2


def test_a_changed_setting_forgets_every_fragment():
    chrome._rendered["x"] = "y"
    with override_settings(SITE_NAME="Other name"):
        assert chrome._rendered == {}


def test_the_store_is_capped():
    chrome.forget()
    for number in range(chrome._LIMIT + 10):
        chrome._remember(number, "html")
    assert len(chrome._rendered) <= chrome._LIMIT


@pytest.mark.parametrize(
    "source",
    [
        "{% load chrome %}{% chrome_fragment %}x{% endchrome_fragment %}",
        "{% load chrome %}{% chrome_fragment name %}x{% endchrome_fragment %}",
    ],
)
def test_a_fragment_needs_a_quoted_name(source):
    engine = Engine(libraries={"chrome": "config.chrome"})
    with pytest.raises(TemplateSyntaxError, match="quoted fragment name"):
        engine.from_string(source)


def test_a_url_reversed_once_follows_the_script_prefix_in_force():
    from django.test import RequestFactory
    from django.urls import reverse, set_script_prefix

    chrome.forget()
    try:
        first = chrome.reversed_once("search:results", RequestFactory().get("/"))
        assert first == reverse("search:results")
        set_script_prefix("/council/")
        prefixed = chrome.reversed_once("search:results", RequestFactory().get("/"))
        assert prefixed == reverse("search:results") == "/council" + first
    finally:
        set_script_prefix("/")
    # A request that already read its prefix keeps it for every URL it asks for.
    request = RequestFactory().get("/")
    assert chrome.reversed_once("search:results", request) == first
    assert request._chrome_urls[1] == "/"
