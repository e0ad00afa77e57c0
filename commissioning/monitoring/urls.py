from django.urls import path, register_converter

from . import views


class QuarterConverter:
    regex = r"[0-9]{4}-Q[1-4]"

    def to_python(self, value):
        year, quarter = value.split("-Q")
        return int(year), int(quarter)

    def to_url(self, value):
        year, quarter = value
        return f"{int(year):04d}-Q{int(quarter)}"


register_converter(QuarterConverter, "quarter")

app_name = "monitoring"


def _quarter_view(request, budget_id, period):
    year, quarter = period
    return views.quarter(request, budget_id=budget_id, year=year, quarter=quarter)


def _person_quarter_view(request, person_id, period):
    year, quarter = period
    return views.person_quarter(request, person_id=person_id, year=year, quarter=quarter)


urlpatterns = [
    path("monitoring/", views.cases, name="cases"),
    path("monitoring/cases/<int:pk>/", views.case_detail, name="case"),
    path("monitoring/cases/<int:pk>/notes/", views.case_note, name="case-note"),
    path("monitoring/cases/<int:pk>/ask/", views.case_request, name="case-request"),
    path("monitoring/cases/<int:pk>/recover/", views.case_clawback, name="case-clawback"),
    path("monitoring/cases/<int:pk>/close/", views.case_close, name="case-close"),
    path("monitoring/settings/", views.monitoring_settings, name="settings"),
    path("monitoring/matching/", views.matching, name="matching"),
    path("monitoring/matching/purchases/", views.matching_merchant, name="matching-merchant"),
    path(
        "monitoring/budgets/<int:budget_id>/quarters/<quarter:period>/",
        _quarter_view,
        name="quarter",
    ),
    path(
        "monitoring/people/<int:person_id>/quarters/<quarter:period>/",
        _person_quarter_view,
        name="person-quarter",
    ),
    path("budgets/<int:person_id>/questions/", views.questions, name="questions"),
]
