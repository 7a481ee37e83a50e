"""notify: the one way in. Outbox rows in the caller's transaction, delivery after commit."""

import datetime
import math

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from icalendar import Calendar

from notifications import services, tasks
from notifications.models import Delivery, DeliveryState, Notification, Preference
from tests.notifications.factories import RecipientFactory, WebhookFactory

REPORT = {"case": "CASE-5", "month": "2026-05", "due": "2026-06-10"}
ESCALATION = {"task": "TASK-B", "case": "CASE-2", "days": "3", "owner": "OWNER-X"}
INTERVIEW = {"leader": "LEADER-L", "case": "CASE-4", "reason": "REASON-R"}
URGENT = {"escalated_to_you": ESCALATION, "interview_proposed": INTERVIEW}
MEETING = {"meeting": "MEETING-M", "when": "2026-06-12 09:30", "place": "ROOM-301"}
EVENT = {
    "uid": "meeting-2026-06@keyprojects.test",
    "sequence": 3,
    "summary": "MEETING-M",
    "start": "2026-06-12T09:30:00+08:00",
    "end": "2026-06-12T11:30:00+08:00",
    "location": "ROOM-301",
}


def report_due(recipients, **kwargs):
    return services.notify(recipients=recipients, key="report_due", context=REPORT, link="/cases/projects/7/", **kwargs)


def deliveries_of(user):
    return Delivery.objects.filter(notification__recipient=user)


# The outbox rows


def test_notify_writes_one_notification_per_recipient(people):
    report_due(people)

    rows = Notification.objects.filter(key="report_due")
    assert sorted(rows.values_list("recipient_id", flat=True)) == sorted(p.pk for p in people)
    assert {(n.context["case"], n.link, n.read_at) for n in rows} == {("CASE-5", "/cases/projects/7/", None)}


def test_notify_writes_one_pending_email_delivery_per_recipient(people):
    report_due(people)

    for person in people:
        assert list(deliveries_of(person).values_list("channel", "state")) == [("email", "pending")]


def test_a_person_named_twice_is_told_once(person):
    report_due([person, person.pk])

    assert Notification.objects.filter(recipient=person).count() == 1
    assert deliveries_of(person).count() == 1


def test_an_inactive_user_gets_nothing(people):
    gone = RecipientFactory(is_active=False)

    report_due([*people, gone])

    assert not Notification.objects.filter(recipient=gone).exists()
    assert not deliveries_of(gone).exists()
    assert Notification.objects.count() == len(people)


def test_a_user_without_an_email_address_gets_the_inbox_entry_but_no_email(db):
    nameless = RecipientFactory(email="")

    report_due([nameless])

    assert Notification.objects.filter(recipient=nameless).count() == 1
    assert not deliveries_of(nameless).exists()


def test_an_unknown_kind_of_message_writes_nothing(people):
    with pytest.raises(KeyError):
        services.notify(recipients=people, key="no_such_kind", context={})

    assert not Notification.objects.exists()


def test_the_channels_argument_limits_the_channels_besides_the_inbox(person):
    hook = WebhookFactory()

    report_due([person], channels=["webhook"], webhooks={person.pk: [hook.pk]})

    assert list(deliveries_of(person).values_list("channel", flat=True)) == [f"webhook:{hook.pk}"]


# Preferences


def test_an_email_switched_off_for_a_kind_is_not_written_for_that_kind(person):
    Preference.objects.create(user=person, channels_off={"report_due": ["email"]})

    report_due([person])

    assert Notification.objects.filter(recipient=person, key="report_due").count() == 1
    assert not deliveries_of(person).exists()


def test_a_channel_switched_off_for_one_kind_still_works_for_the_others(person):
    Preference.objects.create(user=person, channels_off={"report_due": ["email"]})

    services.notify(recipients=[person], key="docking_update", context={"case": "CASE-6"})

    assert list(deliveries_of(person).values_list("channel", flat=True)) == ["email"]


def test_a_webhook_switched_off_for_a_kind_is_not_written_for_that_kind(person):
    hook = WebhookFactory()
    Preference.objects.create(user=person, channels_off={"report_due": ["webhook"]})

    report_due([person], webhooks={person.pk: [hook.pk]})

    assert list(deliveries_of(person).values_list("channel", flat=True)) == ["email"]


def test_with_the_daily_digest_a_non_urgent_email_waits_for_the_digest(person):
    Preference.objects.create(user=person, daily_digest=True)

    report_due([person])

    assert list(deliveries_of(person).values_list("channel", "state")) == [("email", DeliveryState.DIGEST)]


@pytest.mark.parametrize("key", sorted(URGENT))
def test_with_the_daily_digest_an_urgent_email_still_goes_out_at_once(person, key):
    Preference.objects.create(user=person, daily_digest=True)

    services.notify(recipients=[person], key=key, context=URGENT[key])

    assert list(deliveries_of(person).values_list("state", flat=True)) == [DeliveryState.PENDING]
    assert Notification.objects.get(recipient=person).urgent is True


def test_a_digest_email_is_not_sent_after_commit(person, django_capture_on_commit_callbacks):
    Preference.objects.create(user=person, daily_digest=True)

    with django_capture_on_commit_callbacks(execute=True):
        report_due([person])

    assert mail.outbox == []
    assert deliveries_of(person).get().state == DeliveryState.DIGEST


# Webhooks


def test_each_webhook_of_a_recipient_gets_one_delivery_for_them(people):
    first, second = WebhookFactory(), WebhookFactory()
    alice, bob, carol = people

    report_due(people, channels=["webhook"], webhooks={alice.pk: [first.pk, second.pk, first.pk], bob.pk: [second.pk]})

    rows = set(Delivery.objects.values_list("notification__recipient_id", "webhook_id", "channel"))
    assert rows == {
        (alice.pk, first.pk, f"webhook:{first.pk}"),
        (alice.pk, second.pk, f"webhook:{second.pk}"),
        (bob.pk, second.pk, f"webhook:{second.pk}"),
    }
    assert not deliveries_of(carol).exists()


# After commit


def test_nothing_is_sent_before_the_transaction_commits(people, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report_due(people)

    assert len(callbacks) == 1
    assert mail.outbox == []
    assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.PENDING}


def test_after_commit_the_email_is_sent_and_the_ledger_says_sent(person, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        report_due([person])

    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == [person.email]
    assert email.subject == "[Key projects] Monthly report due 2026-06-10: CASE-5"
    assert "The monthly progress report of CASE-5 for 2026-05 is due 2026-06-10." in email.body
    assert settings.SITE_URL.rstrip("/") + "/cases/projects/7/" in email.body
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html"
    assert "Monthly report due 2026-06-10: CASE-5" in html
    assert 'href="' + settings.SITE_URL.rstrip("/") + '/cases/projects/7/"' in html
    delivery = deliveries_of(person).get()
    assert (delivery.state, delivery.attempts, delivery.last_error) == (DeliveryState.SENT, 1, "")
    assert delivery.sent_at is not None


def test_an_email_is_written_in_the_recipients_language(person, django_capture_on_commit_callbacks):
    Preference.objects.create(user=person, language="zh-hans")

    with django_capture_on_commit_callbacks(execute=True):
        report_due([person])

    email = mail.outbox[0]
    assert email.subject == "[重点项目] 月报将于 2026-06-10 截止：CASE-5"
    assert "CASE-5 2026-05 的月度进展报告将于 2026-06-10 截止。" in email.body


def test_a_line_break_in_the_context_does_not_stop_the_email(person, django_capture_on_commit_callbacks):
    """A blocker's title may hold a line break; an email subject may not."""
    context = {"blocker": "LAND-QUOTA\nPLEASE-COORDINATE", "case": "CASE-8", "unit": "UNIT-U", "due": "2026-08-31"}

    with django_capture_on_commit_callbacks(execute=True):
        services.notify(recipients=[person], key="blocker_assigned", context=context)

    assert deliveries_of(person).get().state == DeliveryState.SENT
    (email,) = mail.outbox
    assert "\n" not in email.subject
    assert "LAND-QUOTA" in email.subject


def test_many_recipients_each_get_their_email_after_commit(db, django_capture_on_commit_callbacks):
    """More than the direct-enqueue limit goes through the dispatch task."""
    crowd = RecipientFactory.create_batch(tasks.DIRECT_ENQUEUE_LIMIT + 5)

    with django_capture_on_commit_callbacks(execute=True):
        report_due(crowd)

    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in crowd)
    assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.SENT}


def invitation(person, capture):
    with capture(execute=True):
        services.notify(recipients=[person], key="meeting_invitation", context=MEETING, event=EVENT)
    (attachment,) = mail.outbox[0].attachments
    return attachment


def test_an_event_rides_along_as_an_icalendar_invitation(person, django_capture_on_commit_callbacks):
    filename, content, mimetype = invitation(person, django_capture_on_commit_callbacks)

    assert filename.endswith(".ics")
    assert mimetype.startswith("text/calendar")
    (entry,) = Calendar.from_ical(content).walk("VEVENT")
    assert str(entry["uid"]) == EVENT["uid"]
    assert int(entry["sequence"]) == 3  # an update replaces the entry only when its sequence grew
    assert str(entry["summary"]) == "MEETING-M"
    assert str(entry["location"]) == "ROOM-301"


def test_the_invitation_starts_and_ends_at_the_instants_given(person, django_capture_on_commit_callbacks):
    """A TZID that the file does not define (no VTIMEZONE) leaves a calendar with a floating time."""
    _filename, content, _mimetype = invitation(person, django_capture_on_commit_callbacks)

    (entry,) = Calendar.from_ical(content).walk("VEVENT")
    assert entry.decoded("dtstart") == datetime.datetime.fromisoformat(EVENT["start"])
    assert entry.decoded("dtend") == datetime.datetime.fromisoformat(EVENT["end"])


def test_a_message_without_an_event_has_no_attachment(person, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(recipients=[person], key="meeting_invitation", context=MEETING)

    assert mail.outbox[0].attachments == []


# Queries


def crowd(size, hook):
    users = User.objects.bulk_create(
        [User(username=f"crowd{size}-{n:04d}", email=f"crowd{size}-{n}@example.org") for n in range(size)]
    )
    Preference.objects.bulk_create([Preference(user=u, daily_digest=n % 2 == 0) for n, u in enumerate(users)])
    return users, {u.pk: [hook.pk] for u in users}


def insert_batches(model, rows):
    """INSERTs that bulk_create needs for ``rows`` rows: SQLite caps a query at 999 parameters."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    return math.ceil(rows / max(connection.ops.bulk_batch_size(fields, [None] * rows), 1))


def notify_queries(users, webhooks):
    with CaptureQueriesContext(connection) as queries:
        report_due(users, webhooks=webhooks)
    return len(queries)


def test_notify_costs_the_same_queries_for_5_and_200_recipients_but_for_forced_insert_batches(db):
    """On PostgreSQL the counts are equal; on SQLite only the INSERTs its parameter limit splits are added."""
    hook = WebhookFactory()
    small = notify_queries(*crowd(5, hook))
    large = notify_queries(*crowd(200, hook))

    forced = (
        insert_batches(Notification, 200)
        - insert_batches(Notification, 5)
        + insert_batches(Delivery, 400)
        - insert_batches(Delivery, 10)
    )
    assert large == small + forced
    assert Delivery.objects.count() == 410
