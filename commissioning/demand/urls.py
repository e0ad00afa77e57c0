from django.urls import path

from . import views

app_name = "demand"

urlpatterns = [
    path("commissioning/", views.DashboardView.as_view(), name="dashboard"),
    path(
        "commissioning/export/<slug:slug>.<str:fmt>",
        views.ExportView.as_view(),
        name="export",
    ),
    path(
        "commissioning/market-position-statement/",
        views.MarketPositionStatementView.as_view(),
        name="statement",
    ),
    path(
        "commissioning/market-position-statement.pdf",
        views.MarketPositionStatementPdfView.as_view(),
        name="statement-pdf",
    ),
    path("api/commissioning/demand", views.demand_api, name="api"),
]
