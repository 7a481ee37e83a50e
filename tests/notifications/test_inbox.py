"""The inbox: its toolbar icon on every page, the list with filters, mark read, preferences; the API."""

import re

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notifications import messages, services
from notifications.models import Delivery, DeliveryState, Notification, Preference

REPORT = {"case": "CASE-5", "month": "2026-05", "due": "2026-06-10"}
DOCKING = {"case": "CASE-6", "institution": "BANK-B", "state": "STATE-S"}


def tell(person, key="report_due", context=REPORT, link="/cases/projects/5/", times=1):
    user = getattr(person, "user", person)
    return [services.notify(recipients=[user], key=key, context=context, link=link)[0] for _ in range(times)]


def read(notification):
    Notification.objects.filter(pk=notification.pk).update(read_at=timezone.now())


def bell(response):
    """The number on the toolbar's messages icon, or None when it shows none."""
    found = re.search(r'<span class="kp-messages__count" data-unread="(\d+)">(\d+)</span>', response.content.decode())
    if not found:
        return None
    assert found.group(1) == found.group(2)
    return int(found.group(1))


def listed(response):
    return [int(pk) for pk in re.findall(r'data-notification="(\d+)"', response.content.decode())]


INBOX = reverse("notifications:inbox")


# The messages icon (the bell counts my work: tests/workflow/engine/test_my_work.py)


@pytest.mark.parametrize("page", ["index", "cases:projects:list"])
def test_the_messages_icon_shows_the_readers_unread_count(org, as_user, page):
    tell(org.head, times=3)
    read(tell(org.head)[0])
    tell(org.staff, times=2)

    response = as_user(org.head).get(reverse(page))

    assert response.status_code == 200
    assert bell(response) == 3


def test_the_messages_icon_shows_no_number_when_everything_is_read(org, as_user):
    read(tell(org.head)[0])

    response = as_user(org.head).get(reverse("index"))

    assert response.status_code == 200
    assert 'class="mdc-icon-button kp-messages"' in response.content.decode()
    assert bell(response) is None


# The inbox page


def test_the_inbox_lists_only_the_readers_unread_messages_newest_first(org, as_user):
    older, newer = tell(org.head)[0], tell(org.head, key="docking_update", context=DOCKING)[0]
    read(tell(org.head)[0])
    tell(org.staff)

    response = as_user(org.head).get(INBOX)

    assert response.status_code == 200
    assert listed(response) == [newer.pk, older.pk]
    page = response.content.decode()
    assert "Monthly report due 2026-06-10: CASE-5" in page
    assert "Financing docking: CASE-6 with BANK-B" in page


def test_the_inbox_can_show_read_messages_too(org, as_user):
    unread = tell(org.head)[0]
    already = tell(org.head)[0]
    read(already)

    response = as_user(org.head).get(INBOX, {"show": "all"})

    assert sorted(listed(response)) == sorted([unread.pk, already.pk])


def test_the_inbox_filters_by_kind_of_message(org, as_user):
    tell(org.head)
    docking = tell(org.head, key="docking_update", context=DOCKING)[0]

    response = as_user(org.head).get(INBOX, {"show": "all", "key": "docking_update"})

    assert listed(response) == [docking.pk]


def test_the_inbox_is_in_the_readers_language(org, as_user):
    tell(org.head)

    response = as_user(org.head).get(INBOX, HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert "月报将于 2026-06-10 截止：CASE-5" in response.content.decode()


def inbox_queries(client):
    client.get(INBOX)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(INBOX, {"show": "all"})
    assert response.status_code == 200
    return len(queries), len(listed(response))


def test_the_inbox_costs_the_same_queries_for_3_and_30_messages(org, as_user):
    client = as_user(org.head)
    tell(org.head, times=3)
    few = inbox_queries(client)
    tell(org.head, times=27)

    many = inbox_queries(client)

    assert (few[1], many[1]) == (3, 25)  # one page
    assert many[0] == few[0]


def test_opening_a_message_marks_it_read_and_follows_its_link(org, as_user):
    notification = tell(org.head, link="/cases/projects/5/")[0]

    response = as_user(org.head).post(reverse("notifications:open", args=[notification.pk]))

    assert response.status_code == 302
    assert response["Location"] == "/cases/projects/5/"
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_opening_a_message_without_a_link_goes_back_to_the_inbox(org, as_user):
    notification = tell(org.head, link="")[0]

    response = as_user(org.head).post(reverse("notifications:open", args=[notification.pk]))

    assert response["Location"] == INBOX


def test_opening_another_persons_message_is_not_found_and_leaves_it_unread(org, as_user):
    theirs = tell(org.staff)[0]

    response = as_user(org.head).post(reverse("notifications:open", args=[theirs.pk]))

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read_marks_the_readers_messages_only(org, as_user):
    tell(org.head, times=3)
    theirs = tell(org.staff)[0]

    response = as_user(org.head).post(reverse("notifications:read_all"))

    assert response.status_code == 302
    assert not Notification.objects.filter(recipient=org.head.user, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_after_mark_all_read_the_bell_shows_no_number(org, as_user):
    tell(org.head, times=2)
    client = as_user(org.head)

    client.post(reverse("notifications:read_all"))

    assert bell(client.get(INBOX)) is None


def test_the_inbox_needs_a_login(client, db):
    response = client.get(INBOX)

    assert response.status_code == 302
    assert "login" in response["Location"]


# The preferences page


def preference_form(**changes):
    """Every channel of every kind on, then ``changes``."""
    data = {"language": "", "daily_digest": ""}
    for key in messages.REGISTRY:
        data[f"{key}__email"] = "on"
        data[f"{key}__webhook"] = "on"
    data.update(changes)
    return {name: value for name, value in data.items() if value != ""}


def test_the_preferences_page_shows_every_kind_of_message(org, as_user):
    response = as_user(org.head).get(reverse("notifications:preferences"))

    assert response.status_code == 200
    page = response.content.decode()
    for key in messages.REGISTRY:
        assert f'name="{key}__email"' in page
        assert f'name="{key}__webhook"' in page


def test_the_preferences_page_saves_language_digest_and_channels(org, as_user):
    form = preference_form(language="zh-hans", daily_digest="on", report_due__email="", reminder__webhook="")

    response = as_user(org.head).post(reverse("notifications:preferences"), form)

    assert response.status_code == 302
    preference = Preference.objects.get(user=org.head.user)
    assert (preference.language, preference.daily_digest) == ("zh-hans", True)
    assert preference.channels_off == {"report_due": ["email"], "reminder": ["webhook"]}


def test_the_preferences_page_shows_what_was_saved(org, as_user):
    services.set_preferences(user=org.head.user, language="zh-hans", channels_off={"report_due": ["email"]})

    page = as_user(org.head).get(reverse("notifications:preferences")).content.decode()

    assert re.search(r'<input type="checkbox" name="report_due__email"(?![^>]*checked)[^>]*>', page)
    assert re.search(r'<input type="checkbox" name="report_due__webhook"[^>]*checked[^>]*>', page)
    assert re.search(r'<option value="zh-hans"[^>]*selected', page)


def test_notify_honours_what_the_preferences_page_saved(org, as_user):
    org.head.user.email = "head@example.org"
    org.head.user.save()
    as_user(org.head).post(
        reverse("notifications:preferences"), preference_form(daily_digest="on", reminder__email="")
    )

    services.notify(recipients=[org.head.user], key="report_due", context=REPORT)
    services.notify(recipients=[org.head.user], key="reminder", context={"task": "T"})

    rows = Delivery.objects.filter(notification__recipient=org.head.user)
    assert list(rows.values_list("notification__key", "state")) == [("report_due", DeliveryState.DIGEST)]


# The API


API = reverse("api:notification-list")


def api_ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_the_api_lists_only_the_readers_notifications(org, as_user):
    mine = tell(org.head, times=2)
    read(mine[0])
    tell(org.staff)

    response = as_user(org.head).get(API)

    assert sorted(api_ids(response)) == sorted(n.pk for n in mine)


def test_an_api_notification_has_its_title_body_link_and_read_flag(org, as_user):
    notification = tell(org.head)[0]

    (row,) = as_user(org.head).get(API).json()["results"]

    assert row["id"] == notification.pk
    assert row["key"] == "report_due"
    assert row["title"] == "Monthly report due 2026-06-10: CASE-5"
    assert row["body"] == "The monthly progress report of CASE-5 for 2026-05 is due 2026-06-10."
    assert row["link"] == "/cases/projects/5/"
    assert (row["read"], row["read_at"], row["urgent"]) == (False, None, False)


def test_the_api_renders_in_the_requests_language(org, as_user):
    tell(org.head)

    (row,) = as_user(org.head).get(API, HTTP_ACCEPT_LANGUAGE="zh-hans").json()["results"]

    assert row["title"] == "月报将于 2026-06-10 截止：CASE-5"


def test_the_api_lists_unread_ones_only_when_asked(org, as_user):
    unread = tell(org.head)[0]
    read(tell(org.head)[0])

    assert api_ids(as_user(org.head).get(API, {"unread": "true"})) == [unread.pk]


def test_the_api_filters_by_kind_of_message(org, as_user):
    tell(org.head)
    docking = tell(org.head, key="docking_update", context=DOCKING)[0]

    assert api_ids(as_user(org.head).get(API, {"key": "docking_update"})) == [docking.pk]


def test_the_api_counts_the_readers_unread_notifications(org, as_user):
    tell(org.head, times=3)
    read(tell(org.head)[0])
    tell(org.staff, times=2)

    response = as_user(org.head).get(reverse("api:notification-unread-count"))

    assert response.status_code == 200
    assert response.json() == {"unread": 3}


def test_the_api_marks_one_notification_read(org, as_user):
    notification, other = tell(org.head, times=2)

    response = as_user(org.head).post(reverse("api:notification-read", args=[notification.pk]))

    assert response.status_code == 200
    assert response.json()["read"] is True
    notification.refresh_from_db()
    other.refresh_from_db()
    assert notification.read_at is not None
    assert other.read_at is None


def test_the_api_marks_all_of_the_readers_notifications_read(org, as_user):
    tell(org.head, times=3)
    theirs = tell(org.staff)[0]

    response = as_user(org.head).post(reverse("api:notification-read-all"))

    assert response.json() == {"marked": 3}
    assert not Notification.objects.filter(recipient=org.head.user, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


@pytest.mark.parametrize("how", ["get", "read"])
def test_another_persons_notification_is_not_found_in_the_api(org, as_user, how):
    theirs = tell(org.staff)[0]
    client = as_user(org.head)

    if how == "get":
        response = client.get(reverse("api:notification-detail", args=[theirs.pk]))
    else:
        response = client.post(reverse("api:notification-read", args=[theirs.pk]))

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_api_needs_a_login(client, db):
    response = client.get(API)

    assert response.status_code in (401, 403)


PREFERENCES = reverse("api:notification-preferences")


def test_the_api_shows_the_readers_preferences(org, as_user):
    services.set_preferences(user=org.head.user, language="en", daily_digest=True, channels_off={"reminder": ["email"]})

    response = as_user(org.head).get(PREFERENCES)

    assert response.status_code == 200
    assert response.json() == {"language": "en", "daily_digest": True, "channels_off": {"reminder": ["email"]}}


def test_the_api_changes_the_readers_preferences(org, as_user):
    response = as_user(org.head).put(
        PREFERENCES,
        {"language": "zh-hans", "daily_digest": True, "channels_off": {"report_due": ["email", "webhook"]}},
        content_type="application/json",
    )

    assert response.status_code == 200
    preference = Preference.objects.get(user=org.head.user)
    assert (preference.language, preference.daily_digest) == ("zh-hans", True)
    assert preference.channels_off == {"report_due": ["email", "webhook"]}


@pytest.mark.parametrize(
    "data",
    [{"channels_off": {"no_such_kind": ["email"]}}, {"language": "fr"}, {"channels_off": {"reminder": ["fax"]}}],
    ids=["unknown kind", "unknown language", "unknown channel"],
)
def test_the_api_refuses_preferences_it_does_not_know(org, as_user, data):
    response = as_user(org.head).put(PREFERENCES, data, content_type="application/json")

    assert response.status_code == 400
    assert not Preference.objects.filter(user=org.head.user).exists()


# The admin's list of kinds


def test_the_admin_lists_every_kind_of_message(client, db):
    client.force_login(User.objects.create_superuser("root", "root@example.org", "a-Long-test-passw0rd"))

    response = client.get(reverse("admin:notifications_notification_kinds"))

    assert response.status_code == 200
    page = response.content.decode()
    for key in messages.REGISTRY:
        assert f"<code>{key}</code>" in page


def test_the_admins_list_of_kinds_is_not_for_other_people(org, as_user):
    response = as_user(org.secretariat).get(reverse("admin:notifications_notification_kinds"))

    assert response.status_code == 302
    assert "login" in response["Location"]
