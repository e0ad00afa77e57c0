"""Password reset: a link by e-mail, the same answer whether or not an address has an
account, throttled, single use, and it unlocks a locked sign-in."""

import re

import pytest

from django.core import mail
from django.core.cache import cache
from django.test import Client

from marketplace.accounts import password_reset
from marketplace.accounts.roles import Role
from tests.factories import PASSWORD, UserFactory, user_with_role

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a brand new sentence to remember"


@pytest.fixture(autouse=True)
def _fresh_counts(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def ask(django_capture_on_commit_callbacks):
    """Ask for a reset link; the e-mail goes out when the request's transaction commits."""

    def send(client, email, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/account/password-reset/", {"email": email}, **extra)

    return send


def _link(message) -> str:
    return re.search(r"https?://[^/\s]+(/account/password-reset/\S+/)", message.body).group(1)


def test_sign_in_page_links_to_password_reset(client):
    page = client.get("/account/sign-in/").content.decode()
    assert 'href="/account/password-reset/"' in page
    assert "Reset your password" in client.get("/account/password-reset/").content.decode()


def test_a_known_address_gets_a_link_and_an_unknown_one_gets_the_same_page(ask):
    UserFactory(email="ada@example.org")
    known = ask(Client(), "ADA@example.org")
    unknown = ask(Client(), "nobody@example.org")
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == "/account/password-reset/sent/"
    assert len(mail.outbox) == 1
    [message] = mail.outbox
    assert message.to == ["ada@example.org"]
    assert message.subject == "Social Care Connect: reset your password"
    assert "/account/password-reset/" in message.body
    page = Client().get(known["Location"]).content.decode()
    assert "If the address you entered belongs to an account" in page


def test_closed_accounts_get_no_email(ask):
    UserFactory(email="closed@example.org", is_active=False)
    assert ask(Client(), "closed@example.org").status_code == 302
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("", "Enter your email address."),
        ("not-an-address", "Enter an email address in the correct format, like name@example.com."),
    ],
)
def test_a_mistyped_address_is_explained_in_an_error_summary(email, message, ask):
    response = ask(Client(), email)
    page = response.content.decode()
    assert response.status_code == 200
    assert "govuk-error-summary" in page and message in page
    assert mail.outbox == []


def test_the_link_sets_a_new_password_once_and_signs_nobody_in(ask):
    user = UserFactory(email="ada@example.org")
    ask(Client(), "ada@example.org")
    link = _link(mail.outbox[0])
    client = Client()
    form_page = client.get(link, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    set_password_url = form_page.redirect_chain[-1][0]

    mismatch = client.post(
        set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": "something else"}
    )
    assert "The two passwords do not match" in mismatch.content.decode()
    short = client.post(set_password_url, {"new_password1": "short", "new_password2": "short"})
    assert "govuk-error-summary" in short.content.decode()

    done = client.post(
        set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert done["Location"] == "/account/password-reset/done/"
    assert "Your password has been changed" in client.get(done["Location"]).content.decode()
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD) and not user.check_password(PASSWORD)
    assert "_auth_user_id" not in client.session
    # The link works once.
    again = Client().get(link, follow=True).content.decode()
    assert "This link does not work" in again


def test_a_new_password_unlocks_a_locked_sign_in(ask):
    UserFactory(email="ada@example.org")
    client = Client()
    for _ in range(5):
        client.post("/account/sign-in/", {"username": "ada@example.org", "password": "wrong"})
    locked = client.post("/account/sign-in/", {"username": "ada@example.org", "password": PASSWORD})
    assert locked.status_code == 429 or "locked" in locked.content.decode().lower()

    ask(client, "ada@example.org")
    form_page = client.get(_link(mail.outbox[0]), follow=True)
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    signed_in = client.post(
        "/account/sign-in/", {"username": "ada@example.org", "password": NEW_PASSWORD}
    )
    assert signed_in.status_code == 302


def test_staff_still_need_their_second_factor_after_a_reset(ask):
    officer = user_with_role(Role.MONITORING_OFFICER)
    client = Client()
    ask(client, officer.email)
    form_page = client.get(_link(mail.outbox[0]), follow=True)
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    client.post("/account/sign-in/", {"username": officer.email, "password": NEW_PASSWORD})
    response = client.get("/monitoring/")
    assert response.status_code == 302 and "/account/two-factor/" in response["Location"]


def test_one_address_gets_a_few_emails_an_hour_and_then_the_same_page_but_no_email(ask):
    UserFactory(email="ada@example.org")
    responses = [
        ask(Client(), "ada@example.org", REMOTE_ADDR=f"10.0.0.{n}")
        for n in range(password_reset.PER_ADDRESS + 2)
    ]
    assert {r["Location"] for r in responses} == {"/account/password-reset/sent/"}
    assert len(mail.outbox) == password_reset.PER_ADDRESS


def test_one_network_address_is_told_to_wait_after_too_many_requests(ask):
    client = Client(REMOTE_ADDR="192.0.2.7")
    statuses = [
        ask(client, f"person{n}@example.org").status_code for n in range(password_reset.PER_IP + 1)
    ]
    assert statuses[: password_reset.PER_IP] == [302] * password_reset.PER_IP
    assert statuses[-1] == 429
    assert "Too many requests" in ask(client, "x@example.org").content.decode()
    # Another network address is not affected.
    assert ask(Client(REMOTE_ADDR="192.0.2.8"), "y@example.org").status_code == 302
