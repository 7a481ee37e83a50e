"""The unified identity's sign-on (OpenID Connect) against an OpenID provider in a second process
(django-oidc-provider, tests/security/oidc_provider): the authorization-code flow followed from
the product's test client to the provider and back, as a browser would."""

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit, urlunsplit

import environ
import pytest
import requests
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from cases.identity import FAILED, UNMAPPED
from cases.models import IdentityMapping, IdentitySource, Person, Role
from config.sso import LDAP_BACKEND, OIDC_BACKEND, sso_settings
from tests import services
from tests.security.oidc_provider import CLIENT_ID, CLIENT_SECRET, PASSWORD, REDIRECT_URI

# One pass of make test runs these (marker once): PostgreSQL's, or SQLite's without PostgreSQL.
pytestmark = pytest.mark.once

ROOT = Path(__file__).resolve().parents[2]
needs_provider = pytest.mark.oidc


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    """The test OpenID provider on a free port with its own SQLite database; stopped afterwards."""
    root = tmp_path_factory.mktemp("openid-provider")
    port = services.free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "OP_DATABASE": str(root / "provider.sqlite3"), "OP_SITE_URL": url}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    with open(root / "provider.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.security.oidc_provider.serve", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while not services.tcp_reachable(url, port):
            assert process.poll() is None, (root / "provider.log").read_text(errors="replace")
            assert time.monotonic() < deadline, "the OpenID provider did not listen within 60 s"
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def default_backends(settings):
    return list(settings.AUTHENTICATION_BACKENDS)


@pytest.fixture
def oidc_on(provider, settings, monkeypatch, default_backends):
    """The settings config/sso.py makes of the README's variables for this provider."""
    for name, value in {
        "OIDC_ENABLED": "true",
        "OIDC_RP_CLIENT_ID": CLIENT_ID,
        "OIDC_RP_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_OP_AUTHORIZATION_ENDPOINT": f"{provider}/authorize",
        "OIDC_OP_TOKEN_ENDPOINT": f"{provider}/token",
        "OIDC_OP_USER_ENDPOINT": f"{provider}/userinfo",
        "OIDC_OP_JWKS_ENDPOINT": f"{provider}/jwks",
        "OIDC_OP_ISSUER": provider,
        "OIDC_RP_SCOPES": "openid email profile org",
    }.items():
        monkeypatch.setenv(name, value)
    for name, value in sso_settings(environ.Env(), default_backends).items():
        setattr(settings, name, value)
    return provider


@pytest.fixture
def staff_mapping(org):
    return IdentityMapping.objects.create(
        source=IdentitySource.OIDC, claim="groups", value="Park-Staff", unit=org.park, role=Role.UNIT_STAFF
    )


class Browser:
    """The person's browser at the provider (its own cookies); the product is the test client."""

    def __init__(self, provider):
        self.provider = provider
        self.session = requests.Session()

    def get(self, url):
        return self.session.get(urljoin(self.provider, url), allow_redirects=False, timeout=10)

    def sign_in(self, client, username):
        """From the product's sign-in button to the provider and back: the callback URL the
        provider sends the browser to (the provider's login form filled in when asked)."""
        start = client.get("/oidc/authenticate/")
        assert start.status_code == 302
        assert start["Location"].startswith(f"{self.provider}/authorize?")
        response = self.get(start["Location"])
        if urlsplit(response.headers["Location"]).path == "/login/":
            login_url = urljoin(self.provider, response.headers["Location"])
            self.session.get(login_url, timeout=10)
            response = self.session.post(
                login_url,
                data={
                    "csrfmiddlewaretoken": self.session.cookies["csrftoken"],
                    "username": username,
                    "password": PASSWORD,
                    "next": parse_qs(urlsplit(login_url).query)["next"][0],
                },
                allow_redirects=False,
                timeout=10,
            )
            assert response.status_code == 302, "the provider refused the login"
            response = self.get(response.headers["Location"])
        back = response.headers["Location"]
        assert back.startswith(REDIRECT_URI), back
        return back


def with_query(url, **changes):
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def signed_in_user(client):
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def sso_users():
    return User.objects.filter(username__startswith="oidc-")


def test_the_default_environment_turns_neither_sign_on_on(settings, monkeypatch):
    assert settings.OIDC_ENABLED is False
    assert settings.LDAP_ENABLED is False
    assert OIDC_BACKEND not in settings.AUTHENTICATION_BACKENDS
    assert LDAP_BACKEND not in settings.AUTHENTICATION_BACKENDS
    for name in list(os.environ):
        if name.startswith(("OIDC_", "LDAP_")):
            monkeypatch.delenv(name)
    base = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
    assert sso_settings(environ.Env(), base)["AUTHENTICATION_BACKENDS"] == base


def test_while_off_the_login_page_offers_no_unified_identity_and_its_pages_are_not_found(client, db):
    assert b'data-sso="oidc"' not in client.get("/accounts/login/").content
    assert client.get("/oidc/authenticate/").status_code == 404
    assert client.get("/oidc/callback/?code=x&state=y").status_code == 404


@needs_provider
def test_turned_on_the_login_page_offers_the_unified_identity_beside_local_passwords(oidc_on, settings, client, db):
    assert settings.AUTHENTICATION_BACKENDS[:2] == ["axes.backends.AxesStandaloneBackend", OIDC_BACKEND]
    page = client.get("/accounts/login/?next=/my-work/").content.decode()
    assert 'data-sso="oidc"' in page
    assert 'href="/oidc/authenticate/?next=/my-work/"' in page
    assert "Sign in with the unified identity" in page
    assert 'name="password"' in page  # outsiders keep their local passwords


@needs_provider
def test_a_first_sign_in_creates_an_account_in_no_unit_and_says_so(oidc_on, org):
    client = Client()
    back = Browser(oidc_on).sign_in(client, "lisi")
    response = client.get(back)
    assert response.status_code == 302
    assert response["Location"] == "/"
    user = signed_in_user(client)
    assert user is not None and user.username.startswith("oidc-")
    assert (user.email, user.last_name, user.first_name) == ("lisi@idp.example", "李", "四")
    assert not user.has_usable_password()
    assert not Person.objects.filter(user=user).exists()
    home = client.get("/")
    assert home.status_code == 200
    assert str(UNMAPPED) in home.content.decode()


@needs_provider
def test_a_mapped_claim_gives_the_person_their_unit_and_role(oidc_on, org, staff_mapping):
    client = Client()
    response = client.get(Browser(oidc_on).sign_in(client, "zhangsan"))
    assert response.status_code == 302
    person = Person.objects.get(user=signed_in_user(client))
    assert (person.unit, person.role, person.name) == (org.park, Role.UNIT_STAFF, "张三")
    assert "Welcome, 张三" in client.get("/").content.decode()


@needs_provider
def test_a_later_sign_in_applies_the_changed_mapping(oidc_on, org, staff_mapping):
    client, browser = Client(), Browser(oidc_on)
    client.get(browser.sign_in(client, "zhangsan"))
    first = signed_in_user(client)
    staff_mapping.unit, staff_mapping.role = org.district, Role.UNIT_HEAD
    staff_mapping.save()
    client.logout()
    # The provider remembers the person: straight back, no login form.
    response = client.get(browser.sign_in(client, "zhangsan"))
    assert response.status_code == 302
    assert signed_in_user(client) == first
    person = Person.objects.get(user=first)
    assert (person.unit, person.role) == (org.district, Role.UNIT_HEAD)
    assert sso_users().count() == 1


@needs_provider
def test_a_forged_state_is_refused(oidc_on, org, staff_mapping):
    client = Client()
    back = Browser(oidc_on).sign_in(client, "zhangsan")
    response = client.get(with_query(back, state="forged-state"), follow=True)
    assert response.redirect_chain[0] == ("/accounts/login/", 302)
    assert str(FAILED) in response.content.decode()
    assert signed_in_user(client) is None
    assert not sso_users().exists()


@needs_provider
def test_a_nonce_other_than_the_one_sent_is_refused(oidc_on, org, staff_mapping):
    client = Client()
    back = Browser(oidc_on).sign_in(client, "zhangsan")
    # The provider signed the nonce the product sent; the session now expects another one.
    session = client.session
    state = parse_qs(urlsplit(back).query)["state"][0]
    session["oidc_states"][state]["nonce"] = "another-nonce"
    session.save()
    response = client.get(back, follow=True)
    assert response.redirect_chain[0] == ("/accounts/login/", 302)
    assert str(FAILED) in response.content.decode()
    assert signed_in_user(client) is None
    assert not sso_users().exists()


@needs_provider
def test_the_same_way_back_twice_signs_in_once(oidc_on, org, staff_mapping):
    client = Client()
    back = Browser(oidc_on).sign_in(client, "zhangsan")
    assert client.get(back)["Location"] == "/"
    client.logout()
    response = client.get(back)
    assert response["Location"] == "/accounts/login/"
    assert signed_in_user(client) is None


def test_turned_on_without_its_settings_it_names_what_is_missing(monkeypatch):
    for name in list(os.environ):
        if name.startswith(("OIDC_", "LDAP_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("OIDC_ENABLED", "true")
    monkeypatch.setenv("OIDC_RP_CLIENT_ID", CLIENT_ID)
    with pytest.raises(ImproperlyConfigured, match="OIDC_RP_CLIENT_SECRET, OIDC_OP_AUTHORIZATION_ENDPOINT"):
        sso_settings(environ.Env(), ["axes.backends.AxesStandaloneBackend"])


@needs_provider
def test_an_id_token_from_another_issuer_is_refused(oidc_on, org, staff_mapping, settings):
    client = Client()
    back = Browser(oidc_on).sign_in(client, "zhangsan")
    # The provider signed a token with its own issuer; the site now expects another provider's.
    settings.OIDC_OP_ISSUER = "https://another-provider.example"
    response = client.get(back, follow=True)
    assert response.redirect_chain[0] == ("/accounts/login/", 302)
    assert str(FAILED) in response.content.decode()
    assert signed_in_user(client) is None
    assert not sso_users().exists()


def test_an_id_token_expired_or_for_another_party_is_refused(settings, monkeypatch):
    from django.core.exceptions import SuspiciousOperation
    from mozilla_django_oidc.auth import OIDCAuthenticationBackend

    from cases import identity

    settings.OIDC_RP_CLIENT_ID, settings.OIDC_OP_ISSUER = "kp", "https://op.example"
    fresh = {"iss": "https://op.example", "aud": "kp", "sub": "1", "exp": time.time() + 300}
    backend = identity.UnifiedIdentityBackend.__new__(identity.UnifiedIdentityBackend)
    for payload, refused in [
        (fresh, False),
        ({**fresh, "exp": time.time() - 3600}, True),
        ({**fresh, "aud": ["kp", "other"]}, True),  # several audiences and no authorised party
        ({**fresh, "aud": ["kp", "other"], "azp": "kp"}, False),
        ({**fresh, "azp": "other"}, True),
        ({k: v for k, v in fresh.items() if k != "exp"}, True),
    ]:
        monkeypatch.setattr(OIDCAuthenticationBackend, "verify_token", lambda self, token, payload=payload, **kw: payload)
        if refused:
            with pytest.raises(SuspiciousOperation):
                backend.verify_token("token")
        else:
            assert backend.verify_token("token") == payload
