from django.urls import path

from . import views

app_name = "reviews"

urlpatterns = [
    path("providers/<slug:slug>/reviews/", views.organisation_reviews, name="organisation"),
    path("providers/<slug:slug>/review/", views.review_write, name="write"),
    path("providers/<slug:slug>/review/sent/", views.review_sent, name="sent"),
    path("reviews/<int:pk>/report/", views.review_report_view, name="report"),
    path("reviews/moderate/", views.moderation_queue, name="moderate"),
    path("reviews/moderate/<int:pk>/", views.moderate_review, name="moderate-review"),
    path("reviews/moderate/<int:pk>/withhold/", views.withhold_review, name="withhold"),
    path("reviews/moderate/reports/<int:pk>/", views.resolve_report, name="resolve-report"),
    path("provider/reviews/", views.provider_reviews, name="provider"),
    path("provider/reviews/<int:pk>/reply/", views.provider_reply, name="provider-reply"),
    path("provider/reviews/<int:pk>/publish/", views.provider_publish_now, name="provider-publish"),
]
