"""The "Directory" menu in the Wagtail admin: organisations, services, claims, records to check."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.views.generic import TemplateView

from wagtail.admin.ui.tables import Column, DateColumn, TitleColumn
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.reports import ReportView
from wagtail.admin.viewsets.base import ViewSet
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from .models import Organisation, OrganisationClaim, Service
from .selectors import claims_pending, services_stale_for_editors
from .services import DirectoryError, organisation_claim_decide


def _can_moderate_directory(user) -> bool:
    return user.has_perm("providers.change_organisation") or user.has_perm(
        "providers.publish_service"
    )


class OrganisationViewSet(SnippetViewSet):
    model = Organisation
    icon = "group"
    menu_label = "Organisations"
    list_display = ["name", "sector", "status", "live", "updated_at"]
    list_filter = ["sector", "status", "live"]
    search_fields = ["name", "charity_number", "company_number", "cqc_provider_id"]
    search_backend_name = None
    ordering = ["name"]


class ServiceViewSet(SnippetViewSet):
    model = Service
    icon = "list-ul"
    menu_label = "Services"
    list_display = ["name", "organisation", "category", "status", "live", "last_confirmed_at"]
    list_filter = ["category", "status", "live", "cqc_rating", "accepts_prepayment_card"]
    search_fields = ["name", "organisation__name", "cqc_location_id"]
    search_backend_name = None
    ordering = ["name"]

    def get_queryset(self, request):
        return Service.objects.select_related("organisation")


class StaleRecordsReport(ReportView):
    """Services the public sees as possibly out of date: the provider has been asked to check them."""

    page_title = "Records to check"
    header_icon = "warning"
    index_url_name = "directory_stale:index"
    index_results_url_name = "directory_stale:results"
    export_headings = {
        "name": "Service",
        "organisation.name": "Organisation",
        "last_confirmed_at": "Last confirmed",
        "stale_flagged_at": "Provider asked on",
    }
    list_export = ["name", "organisation.name", "last_confirmed_at", "stale_flagged_at"]

    @property
    def columns(self):
        return [
            TitleColumn(
                "name",
                label="Service",
                get_url=lambda service: reverse(
                    "wagtailsnippets_providers_service:edit", args=[service.pk]
                ),
            ),
            Column("organisation", label="Organisation"),
            DateColumn("last_confirmed_at", label="Last confirmed"),
            DateColumn("stale_flagged_at", label="Provider asked on"),
        ]

    def dispatch(self, request, *args, **kwargs):
        if not _can_moderate_directory(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        return services_stale_for_editors()


class ClaimDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    reason = forms.CharField(max_length=300, required=False)


class ClaimsView(WagtailAdminTemplateMixin, TemplateView):
    """Requests from provider staff to manage an organisation already listed."""

    template_name = "providers/admin/claims.html"
    page_title = "Claim requests"
    header_icon = "user"

    def dispatch(self, request, *args, **kwargs):
        if not _can_moderate_directory(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["claims"] = claims_pending()
        return context

    def post(self, request, pk):
        claim = get_object_or_404(OrganisationClaim, pk=pk)
        form = ClaimDecisionForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose approve or reject.")
            return redirect("directory_claims:index")
        try:
            organisation_claim_decide(
                claim=claim,
                decided_by=request.user,
                approve=form.cleaned_data["decision"] == "approve",
                reason=form.cleaned_data["reason"],
            )
        except DirectoryError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request, f"Decision recorded for {claim.user} at {claim.organisation}."
            )
        return redirect("directory_claims:index")


class StaleRecordsViewSet(ViewSet):
    name = "directory_stale"
    icon = "warning"
    menu_label = "Records to check"

    def get_urlpatterns(self):
        return [
            path("", StaleRecordsReport.as_view(), name="index"),
            path("results/", StaleRecordsReport.as_view(results_only=True), name="results"),
        ]

    def get_menu_item(self, order=None):
        item = super().get_menu_item(order)
        item.is_shown = lambda request: _can_moderate_directory(request.user)
        return item


class ClaimsViewSet(ViewSet):
    name = "directory_claims"
    icon = "user"
    menu_label = "Claim requests"

    def get_urlpatterns(self):
        return [
            path("", ClaimsView.as_view(), name="index"),
            path("<int:pk>/decide/", ClaimsView.as_view(), name="decide"),
        ]

    def get_menu_item(self, order=None):
        item = super().get_menu_item(order)
        item.is_shown = lambda request: _can_moderate_directory(request.user)
        return item


class DirectoryGroup(SnippetViewSetGroup):
    menu_label = "Directory"
    menu_icon = "folder-open-inverse"
    menu_order = 150
    items = (OrganisationViewSet, ServiceViewSet, ClaimsViewSet, StaleRecordsViewSet)


register_snippet(DirectoryGroup)
