"""Template helpers for GOV.UK Frontend markup."""

from urllib.parse import urlencode

from django import template

from cms.formatting import format_pence

register = template.Library()

_CLASSES = {
    "textarea": "govuk-textarea",
    "select": "govuk-select",
    "selectmultiple": "govuk-select",
    "clearablefile": "govuk-file-upload",
    "file": "govuk-file-upload",
}


@register.simple_tag
def govuk_widget(field):
    """Render a text-like widget with GOV.UK classes and the hint and error wired up."""
    base = _CLASSES.get(field.widget_type, "govuk-input")
    classes = [base, field.field.widget.attrs.get("class", "")]
    if field.errors:
        classes.append(f"{base}--error")
    described_by = []
    if field.help_text:
        described_by.append(f"{field.auto_id}-hint")
    if field.errors:
        described_by.append(f"{field.auto_id}-error")
    attrs = {"class": " ".join(c for c in classes if c)}
    if described_by:
        attrs["aria-describedby"] = " ".join(described_by)
    return field.as_widget(attrs=attrs)


@register.filter
def pence(value):
    """Format integer pence as pounds: 2150 -> £21.50, -500 -> -£5.00."""
    if value is None or value == "":
        return ""
    return format_pence(int(value))


@register.filter
def stars(value, out_of=5):
    """A text description of a rating for screen readers: '4.2 out of 5 stars'."""
    if value is None:
        return "Not yet rated"
    return f"{float(value):.1f} out of {out_of} stars"


def query_link_maker(query, key: str):
    """``link(value)``: ``?`` and the query string ``query`` (a QueryDict) with ``key`` set to
    ``value``, or dropped when ``value`` is None or "". Written as ``QueryDict.urlencode``
    writes it (the parameters in order, ``key`` where it was or else last), with the other
    parameters encoded once, so a page that needs many links (pagination) pays for one."""
    before, after, found = [], [], False
    for name, values in query.lists():
        if name == key:
            found = True
            continue
        encoded = [urlencode({name: value}) for value in values]
        (after if found else before).extend(encoded)

    def link(value) -> str:
        own = [] if value in (None, "") else [urlencode({key: value})]
        return "?" + "&".join(before + own + after)

    return link


@register.simple_tag(takes_context=True)
def query_transform(context, **changes):
    """The current query string with some parameters changed: for pagination and sort links."""
    query = context["request"].GET
    if not changes:
        encoded = query.urlencode()
        return f"?{encoded}" if encoded else "?"
    *others, (key, value) = changes.items()
    if others:
        query = query.copy()
        for name, other in others:
            if other in (None, ""):
                query.pop(name, None)
            else:
                query[name] = other
    return query_link_maker(query, key)(value)
