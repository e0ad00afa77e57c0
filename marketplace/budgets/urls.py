from django.urls import path

from . import staff_views, views, webhooks

app_name = "budgets"

urlpatterns = [
    path("webhooks/stripe/", webhooks.stripe_webhook, name="stripe_webhook"),
    path("budgets/statements/import/", views.statement_import_view, name="statement_import"),
    path("budgets/<int:person_id>/", views.budget_detail, name="detail"),
    path("budgets/<int:person_id>/statement.csv", views.statement_csv, name="statement_csv"),
    path("budgets/<int:person_id>/statement.pdf", views.statement_pdf, name="statement_pdf"),
    # Council staff: setting up budgets, support plans and cards.
    path("budgets/manage/", staff_views.people, name="staff-people"),
    path("budgets/manage/people/<int:person_id>/", staff_views.person, name="staff-person"),
    path("budgets/manage/people/<int:person_id>/new/", staff_views.budget_new, name="staff-new"),
    path("budgets/manage/<int:budget_id>/edit/", staff_views.budget_edit, name="staff-edit"),
    path("budgets/manage/<int:budget_id>/plan/", staff_views.plan_edit, name="staff-plan"),
    path("budgets/manage/<int:budget_id>/cards/new/", staff_views.card_new, name="staff-card-new"),
    path(
        "budgets/manage/cards/<int:card_id>/<slug:action>/",
        staff_views.card_status,
        name="staff-card-status",
    ),
]
