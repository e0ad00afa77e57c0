"""Background e-mail for accounts: sent after the request, so how long a request takes
says nothing about whether an address has an account."""

from celery import shared_task


@shared_task(
    name="accounts.send_email", autoretry_for=(OSError,), retry_backoff=True, max_retries=5
)
def send_email(*, subject: str, body: str, to: str, html_body: str | None = None) -> None:
    """Send one message through ``EMAIL_BACKEND``."""
    from django.conf import settings
    from django.core.mail import EmailMultiAlternatives

    message = EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, [to])
    if html_body:
        message.attach_alternative(html_body, "text/html")
    message.send()
