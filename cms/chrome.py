"""The site settings every page's header and footer show, cached between requests.

Each page used to read the default Site and its SiteSettings row (two queries)
just to print the council's name and contact details, which change when an
editor saves the settings. The settings are kept in the default cache and
dropped whenever a SiteSettings or Site row is saved or deleted; with a cache
shared between processes (Redis) that is immediate everywhere, with the
per-process default other processes catch up within CHROME_CACHE_SECONDS.

Each process also keeps the copy it read for CHROME_LOCAL_SECONDS, so a busy web
process asks the shared cache about once a second instead of on every page (a
round trip and an unpickled row a page). The process that saves a change forgets
its copy at once; other processes show the change within that second.
"""

import time

from django.core.cache import cache
from django.core.signals import setting_changed
from django.db.models.signals import post_delete, post_save

CHROME_CACHE_SECONDS = 300
CHROME_LOCAL_SECONDS = 1.0
_KEY = "cms:chrome:site-settings"

# (settings, read at) of this process: replaced whole, so threads never see half of it.
_local: tuple = (None, 0.0)


def site_settings_for_chrome():
    """The default site's SiteSettings (created with its defaults if missing)."""
    global _local
    from wagtail.models import Site

    from .models import SiteSettings

    found, read_at = _local
    now = time.monotonic()
    if found is not None and now - read_at < CHROME_LOCAL_SECONDS:
        return found
    found = cache.get(_KEY)
    if found is None:
        found = SiteSettings.for_site(Site.objects.get(is_default_site=True))
        cache.set(_KEY, found, CHROME_CACHE_SECONDS)
    _local = (found, now)
    return found


def chrome_local_forget(**kwargs) -> None:
    """Forget this process's copy (the shared cache keeps its own)."""
    global _local
    _local = (None, 0.0)


def chrome_cache_clear(**kwargs) -> None:
    chrome_local_forget()
    cache.delete(_KEY)


setting_changed.connect(chrome_local_forget, dispatch_uid="cms-chrome-local-forget")


def connect() -> None:
    from wagtail.models import Site

    from .models import SiteSettings

    for model in (SiteSettings, Site):
        post_save.connect(chrome_cache_clear, sender=model, dispatch_uid=f"chrome-{model}-saved")
        post_delete.connect(
            chrome_cache_clear, sender=model, dispatch_uid=f"chrome-{model}-deleted"
        )
