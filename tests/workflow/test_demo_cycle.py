"""The demo's monthly cycles: last month's complete and this month's so far, through the services,
once; what `make run` shows on the cycle, report, lights, overdue, meeting and bulletin pages."""

import datetime
from collections import Counter
from decimal import Decimal

import time_machine
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db.models import F, Max
from django.utils import timezone
from rest_framework.test import APIClient

from cases.financing.demo import seed_demo
from cases.models import AuditEvent
from workflow.coordination.models import Interview, Source, SupervisionOrder
from workflow.demo import seed_cycle
from workflow.engine import ladder as escalation
from workflow.engine import selectors
from workflow.engine.calendar import WorkingCalendar
from workflow.engine.models import Escalation, TaskClock, TaskKind
from workflow.monthly.models import (
    Bulletin,
    CycleRun,
    Decision,
    LightRule,
    LightSnapshot,
    Meeting,
    MonthlyReport,
)

D = datetime.date
TODAY = D(2026, 11, 22)  # a Sunday: the cycle of November has run, the lights judge October
NOW = timezone.make_aware(datetime.datetime(2026, 11, 22, 9))
SEPTEMBER, OCTOBER = D(2026, 9, 1), D(2026, 10, 1)


def test_the_demo_runs_two_cycles_once(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with time_machine.travel(NOW, tick=False):
        seed_demo()
        assert seed_cycle(today=TODAY)
        assert not seed_cycle(today=TODAY)
        call_command("seed_cycle", stdout=None)
    for period in (SEPTEMBER, OCTOBER):
        reports = MonthlyReport.objects.filter(month=period)
        assert reports.count() >= 50
        assert reports.filter(state=MonthlyReport.State.ACCEPTED).count() >= 0.95 * reports.count()
        # A few late, one sent back and corrected.
        assert 3 <= reports.filter(submitted_at__gt=F("due_at")).count() <= 5
        returned = AuditEvent.objects.filter(transition="return", object_id__in=[str(pk) for pk in reports.values_list("pk", flat=True)])
        assert returned.count() == 1
        assert LightSnapshot.objects.filter(month=period).count() == reports.count()
        meeting = Meeting.objects.get(month=period)
        assert meeting.state == Meeting.State.MINUTED and meeting.items.exclude(minutes="").exists()
        assert Decision.objects.filter(meeting=meeting).count() == 3
        assert Bulletin.objects.get(month=period).state == Bulletin.State.ISSUED
    # October's report of one case never came (the ladder has work), and this cycle's of the case
    # the park leads and the demo's owner owns is still to write; September's all came.
    owner = User.objects.get(username="owner").person
    head = User.objects.get(username="head").person
    still_open = MonthlyReport.objects.filter(month=OCTOBER, state=MonthlyReport.State.OPEN)
    assert still_open.count() == 2
    assert still_open.filter(project__owner_id=owner.unit_id, project__lead_unit_id=head.unit_id).count() == 1
    assert not MonthlyReport.objects.filter(month=SEPTEMBER, state=MonthlyReport.State.OPEN).exists()
    assert CycleRun.objects.filter(finished_at__isnull=False).count() == 12
    # August's lights too, as computed on their day, so that the trend looks back.
    assert LightSnapshot.objects.filter(month=D(2026, 8, 1)).count() >= 50
    # Last month's open decision carries over onto this month's agenda; the two done do not.
    carried = set(Meeting.objects.get(month=OCTOBER).items.filter(section="decisions").values_list("source", flat=True))
    september = Decision.objects.filter(meeting__month=SEPTEMBER)
    assert {f"decision:{d.pk}" for d in september.filter(state=Decision.State.OPEN)} <= carried
    assert september.filter(state=Decision.State.DONE).count() == 2
    # Nothing is dated after now.
    assert not AuditEvent.objects.filter(at__gt=NOW).exists()
    # Every demo login has work waiting in My work.
    for username in ["secretariat", "supervisor", "leader", "head", "staff", "bank", "owner"]:
        client = APIClient()
        client.force_login(User.objects.get(username=username))
        with time_machine.travel(NOW, tick=False):
            assert client.get("/api/my-work/").json()["count"] > 0, username


def _overdue_levels(now):
    """{clock: highest level fired} of the open, overdue clocks."""
    open_clocks = TaskClock.objects.filter(closed_at__isnull=True, due_at__lt=now)
    fired = dict(
        Escalation.objects.filter(clock__in=open_clocks).values("clock").annotate(top=Max("level")).values_list("clock", "top")
    )
    return {clock: fired.get(clock.pk) for clock in open_clocks}


def test_the_demo_lights_october_mostly_green_and_a_few_overdue_items_climb_the_ladder(db, django_capture_on_commit_callbacks):
    # Given the demo city and its cycles as of 22 November, and the sweep `make run` runs after seeding
    # (the orders' and interviews' flows start on commit, as a worker would start them)
    with time_machine.travel(NOW, tick=False):
        seed_demo()
        seed_cycle(today=TODAY)
        with django_capture_on_commit_callbacks(execute=True):
            batches = []
            escalation.sweep(enqueue=batches.append)
            for batch in batches:
                escalation.escalate_batch(batch)

        # Then October is mostly green, some yellow, a handful red ...
        october = LightSnapshot.objects.filter(month=OCTOBER)
        lights = Counter(october.values_list("light", flat=True))
        total = october.count()
        assert total >= 55
        assert 0.70 <= lights["green"] / total <= 0.80
        assert 0.13 <= lights["yellow"] / total <= 0.20
        assert 3 <= lights["red"] <= 6
        # ... each red for a reason one reads: a big lag, a start missed by months, an overdue order
        reds = list(october.filter(light="red"))
        red_reasons = {reason["measure"] for red in reds for reason in red.reasons if reason["light"] == "red"}
        assert all(any(reason["light"] == "red" for reason in red.reasons) for red in reds)
        assert red_reasons == {LightRule.Check.LAG, LightRule.Check.START_MISSED, LightRule.Check.ORDER_OVERDUE}
        # ... and one red since September, for which the rule proposed an interview
        twice = october.filter(consecutive_red__gte=2)
        assert twice.count() >= 1
        assert Interview.objects.filter(source=Source.RULE, project__in=twice.values("project")).exists()

        # And the overdue board shows every level without being flooded
        levels = _overdue_levels(timezone.now())
        assert 5 <= len(levels) <= 12
        per_level = Counter(levels.values())
        assert {1, 2, 3, 4} <= set(per_level)
        assert all(per_level[level] <= 4 for level in (1, 2, 3, 4))
        assert 2 <= SupervisionOrder.objects.filter(source=Source.LADDER).count() <= 5
        assert 1 <= Interview.objects.filter(source=Source.LADDER).count() <= 4
        # ... of which the pre-work approvals: one at each level, none more than 15 working days late
        cal = WorkingCalendar.load()
        prework = {clock: level for clock, level in levels.items() if clock.kind == TaskKind.PREWORK}
        assert sorted(prework.values()) == [1, 2, 3, 4]
        assert max(cal.overdue_days(clock.due_at, timezone.now()) for clock in prework) <= 15

        # And the supervisor's orders: one unanswered past October's end (its case red for it), then
        # answered and closed; one answered lately and waiting for the supervisor's evaluation
        issued = SupervisionOrder.objects.filter(source=Source.SUPERVISOR)
        assert set(issued.values_list("state", flat=True)) == {SupervisionOrder.State.CLOSED, SupervisionOrder.State.ANSWERED}
        closed = issued.get(state=SupervisionOrder.State.CLOSED)
        assert closed.respond_by < timezone.make_aware(datetime.datetime(2026, 11, 1)) < closed.answered_at
        assert october.get(project=closed.project).light == "red"

        # And every demo login has work waiting
        for username in ["secretariat", "supervisor", "leader", "head", "staff"]:
            user = User.objects.get(username=username)
            assert list(selectors.inbox(user)) + list(selectors.queue(user)), username

        # And October's bulletin spreads its scores: most units well, one on the black list
        scores = [score.total for score in Bulletin.objects.get(month=OCTOBER).scores.exclude(total__isnull=True)]
        assert sorted(scores)[len(scores) // 2] >= Decimal(80)
        assert min(scores) < Decimal(60) and max(scores) >= Decimal(95)
        assert Bulletin.objects.get(month=OCTOBER).scores.filter(listing="black").exists()
