from django.urls import path

from . import views, webhooks

app_name = "budgets"

urlpatterns = [
    path("webhooks/stripe/", webhooks.stripe_webhook, name="stripe_webhook"),
    path("budgets/statements/import/", views.statement_import_view, name="statement_import"),
    path("budgets/<int:person_id>/", views.budget_detail, name="detail"),
    path("budgets/<int:person_id>/statement.csv", views.statement_csv, name="statement_csv"),
    path("budgets/<int:person_id>/statement.pdf", views.statement_pdf, name="statement_pdf"),
]
