from django import template

from commissioning.assessments.selectors import assessment_status_for_organisation

register = template.Library()


@register.simple_tag
def assessment_status_for(organisation):
    """Profile assessment status: ``{% assessment_status_for organisation as pia %}``."""
    return assessment_status_for_organisation(organisation=organisation)


@register.filter
def rating_label(value):
    from commissioning.assessments.models import Rating

    try:
        return Rating(int(value)).label
    except (TypeError, ValueError):
        return "Not rated"
