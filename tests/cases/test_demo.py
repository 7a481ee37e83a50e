"""The demo city: plausible, over every stage, built once, with the seven demo logins; its cases keep
to their plans and its approvals to their time, but for the few that tell the story of a lag."""

import calendar
import datetime
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from cases import guards, selectors
from cases.filters import horizon_of
from cases.models import (
    AnnualPlan,
    AuditEvent,
    Blocker,
    BlockerState,
    KeyProject,
    Person,
    PreworkItem,
    PreworkState,
    ProjectType,
    Stage,
    Unit,
    UnitKind,
    project_code_problems,
)
from workflow.engine.calendar import WorkingCalendar
from workflow.engine.models import TaskClock, TaskKind

ACTIVE = [Stage.PREWORK, Stage.DOCKING, Stage.FINANCING, Stage.CONSTRUCTION]
BLOCKER_KINDS = [TaskKind.BLOCKER_TRIAGE, TaskKind.BLOCKER_INPUT, TaskKind.BLOCKER_RESOLVE, TaskKind.BLOCKER_VERIFY]


def test_seed_demo_builds_a_city_once_with_every_stage_and_the_demo_logins(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    call_command("seed_demo", stdout=None)

    government = Unit.objects.exclude(kind=UnitKind.ENTERPRISE)
    assert 22 <= government.count() <= 30
    assert 35 <= Person.objects.count() <= 50
    assert KeyProject.objects.count() >= 80
    stages = dict(KeyProject.objects.values_list("stage").annotate(n=Count("pk")).order_by())
    assert set(stages) == set(Stage.values)
    for username in ["secretariat", "supervisor", "leader", "head", "staff", "bank", "owner"]:
        assert User.objects.get(username=username).check_password("demo"), username
    assert PreworkItem.objects.exists()
    assert set(Blocker.objects.values_list("state", flat=True)) == set(BlockerState.values)
    # Every project past the reserve got there through the services, so its history says so.
    selected = KeyProject.objects.exclude(stage__in=[Stage.IDEA, Stage.RESERVE, Stage.WITHDRAWN])
    assert AuditEvent.objects.filter(transition="select").count() == selected.count()
    # The pipeline: ideas proposed by the units' heads, a reserve pool of about 150 with their
    # checklists worked to every point, planned starts over the pool's five years, in clusters.
    ideas = KeyProject.objects.filter(stage=Stage.IDEA)
    assert 10 <= ideas.count() <= 20
    assert ideas.filter(created_by__person__role="unit_head").count() >= ideas.count() // 2
    pool = selectors.pool_list(User.objects.get(username="secretariat"))
    reserve = [row for row in pool if row.stage == Stage.RESERVE]
    assert 140 <= len(reserve) <= 170
    settled = {row.readiness_settled * 10 // row.readiness_total for row in reserve if row.readiness_total}
    assert {0, 10} <= settled and len(settled) >= 6  # none, all, and most shares between
    assert {horizon_of(row.planned_start) for row in reserve} >= {"execution", "rolling", "reserve"}
    assert any(row.entry_threshold and row.total_investment < row.entry_threshold for row in pool)
    assert KeyProject.objects.filter(industry_cluster__isnull=False).count() >= 100
    assert set(KeyProject.objects.values_list("project_type", flat=True)) == set(ProjectType.values)
    withdrawn = KeyProject.objects.filter(stage=Stage.WITHDRAWN)
    assert AuditEvent.objects.filter(transition="withdraw").exclude(reason="").count() == withdrawn.count()
    assert not AuditEvent.objects.filter(at__gt=timezone.now()).exists()  # history, none of it ahead of now
    # The figures hold together.
    for project in KeyProject.objects.all():
        assert project.investment_completed_total <= project.total_investment
        assert project.capital_gap <= project.total_investment
    # Every case carries a project code of the national approval platform, of either form, in the
    # city's regions, each its own.
    codes = list(KeyProject.objects.values_list("project_code", flat=True))
    assert all(code and not project_code_problems(code) for code in codes), codes
    assert len(set(codes)) == len(codes)
    assert any(code[:4] in ("2019", "2020") for code in codes)  # the old form, issued before November 2020
    assert any(int(code[2:4]) <= 12 and code[:2] >= "21" for code in codes)  # the current form, YYMM
    # The walk-through cases: the park's case waits on pre-work, and one is ready to select.
    first = KeyProject.objects.order_by("pk").first()
    assert first.stage == Stage.PREWORK and first.lead_unit.short_name == "高新区"
    assert guards.open_docking(first)
    assert not guards.select(KeyProject.objects.order_by("pk")[1])

    before = (KeyProject.objects.count(), AuditEvent.objects.count(), Unit.objects.count())
    call_command("seed_demo", stdout=None)
    assert (KeyProject.objects.count(), AuditEvent.objects.count(), Unit.objects.count()) == before


def _share_of_year(day):
    return Decimal(day.timetuple().tm_yday) / (366 if calendar.isleap(day.year) else 365)


def test_the_demo_cases_keep_to_their_plans_and_their_approvals_to_their_time_but_a_few(db):
    # Given the demo city, seeded today
    call_command("seed_demo", stdout=None)
    now = timezone.now()
    cal = WorkingCalendar.load()

    # Then the investment recorded month by month, up to the months the monthly cycles report on
    # (the third month back), keeps most active cases within 10 points of their plan's pace ...
    this_month = timezone.localdate().replace(day=1)
    recorded = this_month
    for _step in range(3):
        recorded = (recorded - datetime.timedelta(days=1)).replace(day=1)
    month_end = recorded.replace(day=calendar.monthrange(recorded.year, recorded.month)[1])
    paces = [
        plan.completed_investment / (plan.planned_investment * _share_of_year(month_end))
        for plan in AnnualPlan.objects.filter(project__stage__in=ACTIVE, year=recorded.year, planned_investment__gt=0)
    ]
    assert len(paces) == KeyProject.objects.filter(stage__in=ACTIVE).count() >= 55
    on_pace = [pace for pace in paces if Decimal("0.88") <= pace <= Decimal("1.15")]
    assert len(on_pace) >= 0.7 * len(paces)
    # ... a few lag, one of them badly, and none has stopped
    assert 3 <= len([pace for pace in paces if pace < Decimal("0.88")]) <= 8
    assert min(paces) < Decimal("0.64") and min(paces) > Decimal("0.5")

    # And the cases selected are done with most of their pre-work, each approval in its time ...
    selected = KeyProject.objects.exclude(stage__in=[Stage.IDEA, Stage.RESERVE, Stage.WITHDRAWN])
    required = PreworkItem.objects.filter(project__in=selected, required=True)
    settled = required.filter(state__in=[PreworkState.DONE, PreworkState.WAIVED])
    assert settled.count() >= 0.8 * required.count()
    approvals = TaskClock.objects.filter(kind=TaskKind.PREWORK, closed_at__isnull=True)
    assert 10 <= approvals.count() <= 40
    late = sorted(cal.overdue_days(clock.due_at, now) for clock in approvals if clock.due_at < now)
    # ... but the four left overdue, up to 13 working days (fewer across a holiday), one for
    # each rung of the ladder; any other at most a day late (a make-up working day)
    assert 1 <= len(late) <= 5 and all(days <= 1 for days in late[:-4])
    assert 5 <= late[-1] <= 15
    # And the open blockers are recent: none of their tasks is more than a few working days late
    blocker_clocks = TaskClock.objects.filter(kind__in=BLOCKER_KINDS, closed_at__isnull=True)
    assert blocker_clocks.exists()
    assert all(cal.overdue_days(clock.due_at, now) <= 3 for clock in blocker_clocks)
    assert not [
        clock for clock in TaskClock.objects.filter(closed_at__isnull=True) if cal.overdue_days(clock.due_at, now) > 15
    ]
