"""The demo's monthly cycles: last month's cycle complete and this month's as far as its days
have come, each step dated on its working day through the same services people use, and
everything in between in the order it happened.

Before them, the lights of the month before the first cycle's, computed on their day, so that
the trend has a month to look back on and a case red two months running proposes an interview.
Reports are written by a person of each case's lead unit, with the month's investment keeping
the case's pace against its annual plan: most on time and accepted the same day, a few late
(after the lights), one sent back and corrected; in this month's cycle the one of the case the
high-tech park leads and the demo's owner owns is still to write (those logins' work); for the month the last lights judge, one never
comes (a case behind its plan whose unit leads the fewest cases: the ladder takes it to an
interview, the bulletin puts its unit on the black list). The lights are computed, the agenda
drafted and published, the minutes recorded with decisions that become tasks (the first done a
week later; at a meeting before the last, the second on its last day; the others carry over),
and the bulletin scored and issued. The supervisor issues an order late in the month the last
lights judge, left unanswered past its date (its case is red for it), answered and closed after
the lights; and lately another, answered and waiting for the supervisor's evaluation; yesterday it proposed to
interview another city leader about two red cases under them, which wait for the demo leader's approval.
Idempotent: a month whose reports exist is left alone.
"""

import datetime
import random
from collections import Counter
from decimal import ROUND_DOWN, Decimal

import time_machine
from django.db import transaction
from django.utils import timezone
from viewflow.workflow.fields import get_task_ref
from viewflow.workflow.status import STATUS

from cases.models import AnnualPlan, KeyProject, Person, Role, Stage
from workflow.coordination import launch as coordination_launch
from workflow.coordination import orders
from workflow.coordination.flows import SupervisionFlow
from workflow.engine import services
from workflow.engine.calendar import WorkingCalendar
from workflow.engine.nodes import run_flow_job
from workflow.monthly import (
    bulletin,
    decisions,
    lights,
    meetings,
    periods,
    reports,
    runner,
    selectors,
    timeline,
)
from workflow.monthly import launch as monthly_launch
from workflow.monthly.flows import DecisionFlow
from workflow.monthly.models import CycleStep, Decision, LightSnapshot, Meeting, MonthlyReport
from workflow.monthly.periods import first_of_month, last_day, previous_month

K = CycleStep.Kind
WORK_DONE = ["主体结构施工推进", "设备安装调试", "厂房钢结构吊装完成", "道路路基施工", "管网铺设", "装修及配套工程"]
NEXT_STEPS = ["加快设备进场", "推进竣工验收准备", "完成二次结构施工", "落实下阶段资金计划"]
LATE_REPORTS = 4  # per cycle, one to three working days late
DECISION_DAYS = 10  # working days a meeting gives for each decision
HUNDRED = Decimal(100)
# A month's investment keeps the case's pace, within these bounds.
PACE_BOUNDS = (Decimal("0.3"), Decimal("1.3"))


def _moment(day, hour, minute=0):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def _at(moment):
    return time_machine.travel(moment, tick=False)


class CycleDemo:
    def __init__(self, stdout=None, seed=2026, today=None):
        self.stdout = stdout
        self.rng = random.Random(seed)
        self.cal = WorkingCalendar.load()
        self.today = today or timezone.localdate()
        # Nothing is dated after now (or, for another day, after its end).
        self.cutoff = timezone.now() if self.today == timezone.localdate() else self.cal.end_of(self.today)
        self.secretariat = Person.objects.filter(role=Role.SECRETARIAT, user__isnull=False).select_related("user").first()
        self.supervisor = Person.objects.filter(role=Role.SUPERVISOR, user__isnull=False).select_related("user").first()
        self.writers = {}
        for person in Person.objects.filter(role__in=[Role.UNIT_HEAD, Role.UNIT_STAFF], user__isnull=False).select_related(
            "user"
        ).order_by("role", "pk"):
            self.writers.setdefault(person.unit_id, person)

    def say(self, message):
        if self.stdout is not None:
            self.stdout.write(message)

    def day(self, month, kind):
        return timeline.step_date(month, kind, self.cal)

    def _back(self, day, count):
        for _step in range(count):
            day -= datetime.timedelta(days=1)
            while not self.cal.is_working_day(day):
                day -= datetime.timedelta(days=1)
        return day

    def _after(self, day, count):
        return self.cal.add_working_days_to_date(day, count)

    def run_events(self, events):
        """Run the (moment, what) events in the order of their moments, those that have come."""
        for moment, _position, event in sorted(events, key=lambda e: (e[0], e[1])):
            if moment <= self.cutoff:
                with _at(moment):
                    event()

    def latest_lights_month(self):
        """The last month the lights judge once the seeded cycles have run."""
        this_month = first_of_month(self.today)
        if _moment(self.day(this_month, K.LIGHTS), 7, 15) <= self.cutoff:
            return previous_month(this_month)
        return previous_month(previous_month(this_month))

    # The cycles

    def earlier_lights(self, first_cycle):
        """The lights of the month before the first cycle's period, on their day (the cycle before
        is not seeded: its reports were the statistics cases/demo/projects.py records)."""
        cycle_month = previous_month(first_cycle)
        period = previous_month(cycle_month)
        moment = _moment(self.day(cycle_month, K.LIGHTS), 7, 15)
        if LightSnapshot.objects.filter(month=period).exists() or moment > self.cutoff:
            return False
        with _at(moment):
            lights.lights_compute(month=period)
        return True

    def month(self, month):
        period = previous_month(month)
        if MonthlyReport.objects.filter(month=period).exists() or _moment(self.day(month, K.REPORTS_OPEN), 7, 15) > self.cutoff:
            return False
        events, ran = [], {}

        def at(moment, event):
            events.append((moment, len(events), event))

        def step(kind):
            ran[kind] = runner.run_step(kind, month)

        for kind in timeline.ORDER:
            at(_moment(self.day(month, kind), 7, 15), lambda kind=kind: step(kind))
        at(_moment(self.day(month, K.REPORTS_OPEN), 7, 20), lambda: self.start_report_flows(period))
        self.write_reports(month, period, at)
        at(_moment(self.day(month, K.AGENDA), 16), lambda: ran.get(K.AGENDA) and self.publish(period))
        meeting_day = self.day(month, K.MEETING)
        at(_moment(meeting_day, 11, 30), lambda: ran.get(K.MEETING) and self.minutes(month, period))
        at(_moment(self._after(meeting_day, 5), 10), lambda: self.decision_done(period, 0))
        if _moment(self.day(periods.next_month(month), K.MEETING), 11, 30) <= self.cutoff:
            # A meeting before the last: its second decision was done on its last day; the third carries over.
            at(_moment(self._after(meeting_day, DECISION_DAYS - 1), 16), lambda: self.decision_done(period, 1))
        at(_moment(self.day(month, K.BULLETIN), 16), lambda: self.issue_bulletin(period, ran.get(K.BULLETIN)))
        if period == self.latest_lights_month():
            self.overdue_order(month, period, at)
        self.run_events(events)
        self.say(f"  the cycle of {month:%Y-%m} (reporting on {period:%Y-%m}) up to {min(self.today, self.day(month, K.BULLETIN))}")
        return True

    def start_report_flows(self, period):
        pending = list(MonthlyReport.objects.filter(month=period, process__isnull=True).values_list("pk", flat=True))
        monthly_launch.start_report_flows(pending)

    # Reports

    def write_reports(self, month, period, at):
        """Most reports a few days before the due day and accepted the same afternoon; a few late;
        one never written; one sent back and corrected the next working day."""
        due_day = self.day(month, K.REPORTS_DUE)
        projects = (
            KeyProject.objects.filter(stage__in=lights.ACTIVE_STAGES, lead_unit__isnull=False)
            .order_by("code")
            .values_list("pk", "lead_unit_id")
        )
        written = [(pk, unit_id) for pk, unit_id in projects if unit_id in self.writers]
        # One report never comes, in the month the last lights judge; earlier ones all came.
        missing = {self.struggling_case(period, written)} if period == self.latest_lights_month() else set()
        if month == first_of_month(self.today):
            missing |= self.still_to_write(written)
        late = set(self.rng.sample([pk for pk, _unit in written if pk not in missing], LATE_REPORTS))
        returned = self.rng.choice([pk for pk, _unit in written if pk not in missing | late])
        for project_id, unit_id in written:
            if project_id in missing:
                continue
            writer = self.writers[unit_id]
            if project_id in late:
                day = self._after(due_day, self.rng.randint(1, 3))
            else:
                day = self._back(due_day, self.rng.randint(0, 3))
            submitted = _moment(day, self.rng.randint(9, 11), self.rng.randint(0, 59))
            at(submitted, lambda p=project_id, w=writer: self._submit(period, p, w))
            if project_id == returned:
                at(_moment(day, 15), lambda p=project_id: self._review(period, p, accepted=False))
                again = self._after(day, 1)
                at(_moment(again, 10, 30), lambda p=project_id, w=writer: self._submit(period, p, w))
                at(_moment(again, 16, 30), lambda p=project_id: self._review(period, p, accepted=True))
            else:
                at(_moment(day, self.rng.randint(15, 16), self.rng.randint(0, 59)), lambda p=project_id: self._review(period, p, accepted=True))

    def still_to_write(self, written):
        """In this month's cycle, the report the demo's people have still to write: that of the case
        the high-tech park leads (logins ``head`` and ``staff``) and the demo's owner owns (login
        ``owner``), else the park's first."""
        owner = Person.objects.filter(user__username="owner").first()
        head = Person.objects.filter(user__username="head").first()
        if head is None:
            return set()
        parks = [pk for pk, unit_id in written if unit_id == head.unit_id]
        owned = set(KeyProject.objects.filter(owner_id=owner.unit_id).values_list("pk", flat=True)) if owner else set()
        chosen = next((pk for pk in parks if pk in owned), parks[0] if parks else None)
        return {chosen} if chosen is not None else set()

    def struggling_case(self, period, written):
        """The case behind its plan whose lead unit leads the fewest cases: its report for the month
        the last lights judge never comes, and its unit ends the bulletin on the black list."""
        share = lights.expected_progress(last_day(previous_month(period))) / HUNDRED if period.month > 1 else Decimal(1)
        ratios = {
            plan.project_id: plan.completed_investment / plan.planned_investment
            for plan in AnnualPlan.objects.filter(
                project__in=[pk for pk, _unit in written], year=period.year, planned_investment__gt=0
            )
        }
        cases_of = Counter(unit_id for _pk, unit_id in written)
        behind = [
            (cases_of[unit_id], ratios[pk], pk) for pk, unit_id in written if ratios.get(pk, share) < share * Decimal("0.9")
        ]
        return min(behind)[2] if behind else written[0][0]

    def _report(self, period, project_id):
        return MonthlyReport.objects.select_related("project").filter(month=period, project_id=project_id).first()

    def month_investment(self, report):
        """The month's investment at the case's pace so far this year against its annual plan
        (last year's pace in January), within the room its total investment leaves."""
        project, period = report.project, report.month
        plans = {plan.year: plan for plan in AnnualPlan.objects.filter(project=project, year__in=[period.year, period.year - 1])}
        plan = plans.get(period.year)
        if plan is None or not plan.planned_investment:
            return Decimal(0)
        share_now = lights.expected_progress(last_day(period)) / HUNDRED
        share_before = lights.expected_progress(last_day(previous_month(period))) / HUNDRED if period.month > 1 else 0
        if share_before and plan.completed_investment:
            pace = plan.completed_investment / (plan.planned_investment * share_before)
        else:
            last = plans.get(period.year - 1)
            pace = last.completed_investment / last.planned_investment if last and last.planned_investment else Decimal(1)
        pace = min(max(pace, PACE_BOUNDS[0]), PACE_BOUNDS[1])
        amount = plan.planned_investment * pace * (share_now - share_before)
        room = project.total_investment - project.investment_completed_total
        return max(min(amount, room), Decimal(0)).quantize(Decimal("1"), rounding=ROUND_DOWN)

    def _figures(self, report):
        before = reports.previous_progress(report) or Decimal(self.rng.randint(5, 40))
        progress = min(Decimal(100), before + Decimal(self.rng.randint(2, 9)))
        return {
            "investment_month": self.month_investment(report),
            "progress_percent": progress,
            "progress_back_reason": "",
            "work_done": self.rng.choice(WORK_DONE),
            "next_steps": self.rng.choice(NEXT_STEPS),
            "problems": "",
            "support_needed": "",
        }

    def _submit(self, period, project_id, writer):
        report = self._report(period, project_id)
        task = selectors.open_task_of(report, "write") if report else None
        if task is None:
            return
        with transaction.atomic():
            reports.report_submit(task=task, user=writer.user, data=self._figures(report))

    def _review(self, period, project_id, *, accepted):
        report = self._report(period, project_id)
        task = selectors.open_task_of(report, "review") if report else None
        if task is None:
            return
        with transaction.atomic():
            reports.report_review(
                task=task, user=self.secretariat.user, accepted=accepted,
                reason="" if accepted else "请补充现场照片并核实本月完成投资",
            )

    # The meeting and the bulletin

    def publish(self, period):
        meeting = Meeting.objects.get(month=period)
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
                    "working_days": DECISION_DAYS,
                    "project": item.project,
                    "item": item,
                }
            )
        meetings.meeting_record_minutes(
            meeting=meeting,
            actor=self.secretariat.user,
            minutes_by_item={item.pk: "会议听取汇报，研究解决措施，明确责任单位和时限。" for item in items},
            decisions=decisions,
            version=meeting.version,
        )

    def decision_done(self, period, position):
        """The meeting's decision at ``position`` (by creation) is carried out now."""
        decision = Decision.objects.filter(meeting__month=period).order_by("pk")[position : position + 1].first()
        task = meetings_open_task(decision) if decision is not None else None
        if task is not None:
            decisions.decision_done(task=task, user=decision.owner.user, report="已按会议要求完成。")

    def issue_bulletin(self, period, scored):
        if scored is not None and not scored.error:
            bulletin.bulletin_issue(bulletin=bulletin.Bulletin.objects.get(month=period), actor=self.secretariat.user)

    # Supervision orders

    def overdue_order(self, month, period, at):
        """An order the supervisor issues late in ``period`` on a case that otherwise keeps to its
        plan; unanswered at the month's end, so the case is red for it when ``month``'s cycle
        lights ``period``; answered two working days after the lights, and closed."""
        if self.supervisor is None:
            return
        issued = self._back(self.cal.next_working_day(last_day(period)), 7)
        lights_day = self.day(month, K.LIGHTS)
        order = {}

        def issue():
            project = self.case_by_pace(period, fastest=True)
            if project is not None:
                order["order"] = self.issue_order(project, f"关于加快{project.name}施工图审查和要素保障的督办")

        at(_moment(issued, 10), issue)
        at(_moment(self._after(lights_day, 2), 10), lambda: self.answer_order(order.get("order")))
        at(_moment(self._after(lights_day, 3), 15), lambda: self.evaluate_order(order.get("order")))

    def recent_order(self):
        """An order issued six working days ago on the case red the most months running (or else
        the furthest behind its plan), answered yesterday: its evaluation waits in the supervisor's queue."""
        if self.supervisor is None:
            return
        today = self.today if self.cal.is_working_day(self.today) else self._back(self.today, 1)
        issued, answered = self._back(today, 6), self._back(today, 1)
        reddest = (
            LightSnapshot.objects.filter(
                month=self.latest_lights_month(), light="red", project__stage=Stage.CONSTRUCTION,
                project__lead_unit__in=list(self.writers), project__supervision_orders__isnull=True,
            )
            .order_by("-consecutive_red", "-lag", "project__code")
            .select_related("project__lead_unit")
            .first()
        )
        project = reddest.project if reddest else self.case_by_pace(previous_month(first_of_month(self.today)), fastest=False)
        if project is None:
            return
        with _at(_moment(issued, 10)):
            order = self.issue_order(project, f"关于{project.name}投资进度严重滞后的督办")
        if _moment(answered, 11) <= self.cutoff:
            with _at(_moment(answered, 11)):
                self.answer_order(order)

    def waiting_interviews(self, count=2):
        """Interviews the supervisor proposed yesterday of other city leaders about the red cases
        under them furthest behind: their approval waits on the work of the demo's leader (login
        ``leader``), a city leader who decides on interviews not their own."""
        if self.supervisor is None:
            return
        red = (
            LightSnapshot.objects.filter(
                month=self.latest_lights_month(), light="red", project__responsible_leader__isnull=False,
                project__interviews__isnull=True,
            )
            .exclude(project__responsible_leader__user__username="leader")
            .order_by("-consecutive_red", "-lag", "project__code")
            .select_related("project__responsible_leader")[:count]
        )
        today = self.today if self.cal.is_working_day(self.today) else self._back(self.today, 1)
        with _at(_moment(self._back(today, 1), 15)):
            for snapshot in red:
                project = snapshot.project
                coordination_launch.propose_interview(
                    project=project,
                    leader=project.responsible_leader,
                    reason=f"{project.name}连续亮红灯，投资进度严重滞后，建议约谈分管领导",
                    actor=self.supervisor.user,
                )

    def case_by_pace(self, period, *, fastest):
        """The case under construction furthest ahead of (or behind) its plan for ``period``'s year,
        led by a unit with someone to answer an order."""
        plans = (
            AnnualPlan.objects.filter(
                year=period.year, planned_investment__gt=0, project__stage=Stage.CONSTRUCTION,
                project__lead_unit__in=list(self.writers),
            )
            .exclude(project__supervision_orders__isnull=False)
            .select_related("project")
            .order_by("project__code")
        )
        ranked = sorted(plans, key=lambda plan: plan.completed_investment / plan.planned_investment, reverse=fastest)
        return ranked[0].project if ranked else None

    def issue_order(self, project, subject):
        order = coordination_launch.issue_order(project=project, unit=project.lead_unit, subject=subject, actor=self.supervisor.user)
        # Its delivery is a worker's job; here it is done at once, on the day (the worker skips it later).
        for task in order.process.task_set.filter(flow_task=SupervisionFlow.deliver, status=STATUS.SCHEDULED):
            run_flow_job(get_task_ref(task.flow_task), order.process.pk, task.pk)
        return order

    def answer_order(self, order):
        if order is None:
            return
        order.refresh_from_db()
        task = services.open_task(order.process, SupervisionFlow.respond)
        writer = self.writers.get(order.unit_id)
        if task is None or writer is None:
            return
        orders.order_answer(
            task=task,
            user=writer.user,
            plan="已成立专班，明确责任人和时间节点，每周调度，按期完成整改。",
            fixed_by=timezone.localdate() + datetime.timedelta(days=30),
        )

    def evaluate_order(self, order):
        if order is None:
            return
        order.refresh_from_db()
        task = services.open_task(order.process, SupervisionFlow.evaluate)
        if task is None:
            return
        orders.order_evaluate(task=task, user=self.supervisor.user, accepted=True, evaluation="整改方案可行，同意销号。")


def meetings_open_task(decision):
    from viewflow.workflow.models import Task

    return (
        Task.objects.filter(process__decisionprocess__decision=decision, flow_task=DecisionFlow.carry_out)
        .exclude(status__in=["DONE", "CANCELED"])
        .first()
    )


def seed_cycle(stdout=None, today=None):
    """Last month's cycle and this month's, as far as their days have come; True when it wrote any."""
    demo = CycleDemo(stdout, today=today)
    if demo.secretariat is None:
        return False
    this_month = first_of_month(demo.today)
    first_cycle = previous_month(this_month)
    wrote = demo.earlier_lights(first_cycle)
    for month in (first_cycle, this_month):
        wrote = demo.month(month) or wrote
    if wrote:
        demo.recent_order()
        demo.waiting_interviews()
    return wrote
