from django.urls import path

from . import views

app_name = "search"

urlpatterns = [
    path("find/", views.search_results, name="results"),
    path("find/autocomplete", views.autocomplete, name="autocomplete"),
    path("providers/<slug:slug>/", views.provider_profile, name="profile"),
    path("shortlist/", views.shortlist, name="shortlist"),
    path("shortlist/change", views.shortlist_change, name="shortlist_change"),
    path("shortlist/shared/", views.shortlist_shared, name="shortlist_shared"),
    path("compare/", views.compare, name="compare"),
]
