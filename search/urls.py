from django.urls import path

from . import suggest, views

app_name = "search"

urlpatterns = [
    path("find/", views.search_results, name="results"),
    path("find/suggest", suggest.suggest, name="suggest"),
    path("find/autocomplete", suggest.suggest, name="autocomplete"),
    path("providers/<slug:slug>/", views.provider_profile, name="profile"),
    path("shortlist/", views.shortlist, name="shortlist"),
    path("shortlist/change", views.shortlist_change, name="shortlist_change"),
    path("shortlist/shared/", views.shortlist_shared, name="shortlist_shared"),
    path("compare/", views.compare, name="compare"),
]
