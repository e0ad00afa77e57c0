"""Password reset: Django's token flow with GOV.UK pages, throttled, and silent about
whether an address has an account.

- Every request gets the same "check your email" page; only an active account
  with that address gets an e-mail, sent in the background.
- At most ``PER_ADDRESS`` e-mails per address and ``PER_IP`` requests per
  network address in ``WINDOW_SECONDS``. Past the address limit the page is
  the same and nothing is sent; past the network limit the page says to wait
  (which says nothing about any address). Counts live in Django's cache.
- A new password unlocks sign-in for the account (the 15-minute lock after 5
  wrong passwords) and ends the account's other sessions (Django's session
  hash); nobody is signed in by the reset, and staff still need their second
  factor.
"""

import hashlib

from django import forms
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm, SetPasswordForm
from django.core.cache import cache
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.template import loader
from django.urls import reverse_lazy

from config.tasks import enqueue_on_commit

from .audit import client_ip

WINDOW_SECONDS = 60 * 60
PER_ADDRESS = 3
PER_IP = 10


def _over_limit(kind: str, value: str, limit: int) -> bool:
    """Count one more request for ``value``; True once more than ``limit`` in the window."""
    key = f"password-reset:{kind}:{hashlib.sha256(value.encode()).hexdigest()}"
    cache.add(key, 0, WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, WINDOW_SECONDS)
        count = 1
    return count > limit


class ResetRequestForm(PasswordResetForm):
    email = forms.EmailField(
        label="Email address",
        help_text="The address you sign in with.",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
        error_messages={
            "required": "Enter your email address.",
            "invalid": "Enter an email address in the correct format, like name@example.com.",
        },
    )

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        from .tasks import send_email

        enqueue_on_commit(send_email, subject=subject, body=body, to=to_email)


class NewPasswordForm(SetPasswordForm):
    error_messages = {"password_mismatch": "The two passwords do not match. Type them again."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = "New password"
        self.fields[
            "new_password1"
        ].help_text = "At least 12 characters. A short sentence you will remember works well."
        self.fields["new_password1"].error_messages["required"] = "Enter a new password."
        self.fields["new_password2"].label = "Type the new password again"
        self.fields["new_password2"].help_text = ""
        self.fields["new_password2"].error_messages["required"] = "Type the new password again."


class ResetRequestView(auth_views.PasswordResetView):
    form_class = ResetRequestForm
    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password-reset-done")
    extra_email_context = {"site_name": settings.SITE_NAME}

    def post(self, request, *args, **kwargs):
        if _over_limit("ip", client_ip(request) or "unknown", PER_IP):
            return render(request, "accounts/password_reset_throttled.html", status=429)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        if _over_limit("address", form.cleaned_data["email"].strip().lower(), PER_ADDRESS):
            # The same page as a sent e-mail: the limit reveals nothing about the address.
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


class ResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class ResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = NewPasswordForm
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password-reset-complete")

    def form_valid(self, form):
        from axes.utils import reset as axes_reset

        response = super().form_valid(form)
        axes_reset(username=form.user.email)
        return response


class ResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"
