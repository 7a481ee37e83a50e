"""Browser tests: Debian's Chromium driven through Playwright against pytest-django's live server.

One Chromium runs for the whole session; every test gets a fresh context (no cookies,
no session) and a page whose relative addresses resolve against the live server.
``playwright install`` is never needed: the system's Chromium is launched directly.
Without Chromium the tests are skipped, or fail under ``CI=true`` (see tests/conftest.py).
"""

import pytest
from playwright.sync_api import expect, sync_playwright

from tests import services

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TIMEOUT_MS = 10_000
PASSWORD = "e2e-Known-passw0rd"

expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=services.chromium_path(), args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hash the test users' passwords cheaply; the login form still checks them for real."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def log_in_on(page, person):
    """Log ``person`` in on ``page`` through the real login form."""
    user = person.user
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    page.goto("/accounts/login/")
    page.locator("input[name=username]").fill(user.username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form.vf-form button[type=submit]").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    return page


@pytest.fixture
def log_in(page):
    """Log a person in through the real login form: ``log_in(org.head)``."""
    return lambda person: log_in_on(page, person)
