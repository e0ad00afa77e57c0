import os
import subprocess
import sys
from pathlib import Path

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from marketplace.accounts.roles import Role
from tests.factories import PASSWORD, UserFactory, user_with_role

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[3]


def _sign_in(client, email, password=PASSWORD):
    return client.post(reverse("accounts:login"), {"username": email, "password": password})


def test_sign_in_with_email_and_password():
    user = UserFactory(email="Ada@Example.org")
    client = Client()
    response = _sign_in(client, "ada@example.org")
    assert response.status_code == 302
    assert client.get(reverse("accounts:home")).context["user"] == user


def test_wrong_password_says_what_is_wrong_in_plain_english():
    UserFactory(email="ada@example.org")
    response = _sign_in(Client(), "ada@example.org", "not the password")
    assert response.status_code == 200
    assert "Enter a correct email address and password." in response.content.decode()
    assert "There is a problem" in response.content.decode()


def test_sign_in_is_locked_after_five_failures_even_with_the_right_password():
    UserFactory(email="ada@example.org")
    client = Client()
    for _ in range(5):
        _sign_in(client, "ada@example.org", "guess")
    response = _sign_in(client, "ada@example.org")
    assert response.status_code == 429
    assert "Too many attempts to sign in" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_staff_roles_must_complete_two_factor_before_anything_else():
    user = user_with_role(Role.COMMISSIONER)
    client = Client()
    _sign_in(client, user.email)
    response = client.get(reverse("accounts:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:two-factor-verify"))

    device = TOTPDevice.objects.get(user=user)
    code = f"{totp(device.bin_key):06d}"
    response = client.post(reverse("accounts:two-factor-verify"), {"token": code})
    assert response.status_code == 302
    assert client.get(reverse("accounts:home")).status_code == 200


def test_wrong_security_codes_are_refused_and_slowed_down():
    user = user_with_role(Role.GRANT_OFFICER)
    client = Client()
    _sign_in(client, user.email)
    device = TOTPDevice.objects.get(user=user)
    wrong = f"{(totp(device.bin_key) + 1) % 1_000_000:06d}"
    response = client.post(reverse("accounts:two-factor-verify"), {"token": wrong})
    assert "That code did not match" in response.content.decode()
    # Straight after a failure even the right code waits: guessing is throttled.
    right = f"{totp(device.bin_key):06d}"
    response = client.post(reverse("accounts:two-factor-verify"), {"token": right})
    assert "Too many wrong codes" in response.content.decode()
    assert client.get(reverse("accounts:home")).status_code == 302


def test_new_staff_member_sets_up_an_authenticator_first():
    user = UserFactory()
    user.groups.add(Group.objects.get(name="Monitoring officers"))
    client = Client()
    _sign_in(client, user.email)
    response = client.get(reverse("accounts:home"))
    assert response["Location"].startswith(reverse("accounts:two-factor-setup"))
    page = client.get(reverse("accounts:two-factor-setup"))
    assert page.status_code == 200
    assert "data:image/svg+xml" in page.content.decode()
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    client.post(reverse("accounts:two-factor-setup"), {"token": f"{totp(device.bin_key):06d}"})
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(reverse("accounts:home")).status_code == 200


@pytest.mark.parametrize("role", [Role.BUDGET_HOLDER, Role.PROXY, Role.PROVIDER_STAFF])
def test_people_who_are_not_council_staff_need_no_second_factor(role):
    user = user_with_role(role)
    client = Client()
    _sign_in(client, user.email)
    assert client.get(reverse("accounts:home")).status_code == 200


def test_pages_send_a_content_security_policy_with_a_nonce(client):
    response = client.get(reverse("cms:cookies"))
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    nonce = policy.split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in response.content.decode()
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_session_and_csrf_cookies_are_not_readable_by_scripts(settings):
    assert settings.SESSION_COOKIE_HTTPONLY
    assert settings.CSRF_COOKIE_HTTPONLY
    assert settings.SESSION_COOKIE_SAMESITE == "Lax"


def _load_production_settings(env: dict) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_URL", "STRIPE_"))
    }
    clean.update(env)
    code = "import django; from django.conf import settings; django.setup(); print(settings.SECURE_HSTS_SECONDS, settings.SESSION_COOKIE_SECURE, settings.SECURE_SSL_REDIRECT)"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings.production"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_its_secrets():
    result = _load_production_settings({})
    assert result.returncode != 0
    assert "Production will not start without these settings" in result.stderr
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_starts_with_its_secrets_and_sends_security_headers():
    result = _load_production_settings(
        {
            "DJANGO_SECRET_KEY": "x" * 64,
            "DATABASE_URL": "postgres://scc@127.0.0.1:5432/scc",
            "DJANGO_ALLOWED_HOSTS": "connect.example.gov.uk",
        }
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["31536000", "True", "True"]


def test_directory_editors_are_council_staff_and_need_a_second_factor():
    user = UserFactory()
    user.groups.add(Group.objects.get(name="Directory editors"))
    assert Role.CMS_EDITOR in user.roles
    client = Client()
    _sign_in(client, user.email)
    response = client.get(reverse("accounts:home"))
    assert response["Location"].startswith(reverse("accounts:two-factor-setup"))
