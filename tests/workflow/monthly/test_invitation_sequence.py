"""A meeting published again reaches the invitees' calendars as an update of the same entry:
the same uid with a higher SEQUENCE, which calendar clients require before they replace it."""

from django.core import mail

from tests.workflow.monthly.test_meetings import _at_now, data, invitations, meeting, with_emails  # noqa: F401
from workflow.monthly import meetings


def test_a_republished_meeting_keeps_its_uid_and_raises_its_sequence(org, data, meeting, django_capture_on_commit_callbacks):  # noqa: F811
    with_emails(org)
    with django_capture_on_commit_callbacks(execute=True):
        meetings.meeting_publish(meeting=meeting, actor=org.secretariat.user, version=1)
    first = invitations()["leader@example.gov.cn"]
    meetings.meeting_update(meeting=meeting, actor=org.secretariat.user, version=2, place="二楼会议室")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        meetings.meeting_publish(meeting=meeting, actor=org.secretariat.user, version=3)

    second = invitations()["leader@example.gov.cn"]
    assert str(second["uid"]) == str(first["uid"])
    assert int(second["sequence"]) > int(first["sequence"])
