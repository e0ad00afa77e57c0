"""Template helpers for GOV.UK Frontend markup."""

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


@register.simple_tag(takes_context=True)
def query_transform(context, **changes):
    """The current query string with some parameters changed: for pagination and sort links."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"
