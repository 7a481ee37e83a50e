"""The daily digest: one email per person with everything that waited for it."""

import pytest
from django.core import mail
from django.utils import timezone

from notifications import delivery as sending
from notifications import services, tasks
from notifications.models import Delivery, DeliveryState, Preference
from tests.notifications.factories import RecipientFactory

REPORT = {"case": "CASE-5", "month": "2026-05", "due": "2026-06-10"}
DOCKING = {"case": "CASE-6", "institution": "BANK-B", "state": "STATE-S"}


def digest_reader(**preference):
    person = RecipientFactory()
    Preference.objects.create(user=person, daily_digest=True, **preference)
    return person


@pytest.fixture
def waiting(db):
    """Two readers of the digest: Ann with two messages waiting, Bo with one; Cy reads single emails."""
    ann, bo = digest_reader(), digest_reader()
    cy = RecipientFactory()
    services.notify(recipients=[ann, bo, cy], key="report_due", context=REPORT, link="/cases/projects/5/")
    services.notify(recipients=[ann], key="docking_update", context=DOCKING, link="/cases/projects/6/")
    return ann, bo, cy


def mail_to(person):
    return [m for m in mail.outbox if m.to == [person.email]]


def test_the_digest_sends_one_email_per_person_who_has_items_waiting(waiting):
    ann, bo, cy = waiting

    assert sending.send_digests() == 2

    assert len(mail_to(ann)) == 1
    assert len(mail_to(bo)) == 1
    assert mail_to(cy) == []


def test_a_digest_email_carries_every_item_waiting_for_its_reader(waiting):
    ann, _bo, _cy = waiting

    sending.send_digests()

    (email,) = mail_to(ann)
    assert email.subject == f"[Key projects] Your daily digest of {timezone.localdate().isoformat()}"
    assert "Monthly report due 2026-06-10: CASE-5" in email.body
    assert "Financing docking: CASE-6 with BANK-B" in email.body
    html = email.alternatives[0][0]
    assert "Monthly report due 2026-06-10: CASE-5" in html
    assert "Financing docking: CASE-6 with BANK-B" in html


def test_a_digest_email_carries_only_its_readers_items(waiting):
    _ann, bo, _cy = waiting

    sending.send_digests()

    (email,) = mail_to(bo)
    assert "CASE-5" in email.body
    assert "CASE-6" not in email.body


def test_the_digest_marks_its_items_sent(waiting):
    ann, bo, _cy = waiting

    sending.send_digests()

    for person in (ann, bo):
        rows = Delivery.objects.filter(notification__recipient=person)
        assert set(rows.values_list("state", flat=True)) == {DeliveryState.SENT}
        assert not rows.filter(sent_at__isnull=True).exists()


def test_the_digest_leaves_single_emails_alone(waiting):
    _ann, _bo, cy = waiting

    sending.send_digests()

    assert Delivery.objects.get(notification__recipient=cy).state == DeliveryState.PENDING


def test_a_second_digest_run_sends_nothing(waiting):
    sending.send_digests()
    sent = len(mail.outbox)

    assert sending.send_digests() == 0
    assert len(mail.outbox) == sent


def test_the_digest_task_sends_the_digests(waiting):
    tasks.send_digests.apply()

    assert len(mail.outbox) == 2
    assert not Delivery.objects.filter(state=DeliveryState.DIGEST).exists()


def test_urgent_messages_are_not_held_for_the_digest(db, django_capture_on_commit_callbacks):
    ann = digest_reader()

    with django_capture_on_commit_callbacks(execute=True):
        services.notify(
            recipients=[ann],
            key="escalated_to_you",
            context={"task": "TASK-B", "case": "CASE-2", "days": "3", "owner": "OWNER-X"},
        )

    assert [m.subject for m in mail_to(ann)] == ["[Key projects] Overdue and escalated to you: TASK-B"]
    assert sending.send_digests() == 0


def test_a_digest_is_written_in_its_readers_language(db):
    ann = digest_reader(language="zh-hans")
    services.notify(recipients=[ann], key="report_due", context=REPORT)

    sending.send_digests()

    (email,) = mail_to(ann)
    assert email.subject == f"[重点项目] {timezone.localdate().isoformat()} 每日汇总"
    assert "月报将于 2026-06-10 截止：CASE-5" in email.body
