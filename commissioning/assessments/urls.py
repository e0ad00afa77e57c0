from django.urls import path

from . import views

app_name = "assessments"

urlpatterns = [
    path("assessments/", views.home, name="home"),
    path("assessments/start/", views.start, name="start"),
    path("assessments/<int:pk>/", views.detail, name="detail"),
    path("assessments/<int:pk>/submit/", views.submit, name="submit"),
    path("assessments/<int:pk>/<slug:slug>/", views.section, name="section"),
    path("assessments/<int:pk>/<slug:slug>/evidence/", views.evidence_add, name="evidence-add"),
    path(
        "assessments/evidence/<int:pk>/download/", views.evidence_download, name="evidence-download"
    ),
    path("assessments/evidence/<int:pk>/remove/", views.evidence_remove, name="evidence-remove"),
    path("assessments/review/", views.review_queue, name="review-queue"),
    path("assessments/review/<int:pk>/", views.review, name="review"),
]
