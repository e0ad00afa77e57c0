from django.urls import path

from . import views

app_name = "grants"

urlpatterns = [
    path("grants/", views.home, name="home"),
    path("grants/rounds/<slug:slug>/apply/", views.application_start, name="application-start"),
    path("grants/applications/<int:pk>/", views.application_detail, name="application-detail"),
    path("grants/applications/<int:pk>/edit/", views.application_edit, name="application-edit"),
    path(
        "grants/applications/<int:pk>/submit/",
        views.application_submit,
        name="application-submit",
    ),
    path(
        "grants/applications/<int:pk>/attachments/",
        views.attachment_add,
        name="attachment-add",
    ),
    path("grants/attachments/<int:pk>/remove/", views.attachment_remove, name="attachment-remove"),
    path(
        "grants/attachments/<int:pk>/download/",
        views.attachment_download,
        name="attachment-download",
    ),
    path("grants/awards/<int:pk>/", views.award_detail, name="award-detail"),
    path("grants/reports/<int:pk>/", views.report_edit, name="report-edit"),
    path("grants/reviews/", views.review_list, name="review-list"),
    path("grants/reviews/<int:pk>/", views.review, name="review"),
    path("grants/manage/", views.dashboard, name="dashboard"),
    path("grants/manage/overdue/", views.overdue, name="overdue"),
    path("grants/manage/rounds/<slug:slug>/", views.round_detail, name="manage-round"),
    path(
        "grants/manage/applications/<int:pk>/",
        views.manage_application,
        name="manage-application",
    ),
    path("grants/manage/awards/<int:pk>/", views.manage_award, name="manage-award"),
    path("grants/manage/tranches/<int:pk>/pay/", views.tranche_pay, name="tranche-pay"),
    path("api/grants/360giving.json", views.open_data, name="open-data"),
]
