"""Template tags for the page chrome every page repeats (``{% load chrome %}``).

``{% chrome_fragment "name" value ... %}...{% endchrome_fragment %}`` renders its
contents once per process for each combination of the values named, and reuses that
HTML afterwards. The header and footer cost ~0.5 ms of template rendering on every
page; rendered once, the same bytes cost a dictionary lookup. The rule that keeps this
exact: **a fragment may depend only on the values it names**, on settings, and on URL
reversing and static file URLs (which are fixed for a process). Anything about the
visitor or the request (signed-in state, e-mail, CSRF token, nonce, messages, the
page's own blocks) stays outside every fragment, so it is rendered per request as
before. The values (strings) are part of the key, so a changed SiteSettings row
shows up the moment the page reads the new row, with no invalidation of its own.

``{% chrome_url "app:name" %}`` is ``{% url "app:name" %}`` for a URL without
arguments, reversed once per process (``reversed_once``, which views use too).

Keys also carry the URL configuration and script prefix in force, and everything is
forgotten when a test changes a setting.
"""

from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language

register = template.Library()

# Fragments and URLs rendered by this process. A few dozen entries at most in
# practice (SiteSettings change rarely); the cap only guards against a value that
# changes on every request being named by mistake.
_rendered: dict = {}
_LIMIT = 512


def _remember(key, value):
    if len(_rendered) >= _LIMIT:
        _rendered.clear()
    _rendered[key] = value
    return value


def _request_key(request):
    """What else a fragment's HTML or a URL depends on: the language, and the URL
    configuration and script prefix (set once per request by the handler and middleware,
    so read once per request: three thread-local reads cost ~9 us)."""
    urls = getattr(request, "_chrome_urls", None)
    if urls is None:
        urls = (get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())
        if request is not None:
            request._chrome_urls = urls
    return (urls, get_language())


def _context_key(context):
    return _request_key(context.get("request"))


def forget(**kwargs) -> None:
    _rendered.clear()


setting_changed.connect(forget, dispatch_uid="config-chrome-forget")


class ChromeFragmentNode(template.Node):
    def __init__(self, name: str, vary_on: list, nodelist):
        self.name = name
        self.vary_on = vary_on
        self.nodelist = nodelist

    def render(self, context):
        key = (
            "fragment",
            self.name,
            tuple(value.resolve(context) for value in self.vary_on),
            _context_key(context),
        )
        found = _rendered.get(key)
        if found is None:
            found = _remember(key, self.nodelist.render(context))
        return found


@register.tag
def chrome_fragment(parser, token):
    bits = token.split_contents()
    if len(bits) < 2 or bits[1][0] not in "\"'" or bits[1][0] != bits[1][-1]:
        raise template.TemplateSyntaxError(
            f"'{bits[0]}' needs a quoted fragment name, then the values it depends on."
        )
    nodelist = parser.parse(("endchrome_fragment",))
    parser.delete_first_token()
    return ChromeFragmentNode(
        bits[1][1:-1], [parser.compile_filter(bit) for bit in bits[2:]], nodelist
    )


def reversed_once(name: str, request=None) -> str:
    """``reverse(name)`` for a URL without arguments, reversed once per process (for each
    URL configuration, script prefix and language in force), for templates' chrome and
    for views that write the same links on every page."""
    key = ("url", name, _request_key(request))
    found = _rendered.get(key)
    if found is None:
        found = _remember(key, reverse(name))
    return found


@register.simple_tag(takes_context=True)
def chrome_url(context, name: str) -> str:
    return reversed_once(name, context.get("request"))
