from django.urls import path

from . import views

app_name = "payments"

urlpatterns = [
    path("provider/invoices/", views.provider_invoices, name="provider-invoices"),
    path("provider/invoices/new/", views.invoice_new, name="invoice-new"),
    path("provider/invoices/<int:invoice_id>/cancel/", views.invoice_cancel, name="invoice-cancel"),
    path("provider/remittances/", views.remittances, name="remittances"),
    path("provider/payments/<int:organisation_id>/", views.payment_setup, name="payment-setup"),
    path(
        "provider/payments/<int:organisation_id>/return/",
        views.payment_setup_return,
        name="payment-setup-return",
    ),
    path("budgets/<int:person_id>/invoices/", views.holder_invoices, name="holder-invoices"),
    path("budgets/<int:person_id>/pay/<int:invoice_id>/", views.pay_invoice, name="pay"),
    path(
        "budgets/<int:person_id>/payments/<int:payment_id>/",
        views.payment_done,
        name="payment-done",
    ),
    path("monitoring/approvals/", views.approvals, name="approvals"),
    path("monitoring/approvals/<int:payment_id>/", views.approval_detail, name="approval-detail"),
]
