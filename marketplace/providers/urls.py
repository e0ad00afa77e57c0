from django.urls import include, path

from . import views

app_name = "providers"

urlpatterns = [
    path("provider/", views.portal, name="portal"),
    path("provider/organisations/new/", views.organisation_new, name="organisation_new"),
    path("provider/claim/", views.claim_search, name="claim_search"),
    path("provider/claim/<int:pk>/", views.claim_new, name="claim_new"),
    path("provider/organisations/<int:pk>/", views.organisation_detail, name="portal_organisation"),
    path(
        "provider/organisations/<int:pk>/edit/", views.organisation_edit, name="organisation_edit"
    ),
    path("provider/organisations/<int:pk>/services/new/", views.service_new, name="service_new"),
    path(
        "provider/organisations/<int:pk>/services/<int:service_pk>/edit/",
        views.service_edit,
        name="service_edit",
    ),
    path(
        "provider/organisations/<int:pk>/services/<int:service_pk>/vacancies/",
        views.service_vacancies,
        name="service_vacancies",
    ),
    path(
        "provider/organisations/<int:pk>/services/<int:service_pk>/confirm/",
        views.service_confirm_view,
        name="service_confirm",
    ),
    path("provider/organisations/<int:pk>/team/", views.team, name="team"),
    path(
        "provider/organisations/<int:pk>/team/<int:membership_pk>/remove/",
        views.member_remove,
        name="member_remove",
    ),
    path(
        "provider/organisations/<int:pk>/invitations/<int:invitation_pk>/cancel/",
        views.invitation_cancel_view,
        name="invitation_cancel",
    ),
    path(
        "provider/invitations/<str:token>/", views.invitation_accept_view, name="invitation_accept"
    ),
    path("api/oruk/", include("marketplace.providers.oruk.urls")),
]
