"""``{% get_chrome_settings %}``: Wagtail's ``{% get_settings use_default_site=True %}``
with the SiteSettings every page shows read from the cache (cms.chrome)."""

from django import template

register = template.Library()


class _ChromeSettings(dict):
    """``settings.cms.SiteSettings`` from the cache; any other setting through Wagtail."""

    def __missing__(self, app_label):
        from wagtail.contrib.settings.context_processors import SettingProxy
        from wagtail.models import Site

        proxy = SettingProxy(request_or_site=Site.objects.get(is_default_site=True))
        return proxy[app_label]


class _CmsSettings(dict):
    def __init__(self, site_settings):
        super().__init__(SiteSettings=site_settings)

    def __missing__(self, model_name):
        from wagtail.contrib.settings.context_processors import SettingProxy
        from wagtail.models import Site

        return SettingProxy(request_or_site=Site.objects.get(is_default_site=True))["cms"][
            model_name
        ]


@register.simple_tag(takes_context=True)
def get_chrome_settings(context):
    from cms.chrome import site_settings_for_chrome

    context["settings"] = _ChromeSettings(cms=_CmsSettings(site_settings_for_chrome()))
    return ""
