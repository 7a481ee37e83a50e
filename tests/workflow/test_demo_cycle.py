"""The demo's monthly cycles: last month's complete and this month's so far, through the services,
once; what `make run` shows on the cycle, report, meeting and bulletin pages."""

import datetime

import time_machine
from django.core.management import call_command
from django.utils import timezone

from cases.demo import seed_demo
from workflow.demo import seed_cycle
from workflow.models import Bulletin, CycleRun, Decision, LightSnapshot, Meeting, MonthlyReport

D = datetime.date


def test_the_demo_runs_two_cycles_once(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with time_machine.travel(timezone.make_aware(datetime.datetime(2026, 11, 22, 9)), tick=False):
        seed_demo()
        assert seed_cycle(today=D(2026, 11, 22))
        assert not seed_cycle(today=D(2026, 11, 22))
        call_command("seed_cycle", stdout=None)
    for period in (D(2026, 9, 1), D(2026, 10, 1)):
        reports = MonthlyReport.objects.filter(month=period)
        assert reports.count() >= 50
        assert reports.filter(state=MonthlyReport.State.ACCEPTED).count() >= 0.8 * reports.count()
        assert reports.filter(state=MonthlyReport.State.OPEN).exists()  # some never came: the ladder has work
        assert LightSnapshot.objects.filter(month=period).count() == reports.count()
        meeting = Meeting.objects.get(month=period)
        assert meeting.state == Meeting.State.MINUTED and meeting.items.exclude(minutes="").exists()
        assert Decision.objects.filter(meeting=meeting).count() == 3
        assert Bulletin.objects.get(month=period).state == Bulletin.State.ISSUED
    assert CycleRun.objects.filter(finished_at__isnull=False).count() == 12
    # Last month's open decisions carry over onto this month's agenda; the done one does not.
    carried = set(
        Meeting.objects.get(month=D(2026, 10, 1)).items.filter(section="decisions").values_list("source", flat=True)
    )
    september = Decision.objects.filter(meeting__month=D(2026, 9, 1))
    assert {f"decision:{d.pk}" for d in september.filter(state=Decision.State.OPEN)} <= carried
    assert september.filter(state=Decision.State.DONE).count() == 1
