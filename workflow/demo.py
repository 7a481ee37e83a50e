"""The demo's monthly cycles: last month's cycle complete and this month's as far as its days
have come, each step dated on its working day through the same services people use.

Reports are written by a person of each case's lead unit (a few are late or missing, one is
sent back), the secretariat accepts them, the lights are computed, the agenda drafted and
published, the minutes recorded with decisions that become tasks (one of last month's is done,
the others carry over), and the bulletin scored and issued. Idempotent: a month whose reports
exist is left alone.
"""

import datetime
import random
from decimal import ROUND_DOWN, Decimal

import time_machine
from django.db import transaction
from django.utils import timezone

from cases.models import Person, Role

from . import bulletin, cycle, meetings, reports
from .calendar import WorkingCalendar
from .lights import first_of_month, previous_month
from .models import CycleStep, Decision, Meeting, MonthlyReport

K = CycleStep.Kind
WORK_DONE = ["主体结构施工推进", "设备安装调试", "厂房钢结构吊装完成", "道路路基施工", "管网铺设", "装修及配套工程"]
NEXT_STEPS = ["加快设备进场", "推进竣工验收准备", "完成二次结构施工", "落实下阶段资金计划"]


def _at(day, hour, minute=0):
    return time_machine.travel(
        timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute))), tick=False
    )


class CycleDemo:
    def __init__(self, stdout=None, seed=2026):
        self.stdout = stdout
        self.rng = random.Random(seed)
        self.cal = WorkingCalendar.load()
        self.secretariat = Person.objects.filter(role=Role.SECRETARIAT, user__isnull=False).select_related("user").first()
        self.writers = {}
        for person in Person.objects.filter(role__in=[Role.UNIT_HEAD, Role.UNIT_STAFF], user__isnull=False).select_related(
            "user"
        ).order_by("role", "pk"):
            self.writers.setdefault(person.unit_id, person)

    def say(self, message):
        if self.stdout is not None:
            self.stdout.write(message)

    def day(self, month, kind):
        return cycle.step_date(month, kind, self.cal)

    def run(self, month, kind, today):
        """A step of the cycle of ``month`` on its day, when that day has come."""
        day = self.day(month, kind)
        if day > today:
            return None
        with _at(day, 7, 15):
            return cycle.run_step(kind, month)

    def month(self, month, today):
        period = previous_month(month)
        if MonthlyReport.objects.filter(month=period).exists() or self.day(month, K.REPORTS_OPEN) > today:
            return False
        self.run(month, K.REPORTS_OPEN, today)
        with _at(self.day(month, K.REPORTS_OPEN), 7, 20):
            pending = list(MonthlyReport.objects.filter(month=period, process__isnull=True).values_list("pk", flat=True))
            reports.start_report_flows(pending)
        self.write_reports(month, period, today)
        for kind in (K.REPORTS_DUE, K.LIGHTS):
            self.run(month, kind, today)
        agenda = self.run(month, K.AGENDA, today)
        if agenda is not None:
            self.publish(month, period)
        if self.run(month, K.MEETING, today) is not None:
            self.minutes(month, period)
        scored = self.run(month, K.BULLETIN, today)
        if scored is not None and not scored.error:
            with _at(self.day(month, K.BULLETIN), 16):
                bulletin.bulletin_issue(bulletin=bulletin.Bulletin.objects.get(month=period), actor=self.secretariat.user)
        self.say(f"  the cycle of {month:%Y-%m} (reporting on {period:%Y-%m}) up to {min(today, cycle.step_date(month, K.BULLETIN, self.cal))}")
        return True

    def write_reports(self, month, period, today):
        """Most reports on time, a few late, a few never; one sent back and corrected."""
        due_day = self.day(month, K.REPORTS_DUE)
        returned_one = False
        rows = list(MonthlyReport.objects.filter(month=period).select_related("project").order_by("project__code"))
        for report in rows:
            writer = self.writers.get(report.unit_id)
            roll = self.rng.random()
            if writer is None or roll < 0.08:
                continue  # never written: the ladder escalates it
            offset = -self.rng.randint(0, 3) if roll < 0.85 else self.rng.randint(1, 3)
            day = self.cal.add_working_days_to_date(due_day, offset) if offset >= 0 else self._back(due_day, -offset)
            if day > today:
                continue
            with _at(day, 10, self.rng.randint(0, 59)):
                self._submit(report, writer)
            review_day = self.cal.add_working_days_to_date(day, 1)
            if review_day > today:
                continue
            send_back = not returned_one and roll > 0.5
            with _at(review_day, 15):
                self._review(report, accepted=not send_back)
            if send_back:
                returned_one = True
                with _at(self.cal.add_working_days_to_date(review_day, 1), 11):
                    self._submit(report, writer)
                with _at(self.cal.add_working_days_to_date(review_day, 2), 15):
                    self._review(report, accepted=True)

    def _back(self, day, count):
        for _step in range(count):
            day -= datetime.timedelta(days=1)
            while not self.cal.is_working_day(day):
                day -= datetime.timedelta(days=1)
        return day

    def _figures(self, report):
        project = report.project
        room = project.total_investment - project.investment_completed_total
        month_share = Decimal(self.rng.randint(3, 12)) / Decimal(100)
        amount = min(room, (project.total_investment * month_share / 3)).quantize(Decimal("1"), rounding=ROUND_DOWN)
        before = reports.previous_progress(report) or Decimal(self.rng.randint(5, 40))
        progress = min(Decimal(100), before + Decimal(self.rng.randint(2, 9)))
        return {
            "investment_month": max(amount, Decimal(0)),
            "progress_percent": progress,
            "progress_back_reason": "",
            "work_done": self.rng.choice(WORK_DONE),
            "next_steps": self.rng.choice(NEXT_STEPS),
            "problems": "",
            "support_needed": "",
        }

    def _submit(self, report, writer):
        report = MonthlyReport.objects.select_related("project").get(pk=report.pk)
        task = reports.open_task_of(report, "write")
        if task is None:
            return
        with transaction.atomic():
            reports.report_submit(task=task, user=writer.user, data=self._figures(report))

    def _review(self, report, *, accepted):
        task = reports.open_task_of(MonthlyReport.objects.get(pk=report.pk), "review")
        if task is None:
            return
        with transaction.atomic():
            reports.report_review(
                task=task, user=self.secretariat.user, accepted=accepted,
                reason="" if accepted else "请补充现场照片并核实本月完成投资",
            )

    def publish(self, month, period):
        meeting = Meeting.objects.get(month=period)
        with _at(self.day(month, K.AGENDA), 16):
            meetings.meeting_publish(meeting=meeting, actor=self.secretariat.user, version=meeting.version)

    def minutes(self, month, period):
        meeting = Meeting.objects.get(month=period)
        items = list(meeting.items.filter(dropped=False).select_related("project").order_by("position")[:8])
        fresh = [item for item in items if item.section != "decisions" and item.project is not None]
        owners = list(self.writers.values())
        decisions = []
        for index, item in enumerate(fresh[:3]):
            owner = owners[(index + month.month) % len(owners)]
            decisions.append(
                {
                    "text": f"限期解决：{item.title}"[:300],
                    "owner": owner,
                    "working_days": 10,
                    "project": item.project,
                    "item": item,
                }
            )
        with _at(self.day(month, K.MEETING), 11, 30):
            meetings.meeting_record_minutes(
                meeting=meeting,
                actor=self.secretariat.user,
                minutes_by_item={item.pk: "会议听取汇报，研究解决措施，明确责任单位和时限。" for item in items},
                decisions=decisions,
                version=meeting.version,
            )
        # The first decision is carried out a week later; the others stay open and carry over.
        first = Decision.objects.filter(meeting=meeting).order_by("pk").first()
        if first is not None:
            task = meetings_open_task(first)
            if task is not None:
                with _at(self.cal.add_working_days_to_date(self.day(month, K.MEETING), 5), 10):
                    meetings.decision_done(task=task, user=first.owner.user, report="已按会议要求完成。")


def meetings_open_task(decision):
    from viewflow.workflow.models import Task

    from .flows import DecisionFlow

    return (
        Task.objects.filter(process__decisionprocess__decision=decision, flow_task=DecisionFlow.carry_out)
        .exclude(status__in=["DONE", "CANCELED"])
        .first()
    )


def seed_cycle(stdout=None, today=None):
    """Last month's cycle and this month's, as far as their days have come; True when it wrote any."""
    today = today or timezone.localdate()
    demo = CycleDemo(stdout)
    if demo.secretariat is None:
        return False
    this_month = first_of_month(today)
    wrote = False
    for month in (previous_month(this_month), this_month):
        wrote = demo.month(month, today) or wrote
    return wrote
