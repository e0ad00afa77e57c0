"""Every page's header and footer read the site settings from the cache, and show an
editor's change on the next page view."""

import pytest

from django.core.cache import cache

pytestmark = pytest.mark.django_db


def _settings():
    from wagtail.models import Site

    from cms.models import SiteSettings

    return SiteSettings.for_site(Site.objects.get(is_default_site=True))


def test_pages_read_the_settings_once_then_from_the_cache(client, django_assert_num_queries):
    cache.clear()
    client.get("/find/")  # fills the cache

    from cms.chrome import site_settings_for_chrome

    with django_assert_num_queries(0):
        cached = site_settings_for_chrome()

    assert cached.contact_phone == _settings().contact_phone


def test_a_saved_change_shows_on_the_next_page(client):
    cache.clear()
    first = client.get("/find/").content.decode()
    settings = _settings()
    assert settings.contact_phone in first

    settings.contact_phone = "020 7946 0123"
    settings.council_name = "Test Borough Council"
    settings.phase = ""
    settings.save()
    page = client.get("/find/").content.decode()

    assert "020 7946 0123" in page
    assert "Test Borough Council" in page
    assert "govuk-phase-banner" not in page


def test_deleting_the_settings_falls_back_to_the_defaults(client):
    cache.clear()
    settings = _settings()
    settings.contact_phone = "020 7946 0999"
    settings.save()
    assert "020 7946 0999" in client.get("/find/").content.decode()

    settings.delete()

    assert "020 7946 0999" not in client.get("/find/").content.decode()


def test_a_process_asks_the_shared_cache_about_once_a_second(client, monkeypatch):
    """Another process's change (the shared cache holds the new row) shows here once this
    process's own copy is a second old; until then pages ask the shared cache nothing."""
    from cms import chrome

    clock = [1000.0]
    monkeypatch.setattr(chrome.time, "monotonic", lambda: clock[0])
    reads = []
    get = chrome.cache.get
    monkeypatch.setattr(chrome.cache, "get", lambda key, *a: reads.append(key) or get(key, *a))
    first = client.get("/find/").content.decode()
    assert _settings().contact_phone in first

    changed = _settings()
    changed.contact_phone = "020 7946 0555"
    chrome.cache.set(chrome._KEY, changed, chrome.CHROME_CACHE_SECONDS)  # another process
    clock[0] += 0.9
    within = [client.get("/find/").content.decode() for _ in range(3)]
    clock[0] += 0.2
    after = client.get("/find/").content.decode()

    assert all("020 7946 0555" not in page for page in within)
    assert "020 7946 0555" in after
    assert reads.count(chrome._KEY) == 2, "the first page and the one after the second"
