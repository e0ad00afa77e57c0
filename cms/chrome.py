"""The site settings every page's header and footer show, cached between requests.

Each page used to read the default Site and its SiteSettings row (two queries)
just to print the council's name and contact details, which change when an
editor saves the settings. The settings are kept in the default cache and
dropped whenever a SiteSettings or Site row is saved or deleted; with a cache
shared between processes (Redis) that is immediate everywhere, with the
per-process default other processes catch up within CHROME_CACHE_SECONDS.
"""

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save

CHROME_CACHE_SECONDS = 300
_KEY = "cms:chrome:site-settings"


def site_settings_for_chrome():
    """The default site's SiteSettings (created with its defaults if missing)."""
    from wagtail.models import Site

    from .models import SiteSettings

    found = cache.get(_KEY)
    if found is None:
        found = SiteSettings.for_site(Site.objects.get(is_default_site=True))
        cache.set(_KEY, found, CHROME_CACHE_SECONDS)
    return found


def chrome_cache_clear(**kwargs) -> None:
    cache.delete(_KEY)


def connect() -> None:
    from wagtail.models import Site

    from .models import SiteSettings

    for model in (SiteSettings, Site):
        post_save.connect(chrome_cache_clear, sender=model, dispatch_uid=f"chrome-{model}-saved")
        post_delete.connect(
            chrome_cache_clear, sender=model, dispatch_uid=f"chrome-{model}-deleted"
        )
