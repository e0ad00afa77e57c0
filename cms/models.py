from django.db import models
from django.utils.text import slugify

from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail.search import index

from .blocks import ContentStreamBlock, GlossaryTermBlock
from .directory_pages import AreaLandingPage, CategoryLandingPage  # noqa: F401 - Wagtail page models


class HomePage(Page):
    """The front door: search, and routes for each kind of visitor."""

    intro = models.CharField(max_length=300, help_text="One sentence under the page title.")
    body = StreamField(ContentStreamBlock(), blank=True, use_json_field=True)

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("body")]
    parent_page_types = ["wagtailcore.Page"]
    subpage_types = [
        "cms.InformationIndexPage",
        "cms.GlossaryPage",
        "cms.InformationPage",
        "cms.CategoryLandingPage",
        "cms.AreaLandingPage",
    ]
    max_count = 1

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["guides"] = (
            InformationPage.objects.live().public().descendant_of(self).order_by("title")[:6]
        )
        return context


class InformationIndexPage(Page):
    """A section of information and advice pages."""

    intro = RichTextField(features=["bold", "link"], blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    parent_page_types = ["cms.HomePage", "cms.InformationIndexPage"]
    subpage_types = [
        "cms.InformationPage",
        "cms.InformationIndexPage",
        "cms.GlossaryPage",
        "cms.CategoryLandingPage",
        "cms.AreaLandingPage",
    ]

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["children"] = self.get_children().live().public().specific()
        return context


class InformationPage(Page):
    """Information and advice, written for people new to personal budgets."""

    summary = models.CharField(max_length=300, help_text="Shown in lists and search results.")
    body = StreamField(ContentStreamBlock(), use_json_field=True)
    last_reviewed = models.DateField(null=True, blank=True)

    content_panels = [
        *Page.content_panels,
        FieldPanel("summary"),
        FieldPanel("body"),
        FieldPanel("last_reviewed"),
    ]
    search_fields = [
        *Page.search_fields,
        index.SearchField("summary"),
        index.SearchField("body"),
    ]
    parent_page_types = ["cms.HomePage", "cms.InformationIndexPage"]
    subpage_types: list[str] = []


class GlossaryPage(Page):
    """Social care words explained in plain English."""

    intro = RichTextField(features=["bold", "link"], blank=True)
    terms = StreamField([("term", GlossaryTermBlock())], use_json_field=True)

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("terms")]
    search_fields = [*Page.search_fields, index.SearchField("terms")]
    parent_page_types = ["cms.HomePage", "cms.InformationIndexPage"]
    subpage_types: list[str] = []
    max_count = 1

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        terms = sorted(
            (block.value for block in self.terms), key=lambda value: value["term"].lower()
        )
        letters: dict[str, list] = {}
        for value in terms:
            letters.setdefault(value["term"][0].upper(), []).append(
                {**value, "anchor": slugify(value["term"])}
            )
        context["letters"] = letters
        return context


@register_setting(icon="site")
class SiteSettings(BaseSiteSetting):
    """What every page shows: the council's name, contact details and the phase banner."""

    council_name = models.CharField(max_length=150, default="London Borough of Barnet")
    phase = models.CharField(
        max_length=10,
        choices=[("alpha", "Alpha"), ("beta", "Beta"), ("", "Live")],
        default="beta",
        blank=True,
    )
    feedback_email = models.EmailField(default="feedback@example.org")
    contact_phone = models.CharField(max_length=40, default="020 8359 5000")
    contact_email = models.EmailField(default="adult.socialcare@example.org")
    contact_hours = models.CharField(max_length=100, default="Monday to Friday, 9am to 5pm")

    panels = [
        FieldPanel("council_name"),
        FieldPanel("phase"),
        MultiFieldPanel(
            [
                FieldPanel("feedback_email"),
                FieldPanel("contact_phone"),
                FieldPanel("contact_email"),
                FieldPanel("contact_hours"),
            ],
            heading="Contact details",
        ),
    ]

    class Meta:
        verbose_name = "Site settings"
