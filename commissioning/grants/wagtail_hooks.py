"""Grant officers set up funds, rounds, criteria and the application form in Wagtail."""

from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from .models import ApplicationForm, Fund, Round


class FundViewSet(SnippetViewSet):
    model = Fund
    icon = "folder-open-inverse"
    menu_label = "Funds"
    list_display = ["name", "slug"]


class RoundViewSet(SnippetViewSet):
    model = Round
    icon = "date"
    menu_label = "Rounds"
    list_display = ["title", "fund", "opens_at", "closes_at"]
    list_filter = ["fund"]


class ApplicationFormViewSet(SnippetViewSet):
    model = ApplicationForm
    icon = "form"
    menu_label = "Application forms"
    list_display = ["name"]


class InnovationFundGroup(SnippetViewSetGroup):
    menu_label = "Innovation Fund"
    menu_icon = "folder-open-inverse"
    menu_order = 300
    items = (FundViewSet, RoundViewSet, ApplicationFormViewSet)


register_snippet(InnovationFundGroup)
