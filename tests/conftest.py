"""Shared fixtures: a small organisation with one person per role, and the service rules."""

import shutil

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import translation

from tests import services
from tests.cases.factories import OrgFactory


def missing_service(item):
    """Why ``item`` cannot run here, or None when everything it needs is reachable."""
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        return f"needs PostgreSQL; the database is {connection.vendor} (set DATABASE_URL=postgres://...)"
    if item.get_closest_marker("redis") and not services.tcp_reachable(services.REDIS_URL, 6379):
        return f"needs Redis at {services.REDIS_URL} (start redis-server)"
    if item.get_closest_marker("faults") and not shutil.which("redis-server"):
        return "needs redis-server to run a private Redis (apt-get install redis-server)"
    if item.get_closest_marker("e2e") and not services.chromium_path():
        return "needs Chromium at /usr/bin/chromium (apt-get install chromium)"
    if item.get_closest_marker("ldap") and (reason := services.missing_ldap()):
        return reason
    if item.get_closest_marker("oidc") and (reason := services.missing_oidc_provider()):
        return reason
    return None


def pytest_runtest_setup(item):
    reason = missing_service(item)
    if reason is None:
        return
    if services.in_ci():
        pytest.fail(f"{reason}; CI=true does not allow skipping it", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hashing passwords properly takes half a second each; tests need not pay for it."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _english_unless_asked(settings):
    """A request in Chinese leaves its language active in the thread; start each test afresh."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """What the cache holds (the readiness checklist's needs) is read from the database a test sees,
    not from an earlier test's rolled-back rows."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def org(db):
    """Units and one person for every role; see OrgFactory."""
    return OrgFactory.create()


@pytest.fixture
def as_user(client):
    """Log the test client in as a user: ``as_user(org.head)``."""

    def login(person_or_user):
        user = getattr(person_or_user, "user", person_or_user)
        client.force_login(user)
        return client

    return login
