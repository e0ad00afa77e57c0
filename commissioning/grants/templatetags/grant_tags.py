from django import template

from commissioning.grants.selectors import projects_for_organisation

register = template.Library()


@register.simple_tag
def projects_for(organisation, projects=None):
    """Funded projects for a profile: ``{% projects_for organisation as projects %}``, or
    ``projects`` when the page has read them already (a list; a name the context does not
    hold arrives as "")."""
    if isinstance(projects, list):
        return projects
    return projects_for_organisation(organisation=organisation)


@register.filter
def get_item(mapping, key):
    """``answers|get_item:question.key``: a value from a dict in a template."""
    return mapping.get(key, "") if hasattr(mapping, "get") else ""
