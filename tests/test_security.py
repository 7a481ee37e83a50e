"""Security basics: login throttling, idle sessions, CSRF, headers, password rules."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from tests.cases.factories import PASSWORD


def login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_five_failed_logins_lock_the_account_even_for_the_right_password(org, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(client, "head", "wrong password").status_code == 200
    assert login(client, "head", "wrong password").status_code == 429
    response = login(client, "head", PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_correct_login_works_and_the_session_ends_after_the_idle_timeout(org, settings):
    client = Client()
    response = login(client, "head", PASSWORD)
    assert response.status_code == 302
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert 0 < settings.SESSION_COOKIE_AGE <= 60 * 60
    assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE


def test_a_form_posted_without_its_csrf_token_is_refused(org):
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.secretariat.user)
    url = reverse("cases:projects:transition", args=[org.project.pk, "withdraw"])
    response = client.post(url, {"reason": "退出"})
    assert response.status_code == 403
    org.project.refresh_from_db()
    assert org.project.stage == "reserve"


def test_pages_carry_the_security_headers(org, as_user):
    response = as_user(org.secretariat).get(reverse("cases:projects:list"))
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("weak", ["demo", "12345678901", "password123"])
def test_weak_passwords_are_refused_for_real_users(weak):
    with pytest.raises(ValidationError):
        validate_password(weak)


def test_a_strong_password_is_accepted():
    validate_password("Huang-Shan 2026 spring!")


def test_pages_need_a_login(db):
    response = Client().get(reverse("cases:projects:list"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_the_api_needs_authentication_but_the_schema_does_not(db):
    client = Client()
    assert client.get("/api/projects/").status_code in (401, 403)
    assert client.get("/api/schema/").status_code == 200
