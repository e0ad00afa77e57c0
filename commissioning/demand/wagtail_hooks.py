"""Commissioning reference data and Market Position Statement commentary, edited in Wagtail."""

from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from .models import BlockContract, FairCostRate, MarketPositionCommentary


class MarketPositionCommentaryViewSet(SnippetViewSet):
    model = MarketPositionCommentary
    icon = "doc-full"
    menu_label = "Statement commentary"
    list_display = ["section", "updated_at"]


class FairCostRateViewSet(SnippetViewSet):
    model = FairCostRate
    icon = "tag"
    menu_label = "Fair cost rates"
    list_display = ["category", "unit", "rate_pence", "valid_from"]
    list_filter = ["category"]


class BlockContractViewSet(SnippetViewSet):
    model = BlockContract
    icon = "list-ul"
    menu_label = "Block contracts"
    list_display = ["organisation", "category", "annual_value_pence", "starts_on", "ends_on"]


class CommissioningGroup(SnippetViewSetGroup):
    items = (MarketPositionCommentaryViewSet, FairCostRateViewSet, BlockContractViewSet)
    menu_icon = "table"
    menu_label = "Commissioning"
    menu_name = "commissioning"


register_snippet(CommissioningGroup)
