"""Directory landing pages: editable introductions over live search results.

A page per category ("Home care in Barnet") or per area ("Care and support
in Finchley, N3") gives editors somewhere to explain the choices in plain
English, while the list underneath is always today's search results.
"""

from urllib.parse import urlencode

from django.db import models

from wagtail.admin.panels import FieldPanel, FieldRowPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail.search import index

from marketplace.providers.taxonomy import ServiceCategory

from .blocks import ContentStreamBlock

RESULTS_SHOWN = 10
LANDING_PARENTS = ["cms.HomePage", "cms.InformationIndexPage"]


def _district_choices():
    from marketplace.providers.geo import known_districts

    return [(district, district) for district in known_districts()]


class DirectoryLandingPage(Page):
    """What both landing pages share: an introduction, a body and live results."""

    intro = RichTextField(
        features=["bold", "italic", "link"], help_text="A sentence or two above the results."
    )
    body = StreamField(
        ContentStreamBlock(), blank=True, use_json_field=True, help_text="Shown under the results."
    )

    search_fields = [*Page.search_fields, index.SearchField("intro"), index.SearchField("body")]
    parent_page_types = LANDING_PARENTS
    subpage_types: list[str] = []

    class Meta:
        abstract = True

    def search_params(self) -> dict:
        raise NotImplementedError

    def get_context(self, request, *args, **kwargs):
        from search.selectors import search_services
        from search.shortlist import shortlist_ids

        context = super().get_context(request, *args, **kwargs)
        params = self.search_params()
        _, result = search_services(params=params)
        context["result"] = result
        context["items"] = result.items[:RESULTS_SHOWN]
        context["search_query"] = urlencode(params)
        context["shortlist"] = set(shortlist_ids(request.session))
        return context


class CategoryLandingPage(DirectoryLandingPage):
    """One type of support, for example home care, with the providers offering it."""

    category = models.CharField(max_length=32, choices=ServiceCategory.choices)

    content_panels = [
        *Page.content_panels,
        FieldPanel("category"),
        FieldPanel("intro"),
        FieldPanel("body"),
    ]
    template = "directory/category_landing_page.html"

    class Meta:
        verbose_name = "directory page for a type of support"

    def search_params(self) -> dict:
        return {"category": self.category, "sort": "rating"}


class AreaLandingPage(DirectoryLandingPage):
    """One part of the borough, by postcode district, with the services near it."""

    postcode_district = models.CharField(max_length=5, choices=_district_choices)
    place_name = models.CharField(
        max_length=80, help_text="What people call the area, for example Finchley."
    )
    distance_miles = models.PositiveSmallIntegerField(
        default=3, choices=[(1, "1 mile"), (3, "3 miles"), (5, "5 miles"), (10, "10 miles")]
    )

    content_panels = [
        *Page.content_panels,
        FieldRowPanel(
            [
                FieldPanel("postcode_district"),
                FieldPanel("place_name"),
                FieldPanel("distance_miles"),
            ]
        ),
        FieldPanel("intro"),
        FieldPanel("body"),
    ]
    template = "directory/area_landing_page.html"

    class Meta:
        verbose_name = "directory page for an area"

    def search_params(self) -> dict:
        return {
            "postcode": self.postcode_district,
            "distance": str(self.distance_miles),
            "sort": "distance",
        }
