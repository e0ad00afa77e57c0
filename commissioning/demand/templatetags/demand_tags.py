from django import template

from commissioning.demand.reports import format_value

register = template.Library()


@register.simple_tag
def cell(row: dict, column) -> str:
    """A table cell's text: '£1,240', '15', '[c]' for a withheld figure, '+4.5%'."""
    return format_value(row.get(column.key), column.kind)


@register.filter
def change(value) -> str:
    if value is None:
        return "no earlier figure"
    if value == 0:
        return "no change"
    return f"{'up' if value > 0 else 'down'} {abs(value):.1f}%"
