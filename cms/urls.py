from django.urls import path

from . import views

app_name = "cms"

urlpatterns = [
    path("cookies/", views.CookiesView.as_view(), name="cookies"),
    path("accessibility/", views.AccessibilityStatementView.as_view(), name="accessibility"),
    path("privacy/", views.PrivacyNoticeView.as_view(), name="privacy"),
    path("signed-out/", views.SignedOutView.as_view(), name="signed-out"),
]
