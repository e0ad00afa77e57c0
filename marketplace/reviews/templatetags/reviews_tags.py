"""Template helpers so any page can show a provider's reviews with just the organisation."""

from django import template

from marketplace.reviews.selectors import ProfileReviews, reviews_for_profile

register = template.Library()


@register.simple_tag(takes_context=True)
def profile_reviews_context(context, organisation) -> ProfileReviews:
    """The reviews section's data: reuses ``reviews`` from the view if it gave one, otherwise
    reads ``?reviews_page=`` and the signed-in user from the request."""
    given = context.get("reviews")
    if isinstance(given, ProfileReviews) and given.organisation.pk == organisation.pk:
        return given
    request = context.get("request")
    return reviews_for_profile(
        organisation=organisation,
        page=request.GET.get("reviews_page") if request else 1,
        user=getattr(request, "user", None),
    )


@register.filter
def star_text(value) -> str:
    """'★★★★☆' for a whole number of stars; decoration only (the text says the number)."""
    value = int(value or 0)
    return "★" * value + "☆" * (5 - value)
