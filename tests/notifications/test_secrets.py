"""Webhook secrets: encrypted at rest, readable after a key rotation, never shown again."""

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.urls import reverse

from notifications import secrets, services
from notifications.models import Webhook
from tests.notifications.factories import WebhookFactory

SECRET = "SEC7f3b9c1d2e4a5b6c7d8e9f0a1b2c3d4e5f"
OLD_KEY = "an-old-secret-key-that-was-rotated-out-0123456789abcdef"
NEW_KEY = "the-new-secret-key-after-the-rotation-0123456789abcdef"


def stored_row(webhook):
    """Every column of the webhook's row, as the database holds it."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {Webhook._meta.db_table} WHERE id = %s", [webhook.pk])
        return [str(value) for value in cursor.fetchone()]


def stored_secret(webhook):
    return Webhook.objects.values_list("secret_encrypted", flat=True).get(pk=webhook.pk)


def test_a_secret_is_stored_encrypted(db):
    hook = WebhookFactory()

    services.webhook_set_secret(webhook=hook, secret=SECRET)

    assert stored_secret(hook)
    assert not any(SECRET in value for value in stored_row(hook))


def test_a_stored_secret_decrypts_to_what_was_entered(db):
    hook = WebhookFactory()

    services.webhook_set_secret(webhook=hook, secret=SECRET)

    assert secrets.decrypt(stored_secret(hook)) == SECRET


def test_the_same_secret_encrypts_differently_each_time():
    assert secrets.encrypt(SECRET) != secrets.encrypt(SECRET)


def test_an_empty_secret_is_stored_empty():
    assert secrets.encrypt("") == ""
    assert secrets.decrypt("") == ""


def test_a_secret_stays_readable_after_the_secret_key_is_rotated(settings):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = OLD_KEY, []
    token = secrets.encrypt(SECRET)

    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW_KEY, [OLD_KEY]

    assert secrets.decrypt(token) == SECRET


def test_a_secret_cannot_be_read_with_another_key_and_no_fallback(settings):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = OLD_KEY, []
    token = secrets.encrypt(SECRET)

    settings.SECRET_KEY = NEW_KEY

    with pytest.raises(ValueError):
        secrets.decrypt(token)


def test_after_a_rotation_a_secret_is_encrypted_with_the_new_key(settings):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW_KEY, [OLD_KEY]
    token = secrets.encrypt(SECRET)

    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW_KEY, []

    assert secrets.decrypt(token) == SECRET


# The admin


@pytest.fixture
def admin_client(client, db):
    client.force_login(User.objects.create_superuser("root", "root@example.org", "a-Long-test-passw0rd"))
    return client


@pytest.fixture
def hook(db):
    webhook = WebhookFactory(name="园区群机器人", kind=Webhook.Kind.DINGTALK, url="https://oapi.dingtalk.com/robot/send?access_token=abc")
    services.webhook_set_secret(webhook=webhook, secret=SECRET)
    return webhook


def change_url(webhook):
    return reverse("admin:notifications_webhook_change", args=[webhook.pk])


def form_data(webhook, **changes):
    return {
        "name": webhook.name,
        "kind": webhook.kind,
        "url": webhook.url,
        "rate_limit_per_minute": webhook.rate_limit_per_minute,
        "is_active": "on",
        "secret": "",
        "_save": "Save",
        **changes,
    }


def test_the_admin_change_page_never_shows_the_secret(admin_client, hook):
    response = admin_client.get(change_url(hook))

    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="secret"' in page
    assert SECRET not in page
    assert stored_secret(hook) not in page


def test_the_admin_list_says_a_secret_is_stored_without_showing_it(admin_client, hook):
    response = admin_client.get(reverse("admin:notifications_webhook_changelist"))

    assert response.status_code == 200
    assert SECRET not in response.content.decode()


def test_saving_with_the_secret_left_empty_keeps_it(admin_client, hook):
    response = admin_client.post(change_url(hook), form_data(hook, name="改名的机器人"))

    assert response.status_code == 302
    hook.refresh_from_db()
    assert hook.name == "改名的机器人"
    assert secrets.decrypt(hook.secret_encrypted) == SECRET


def test_entering_a_new_secret_replaces_it(admin_client, hook):
    admin_client.post(change_url(hook), form_data(hook, secret="SECnew-one"))

    hook.refresh_from_db()
    assert secrets.decrypt(hook.secret_encrypted) == "SECnew-one"


def test_remove_the_stored_secret_clears_it(admin_client, hook):
    response = admin_client.post(change_url(hook), form_data(hook, clear_secret="on"))

    assert response.status_code == 302
    hook.refresh_from_db()
    assert hook.secret_encrypted == ""
    assert not hook.has_secret


def test_a_webhook_added_in_the_admin_stores_its_secret_encrypted(admin_client):
    response = admin_client.post(
        reverse("admin:notifications_webhook_add"),
        {
            "name": "企业微信群",
            "kind": Webhook.Kind.GENERIC,
            "url": "https://hooks.example.org/in",
            "rate_limit_per_minute": 20,
            "is_active": "on",
            "secret": SECRET,
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    added = Webhook.objects.get(name="企业微信群")
    assert not any(SECRET in value for value in stored_row(added))
    assert secrets.decrypt(added.secret_encrypted) == SECRET


def test_a_secret_entered_with_an_error_elsewhere_is_not_shown_back(admin_client, hook):
    response = admin_client.post(change_url(hook), form_data(hook, url="not a web address", secret="SECtyped-in"))

    assert response.status_code == 200
    assert "SECtyped-in" not in response.content.decode()
    hook.refresh_from_db()
    assert secrets.decrypt(hook.secret_encrypted) == SECRET
