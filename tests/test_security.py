"""Security basics: login throttling, idle sessions, CSRF, headers, password rules."""

import re
from pathlib import Path

import pytest
from django.conf import settings
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
    assert "After 5 failed logins this account is locked from your address for 15 minutes." in response.content.decode()


def test_the_lockout_page_reads_in_chinese(org, settings):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = login(client, "head", "wrong password")
    assert response.status_code == 429
    assert "登录失败 5 次后，该账号已从你的地址锁定 15 分钟" in response.content.decode()


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


def test_pages_carry_a_content_security_policy_without_inline_scripts(org, as_user):
    response = as_user(org.secretariat).get(reverse("cases:projects:list"))
    policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    assert policy["script-src"] == "'self'"
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert policy["form-action"] == "'self'"


INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
# viewflow's import and export actions, the only templates of viewflow with inline handlers that
# this site does not override: no viewset of the site offers them.
NOT_ROUTED = {"viewflow/contrib/import_export/import_action.html", "viewflow/contrib/import_export/export_action.html"}


def template_sources():
    """(name, text) of every template of the site and of viewflow that the site does not override."""
    import viewflow

    ours = Path(settings.BASE_DIR) / "templates"
    theirs = Path(viewflow.__file__).parent / "templates"
    apps = [Path(settings.BASE_DIR) / package for package in ("cases", "workflow", "notifications")]
    found = {}
    for root in [ours, *[path for app in apps for path in app.rglob("templates")]]:
        for file in root.rglob("*.html"):
            found.setdefault(file.relative_to(root).as_posix(), file.read_text())
    for file in theirs.rglob("*.html"):
        found.setdefault(file.relative_to(theirs).as_posix(), file.read_text())
    return found


def test_no_template_the_site_serves_runs_inline_script():
    offending = sorted(
        name
        for name, text in template_sources().items()
        if (INLINE_HANDLER.search(text) or INLINE_SCRIPT.search(text)) and name not in NOT_ROUTED
    )
    assert offending == [], offending


def test_the_site_offers_none_of_viewflows_import_or_export_actions():
    from django.urls import get_resolver

    def views(resolver):
        for entry in resolver.url_patterns:
            if hasattr(entry, "url_patterns"):
                yield from views(entry)
            else:
                yield getattr(entry.callback, "view_class", None)

    names = {getattr(view, "template_name", None) for view in views(get_resolver())}
    assert not names & NOT_ROUTED
