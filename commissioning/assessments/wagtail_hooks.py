"""The council edits the assessment framework in Wagtail: drafts freely, published
versions frozen once used (see FrameworkVersion)."""

from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from .models import Framework, FrameworkVersion


class FrameworkViewSet(SnippetViewSet):
    model = Framework
    icon = "list-ul"
    menu_label = "Frameworks"
    list_display = ["name", "slug"]


class FrameworkVersionViewSet(SnippetViewSet):
    model = FrameworkVersion
    icon = "doc-full"
    menu_label = "Versions and statements"
    list_display = ["framework", "number", "status", "published_at"]
    list_filter = ["status", "framework"]


class AssessmentGroup(SnippetViewSetGroup):
    menu_label = "Impact assessment"
    menu_icon = "tasks"
    menu_order = 310
    items = (FrameworkViewSet, FrameworkVersionViewSet)


register_snippet(AssessmentGroup)
