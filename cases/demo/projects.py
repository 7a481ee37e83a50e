"""The demo city's key projects, built through the services so that each has the history its
stage implies; and ``seed_demo``, which builds the whole city once."""

import datetime
import math
import random
from collections import defaultdict
from decimal import Decimal

from django.db import transaction

from .. import services
from ..models import AnnualPlan, Industry, KeyProject, Level, PreworkKind, Stage, Unit, UnitKind
from .city import (
    BLOCKER_FATE_WEIGHTS,
    BLOCKER_FATES,
    BLOCKER_LEAD_UNIT,
    BLOCKER_TEMPLATES,
    CENT,
    CITY_REGION,
    COMMISSION,
    DISTRICTS,
    GREEN_PACE,
    INDUSTRIAL,
    INDUSTRY_PROFILES,
    LATE_BLOCKER,
    OPTIONAL_PREWORK,
    OVERDUE_PREWORK,
    PREWORK_SET,
    READY_PREWORK,
    RED_ONCE_PACE,
    RED_TWICE_PACE,
    REGION_CODES,
    REJECTED_BLOCKER,
    STAGE_PLAN,
    START_MISSED_DAYS,
    START_MISSED_LONG_DAYS,
    STATISTICS_DAY,
    STRUGGLING_UNIT,
    WAN,
    YELLOW_PACES,
    Story,
    last_day,
    next_month,
    platform_project_code,
    share_of_year,
)
from .organisation import OrganisationBuilder
from .pipeline import PipelineBuilder, project_type_of


class DemoBuilder(PipelineBuilder, OrganisationBuilder):
    """The city's key projects, each with the history its story and its stage imply."""

    # What each case is meant to show

    def plan_stories(self, stages):
        """A story per case, so that the city looks like one: most cases keep to their annual
        plan and start when they said; a few lag, a few missed their start, one for months; the
        cases still in pre-work were mostly selected lately, with their approvals in time, a few
        ready to move on and four overdue by 2, 4, 7 and 13 working days (ladder levels 1 to 4)."""
        by_stage = defaultdict(list)
        for index, stage in enumerate(stages):
            by_stage[stage].append(index)
        stories = {}
        for index in range(len(stages)):
            pace = Decimal(self.rng.randint(GREEN_PACE[0], GREEN_PACE[1])) / 100
            stories[index] = Story(pace=pace, start_in_days=self.rng.randint(30, 270))

        construction = self.rng.sample(by_stage[Stage.CONSTRUCTION], 1 + len(YELLOW_PACES))
        stories[construction[0]].pace = RED_TWICE_PACE
        for index, pace in zip(construction[1:], YELLOW_PACES, strict=True):
            stories[index].pace = pace
        # The state industrial investor's one plant falls behind (and, in workflow/demo.py, its
        # report never comes: its unit ends the bulletin on the black list).
        industries = list(INDUSTRY_PROFILES)
        plants = [
            index for index in by_stage[Stage.CONSTRUCTION]
            if index not in construction and industries[index % len(industries)] in INDUSTRIAL
        ]
        struggling = self.rng.choice(plants)
        stories[struggling].pace = RED_ONCE_PACE
        stories[struggling].lead_unit = STRUGGLING_UNIT
        financing = self.rng.sample(by_stage[Stage.FINANCING], 2)
        stories[financing[0]].start_in_days = -START_MISSED_LONG_DAYS
        stories[financing[1]].start_in_days = -self.rng.randint(*START_MISSED_DAYS)
        docking = self.rng.sample(by_stage[Stage.DOCKING], 2)
        stories[docking[0]].start_in_days = -self.rng.randint(*START_MISSED_DAYS)
        stories[docking[1]].pace = Decimal("0.80")

        # Pre-work: the walk-through case (index 0) was selected nine working days ago.
        prework = [index for index in by_stage[Stage.PREWORK] if index != 0]
        chosen = self.rng.sample(prework, len(OVERDUE_PREWORK) + READY_PREWORK + 2)
        for index in by_stage[Stage.PREWORK]:
            stories[index].selected_weekdays_ago = self.rng.randint(4, 28)
        stories[0].selected_weekdays_ago = 9
        stories[0].walk_through = True
        for index, (kind, late_by) in zip(chosen, OVERDUE_PREWORK, strict=False):
            days = dict((k, d) for k, _unit, d in PREWORK_SET)[kind]
            stories[index].overdue = (kind, late_by)
            stories[index].selected_weekdays_ago = days + late_by
        ready = chosen[len(OVERDUE_PREWORK) : len(OVERDUE_PREWORK) + READY_PREWORK]
        for index in ready:
            stories[index].selected_weekdays_ago = self.rng.randint(40, 90)
        stories[chosen[-2]].start_in_days = -self.rng.randint(*START_MISSED_DAYS)
        stories[chosen[-1]].pace = Decimal("0.75")
        return stories

    # Projects

    def build_projects(self):
        regions = [self.units[name] for name, _short in DISTRICTS]
        industries = list(INDUSTRY_PROFILES)
        stages = list(STAGE_PLAN)
        self.rng.shuffle(stages)
        year = self.today.year
        serials = {}
        # The first projects are the ones the browser tests and the demo walk through:
        # led by the high-tech park, in pre-work with an approval outstanding, and ready to select.
        stages[:2] = [Stage.PREWORK, Stage.RESERVE]
        stories = self.plan_stories(stages)
        # The project codes draw on a generator of their own: the city's story stays as it was.
        code_rng = random.Random(14)
        for index, final_stage in enumerate(stages):
            story = stories[index]
            industry = industries[index % len(industries)] if index >= 2 else Industry.NEW_MATERIALS
            abbr, products, _word = INDUSTRY_PROFILES[industry]
            region = regions[index % len(regions)]
            serials[abbr] = serials.get(abbr, 0) + 1
            product = self.rng.choice(products)
            size = self.rng.choice([3, 5, 8, 10, 12, 15, 20, 30, 50, 80])
            total = Decimal(size) * Decimal(self.rng.choice([1000, 2000, 5000])) * WAN
            lead = self.lead_unit_for(industry, region) if index >= 2 else self.units["临江高新技术产业开发区管委会"]
            lead = self.units[story.lead_unit] if story.lead_unit else lead
            leader = self.leader if index < 2 or self.rng.random() < 0.4 else self.rng.choice(self.leaders)
            age = self.rng.randint(150, 330)  # days since it entered the reserve pool
            code_year = (self.today - datetime.timedelta(days=age)).year
            started = final_stage in (Stage.CONSTRUCTION, Stage.COMPLETED) or (
                final_stage == Stage.SUSPENDED and index % 2 == 0
            )
            if started:
                start = self.today - datetime.timedelta(days=self.rng.randint(60, age - 20))
            else:
                start = self.today + datetime.timedelta(days=story.start_in_days)
            finish = start + datetime.timedelta(days=self.rng.choice([365, 540, 730, 1095]))
            gap = Decimal(0) if final_stage in (Stage.CONSTRUCTION, Stage.COMPLETED) and index % 3 == 0 else (
                (total * Decimal(self.rng.choice(["0.2", "0.3", "0.4", "0.5"]))).quantize(Decimal("0.01"))
            )
            if final_stage in (Stage.DOCKING, Stage.FINANCING):
                gap = max(gap, (total * Decimal("0.2")).quantize(Decimal("0.01")))
            # Registered on the platform when it entered the pool; one in nine long before, in the
            # old form; one in five by a city department, under the city's own region code.
            issued_on = self.today - datetime.timedelta(days=age)
            if index % 9 == 8:
                issued_on = datetime.date(2019 + index % 2, 6, 1)
            region_code = CITY_REGION[0] if index % 5 == 4 else REGION_CODES[region.name]
            data = {
                "code": f"{code_year}-{abbr}-{serials[abbr]:04d}",
                "project_code": platform_project_code(region_code, issued_on, index + 1, code_rng),
                "name": f"{region.short_name}{product}项目" if index % 4 else f"年产{size}万件{product}项目",
                "description": f"{product}建设，总投资约{total // WAN}万元。",
                "industry": industry,
                "industry_cluster": self.cluster_of(industry),
                "project_type": project_type_of(industry),
                "region": region,
                "owner": self.enterprise(industry),
                "level": self.rng.choice([Level.MUNICIPAL] * 6 + [Level.PROVINCIAL] * 3 + [Level.NATIONAL]),
                "demonstration": self.rng.random() < 0.15,
                "total_investment": total,
                "capital_gap": gap,
            }
            if final_stage != Stage.RESERVE or index == 1:
                data.update(
                    {
                        "lead_unit": lead,
                        "responsible_leader": leader,
                        "planned_start": start,
                        "planned_finish": finish,
                    }
                )
            # A year's plan: a share of the whole once building; before that, land and design.
            if started:
                plan = (total / Decimal(self.rng.choice([2, 3, 4]))).quantize(Decimal("0.01"))
            else:
                plan = (total * Decimal(self.rng.choice(["0.03", "0.04", "0.05", "0.06", "0.08"]))).quantize(
                    Decimal("0.01")
                )
            first_year = (self.today - datetime.timedelta(days=age)).year
            plans = (
                [{"year": y, "planned_investment": plan} for y in range(first_year, year + 1)]
                if "lead_unit" in data
                else []
            )
            project = self.act(age, services.project_create, actor=self.secretariat.user, data=data, annual_plans=plans)
            if "lead_unit" in data:
                others = [u for u in self.units.values() if u.kind == UnitKind.DEPARTMENT and u != lead]
                project.cooperating_units.set(self.rng.sample(others, 2))
            if final_stage == Stage.PREWORK:
                self.advance_in_prework(project, age, story)
            else:
                self.advance(project, final_stage, age, start, index, story)
        self.say(f"{KeyProject.objects.count()} key projects")

    def advance_in_prework(self, project, age, story):
        """A case still in pre-work: selected ``story.selected_weekdays_ago``, its approvals done
        within their statutory time as far as that time has run, and its investment to date."""
        selected = self.weekdays_ago(story.selected_weekdays_ago)
        self.act(
            selected,
            services.project_transition,
            at=datetime.time(10, 0),
            project_id=project.pk,
            transition="select",
            actor=self.secretariat.user,
        )
        items = self.add_prework(project, selected, at=datetime.time(14, 0))
        self.settle_recent_prework(items, story)
        if story.walk_through:
            self.walk_through_blocker(project, story.selected_weekdays_ago)
        self.add_blockers(project, selected, closed=False, since_weekdays=story.selected_weekdays_ago)
        self.record_investment(project, story, since_days=age, until_days=1)

    def advance(self, project, final_stage, age, start, index, story):
        user = self.secretariat.user
        order = [Stage.RESERVE, Stage.PREWORK, Stage.DOCKING, Stage.FINANCING, Stage.CONSTRUCTION, Stage.COMPLETED]
        target = final_stage
        if final_stage == Stage.SUSPENDED:
            target = Stage.PREWORK if index % 2 else Stage.CONSTRUCTION
        if final_stage == Stage.WITHDRAWN:
            target = Stage.RESERVE
        reach = order.index(target)
        day = age - self.rng.randint(10, 30)

        def move(name, **kwargs):
            nonlocal day
            self.act(day, services.project_transition, project_id=project.pk, transition=name, actor=user, **kwargs)
            day -= self.rng.randint(10, 35)

        def refresh():
            return KeyProject.objects.get(pk=project.pk)

        if reach >= 1:
            move("select")
            items = self.add_prework(project, day)
            self.settle_prework(items, day, permit=reach >= 4)
            day -= 20
            self.add_blockers(project, day, closed=reach >= 4 or final_stage == Stage.SUSPENDED)
        if reach >= 2:
            project = refresh()
            if project.capital_gap > 0:
                move("open_docking")
                dockings = self.add_dockings(project, day, reach)
                day -= 15
                if reach >= 3:
                    move("secure_financing")
                if reach >= 4:
                    self.approve_credit(project, dockings, day)
                    day -= 10
            if reach >= 4:
                self.act(day, services.project_update, project=refresh(), actor=user, data={"actual_start": start})
                move("start_construction")
        if reach >= 1:
            # Completion and suspension come after the investment they end.
            ends = final_stage in (Stage.COMPLETED, Stage.SUSPENDED)
            self.record_investment(project, story, since_days=age, until_days=max(day, 3) if ends else 1)
        if reach >= 5:
            finish = self.today - datetime.timedelta(days=max(day, 3))
            project = refresh()
            self.act(
                max(day, 3),
                services.project_update,
                project=project,
                actor=user,
                data={
                    "actual_finish": max(finish, project.actual_start),
                    "completion_accepted_on": max(finish, project.actual_start),
                    "investment_completed_total": project.total_investment,
                },
            )
            move("complete")
        if final_stage == Stage.SUSPENDED:
            move("suspend", reason="企业资金链紧张，项目暂缓推进")
        if final_stage == Stage.WITHDRAWN:
            move("withdraw", reason="企业投资计划调整，项目退出储备库")

    def record_investment(self, project, story, *, since_days, until_days):
        """The investment completed month by month, as each month's statistics said, from the
        month the case entered the pool until the months the seeded monthly cycles report on
        (workflow/demo.py), and no later than ``until_days`` ago: ``story.pace`` of its annual
        plan times the share of the year elapsed."""
        plans = dict(AnnualPlan.objects.filter(project=project).values_list("year", "planned_investment"))
        recorded = defaultdict(Decimal)
        total_room = project.total_investment * Decimal("0.95") - (project.investment_completed_total or 0)
        month = (self.today - datetime.timedelta(days=since_days)).replace(day=1)
        while month <= self.recorded_through:
            on = next_month(month) + datetime.timedelta(days=STATISTICS_DAY - 1)
            if (self.today - on).days < until_days:
                break
            planned = plans.get(month.year)
            if planned:
                target = (planned * story.pace * share_of_year(last_day(month))).quantize(CENT)
                amount = min(target - recorded[month.year], total_room)
                if amount > 0:
                    self.act(
                        (self.today - on).days,
                        services.project_record_investment,
                        at=datetime.time(10, 0),
                        project_id=project.pk,
                        actor=self.secretariat.user,
                        year=month.year,
                        amount=amount,
                        reason=f"{month.year}年{month.month}月投资完成情况（月度统计）",
                    )
                    recorded[month.year] += amount
                    total_room -= amount
            month = next_month(month)

    def add_prework(self, project, day, at=None):
        items = []
        for kind, unit_name, days in PREWORK_SET:
            approving = self.units[unit_name]
            items.append(
                self.act(
                    day,
                    services.prework_item_create,
                    at=at,
                    project=project,
                    actor=self.secretariat.user,
                    data={
                        "kind": kind,
                        "approving_unit": approving,
                        "statutory_days": days,
                        "required": kind not in OPTIONAL_PREWORK,
                    },
                )
            )
        return items

    def complete_item(self, item, when):
        done_on = self.today - datetime.timedelta(days=max(when, 1))
        self.act(
            when,
            services.prework_item_transition,
            item=item,
            transition="complete",
            actor=self.secretariat.user,
            fields={
                "done_on": done_on,
                "document_number": f"临{item.approving_unit.short_name[1:3]}〔{done_on.year}〕{self.rng.randint(10, 300)}号",
            },
        )

    def waive_energy_review(self, item, when):
        self.act(
            when,
            services.prework_item_transition,
            item=item,
            transition="waive",
            actor=self.secretariat.user,
            reason="年综合能耗低于1000吨标准煤，不单独进行节能审查",
        )

    def settle_prework(self, items, day, *, permit):
        """A case that moved on: every required item done (or the energy review waived) in its time."""
        for position, item in enumerate(items):
            when = day - 5 * position
            if item.kind == PreworkKind.ENERGY and self.rng.random() < 0.3:
                self.waive_energy_review(item, when)
            elif item.kind == PreworkKind.CONSTRUCTION_PERMIT and not permit:
                self.act(when, services.prework_item_transition, item=item, transition="start", actor=self.secretariat.user)
            else:
                self.complete_item(item, when)

    def settle_recent_prework(self, items, story):
        """A case in pre-work, selected ``story.selected_weekdays_ago`` working days ago: each
        approval done within its statutory time (the approving unit took 40 % to all of it) if
        that many days have passed, the others still open and in time; and the story's overdue
        item left open past its time."""
        selected = story.selected_weekdays_ago
        overdue_kind = story.overdue[0] if story.overdue else None
        for item in items:
            if not item.required:
                continue  # the construction permit is applied for once the rest is in hand
            if item.kind == overdue_kind:
                self.act(self.weekdays_ago(selected - 1), services.prework_item_transition, item=item,
                         transition="start", actor=self.secretariat.user)
                continue
            took = self.rng.randint(math.ceil(item.statutory_days * 0.4), item.statutory_days)
            if took < selected:
                when = self.weekdays_ago(selected - took)
                if item.kind == PreworkKind.ENERGY and self.rng.random() < 0.3:
                    self.waive_energy_review(item, when)
                else:
                    self.complete_item(item, when)
            elif self.rng.random() < 0.5:
                self.act(self.weekdays_ago(selected - 1), services.prework_item_transition, item=item,
                         transition="start", actor=self.secretariat.user)

    def walk_through_blocker(self, project, since_weekdays):
        """The walk-through case's power supply: the housing bureau leads, the case's own unit (the
        park) gives its input, due in the weeks ahead; the park's people always have something to do."""
        category, title = "utilities", dict(BLOCKER_TEMPLATES)["utilities"]
        user = self.secretariat.user
        reported = since_weekdays - 3
        blocker = self.act(
            self.weekdays_ago(reported),
            services.blocker_report,
            project=project,
            actor=user,
            data={"title": title, "category": category, "description": f"{project.name}：{title}。"},
        )
        self.act(
            self.weekdays_ago(reported - 1),
            services.blocker_transition,
            blocker=blocker,
            transition="assign",
            actor=user,
            fields={
                "lead_unit": self.units[BLOCKER_LEAD_UNIT[category]],
                "cooperating_units": [project.lead_unit],
                "due_on": self.today + datetime.timedelta(days=15),
            },
        )

    def add_blockers(self, project, day, *, closed, since_weekdays=60):
        """Blockers of a case: on a case that got going, all closed out long ago; on the others,
        the open ones are recent (reported yesterday, assigned with a due date ahead, resolved
        and waiting to be verified) and one in the whole city is past its due date."""
        user = self.secretariat.user
        count = self.rng.choice([0, 0, 1, 1, 2])
        for _n in range(count):
            category, title = self.rng.choice(BLOCKER_TEMPLATES)
            lead = self.units[BLOCKER_LEAD_UNIT.get(category, project.region.name)]
            fate = "closed_out" if closed else self.rng.choices(BLOCKER_FATES, BLOCKER_FATE_WEIGHTS)[0]
            if closed:
                reported, assigned, resolved, closed_on = day, day - 2, day - 8, day - 10
            else:
                # In working days ago: reported, assigned the next day, resolved, closed out the day after.
                latest = since_weekdays - 1  # nothing before the case was selected
                self.open_blockers += 1
                if self.open_blockers == REJECTED_BLOCKER:
                    fate = "rejected"
                if latest < 8:
                    fate = "reported"
                done = {"resolved": 1, "closed_out": self.rng.randint(2, min(60, latest - 4))}.get(fate, 0)
                span = {
                    "reported": 1,
                    "assigned": self.rng.randint(4, min(15, latest)),
                    "resolved": self.rng.randint(5, min(12, latest)),
                }.get(fate, min(latest, done + self.rng.randint(4, 20)))
                reported, assigned = self.weekdays_ago(span), self.weekdays_ago(span - 1)
                resolved, closed_on = self.weekdays_ago(done), self.weekdays_ago(max(done - 1, 0))
            blocker = self.act(
                reported,
                services.blocker_report,
                project=project,
                actor=user,
                data={"title": title, "category": category, "description": f"{project.name}：{title}。"},
            )
            if fate == "reported":
                continue  # waiting for triage since yesterday
            if fate == "rejected":
                self.act(assigned, services.blocker_transition, blocker=blocker, transition="reject", actor=user,
                         reason="经核实，该事项属企业自身经营问题，不纳入市级协调范围")
                continue
            if fate == "assigned":
                self.assigned_blockers += 1
                # One blocker in the city is two working days past its due date; the others are due ahead.
                late = self.assigned_blockers == LATE_BLOCKER
                due_on = self.today - datetime.timedelta(days=self.weekdays_ago(2)) if late else (
                    self.today + datetime.timedelta(days=self.rng.randint(5, 30))
                )
            else:
                due_on = self.today - datetime.timedelta(days=max(resolved, 1) - self.rng.randint(0, 10))
            self.act(
                assigned,
                services.blocker_transition,
                blocker=blocker,
                transition="assign",
                actor=user,
                fields={"lead_unit": lead, "cooperating_units": [project.region], "due_on": due_on},
            )
            if fate == "assigned":
                continue
            self.act(
                resolved,
                services.blocker_transition,
                blocker=blocker,
                transition="resolve",
                actor=user,
                fields={"resolution": "经市级协调会议研究，已落实解决方案。"},
            )
            if fate == "resolved":
                continue  # the secretariat verifies it in the next days
            self.act(closed_on, services.blocker_transition, blocker=blocker, transition="close_out", actor=user)

    # Financing docking's part of a case's story: ``cases.financing.demo`` builds it.

    def add_dockings(self, project, day, reach):
        """Open the case's dockings ``day`` days ago; ``reach`` 3 or more signs an intent. Returns them."""
        raise NotImplementedError("the dockings are financing docking's: build the city with cases.financing.demo")

    def approve_credit(self, project, dockings, day):
        raise NotImplementedError("the dockings are financing docking's: build the city with cases.financing.demo")


def demo_exists():
    return Unit.objects.filter(name=COMMISSION).exists()


def seed_demo(stdout=None, *, builder_class=DemoBuilder):
    """Build the demo city unless it is there already; returns whether it built it. The city's
    cases in docking and beyond need a builder that knows the dockings (``cases.financing.demo``)."""
    if demo_exists():
        return False
    builder = builder_class(stdout=stdout)
    with transaction.atomic():
        builder.build_organisation()
        builder.build_projects()
        builder.build_pipeline()
        builder.build_owner()
    return True
