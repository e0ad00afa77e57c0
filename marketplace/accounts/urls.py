from django.contrib.auth import views as auth_views
from django.urls import path

from . import password_reset, views

app_name = "accounts"

urlpatterns = [
    path("account/", views.account_home, name="home"),
    path("account/sign-in/", views.SignInView.as_view(), name="login"),
    path("account/sign-out/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/create/", views.create_account, name="create"),
    path(
        "account/password-reset/",
        password_reset.ResetRequestView.as_view(),
        name="password-reset",
    ),
    path(
        "account/password-reset/sent/",
        password_reset.ResetDoneView.as_view(),
        name="password-reset-done",
    ),
    path(
        "account/password-reset/<uidb64>/<token>/",
        password_reset.ResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path(
        "account/password-reset/done/",
        password_reset.ResetCompleteView.as_view(),
        name="password-reset-complete",
    ),
    path("account/two-factor/setup/", views.two_factor_setup, name="two-factor-setup"),
    path("account/two-factor/verify/", views.two_factor_verify, name="two-factor-verify"),
    path("people/", views.people_list, name="people"),
    path("people/<int:pk>/", views.person_detail, name="person-detail"),
    path("people/<int:pk>/activity/", views.person_activity, name="person-activity"),
    path("people/<int:pk>/proxies/add/", views.delegation_add, name="delegation-add"),
    path(
        "people/<int:pk>/proxies/<int:delegation_pk>/end/",
        views.delegation_end,
        name="delegation-end",
    ),
]
