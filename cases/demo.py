"""Demo data: a plausible city with its units, people and about eighty key projects.

Deterministic (a fixed random seed, dates counted back from today) and built through the
services, so that every project has the history its stage implies. Each case has a story
(``plan_stories``): most keep to their annual plan and their planned start, a few lag or
missed their start, and the cases in pre-work have their approvals in time but for a few.
Only this module creates the weak demo passwords.
"""

import calendar
import datetime
import math
import random
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

import time_machine
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from . import services
from .models import (
    AnnualPlan,
    Industry,
    KeyProject,
    LeaderResponsibility,
    Level,
    Person,
    PreworkKind,
    Rank,
    Role,
    Stage,
    Unit,
    UnitKind,
)

DEMO_PASSWORD = "demo"
COMMISSION = "临江市发展和改革委员会"
WAN = Decimal(10000)

DEPARTMENTS = [
    (COMMISSION, "市发改委"),
    ("临江市财政局", "市财政局"),
    ("临江市自然资源和规划局", "市自然资源和规划局"),
    ("临江市生态环境局", "市生态环境局"),
    ("临江市住房和城乡建设局", "市住建局"),
    ("临江市地方金融管理局", "市金融局"),
    ("临江市工业和信息化局", "市工信局"),
    ("临江市林业局", "市林业局"),
    ("临江市行政审批服务局", "市审批局"),
    ("临江市人民政府督查室", "市督查室"),
]
DISTRICTS = [
    ("临江市江城区", "江城区"),
    ("临江市东湖区", "东湖区"),
    ("临江市西山区", "西山区"),
    ("临江市南岸区", "南岸区"),
    ("清河县", "清河县"),
    ("北川县", "北川县"),
]
PARKS = [
    ("临江高新技术产业开发区管委会", "高新区", "临江市江城区"),
    ("临江经济技术开发区管委会", "经开区", "临江市东湖区"),
    ("临港产业园管委会", "临港园", "临江市南岸区"),
]
PLATFORMS = [
    ("临江城市建设投资集团有限公司", "城投集团"),
    ("临江产业投资集团有限公司", "产投集团"),
    ("临江交通投资集团有限公司", "交投集团"),
]
BANKS = [
    ("国家开发银行临江分行", "国开行临江分行"),
    ("中国工商银行临江分行", "工行临江分行"),
    ("中国建设银行临江分行", "建行临江分行"),
    ("临江农村商业银行", "临江农商行"),
]

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = ["伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超",
         "秀兰", "霞", "平", "刚", "建华", "志强", "海燕", "文博", "晓东", "国庆", "红梅", "立新"]

# Per industry: a code letter pair, typical product words and enterprise words.
INDUSTRY_PROFILES = {
    Industry.NEXT_GEN_IT: ("XX", ["智能终端", "集成电路封测", "5G基站配套", "数据中心"], "科技"),
    Industry.BIOTECH: ("SW", ["生物医药产业园", "疫苗生产基地", "医疗器械", "中药现代化"], "生物"),
    Industry.HIGH_END_EQUIPMENT: ("ZB", ["智能装备制造", "工业机器人", "精密数控机床"], "装备"),
    Industry.NEW_MATERIALS: ("CL", ["锂电正极材料", "高性能纤维", "电子级硅材料"], "新材料"),
    Industry.NEW_ENERGY: ("NY", ["光伏组件", "储能电站", "风电装备", "氢能产业园"], "新能源"),
    Industry.NEW_ENERGY_VEHICLES: ("QC", ["新能源汽车零部件", "动力电池", "智能网联汽车"], "汽车"),
    Industry.GREEN: ("HB", ["固废综合利用", "污水处理厂提标", "节能环保装备"], "环保"),
    Industry.DIGITAL_CREATIVE: ("SC", ["数字文创产业园", "动漫游戏基地"], "文化"),
    Industry.INFRASTRUCTURE: ("JC", ["快速路", "跨江大桥", "综合管廊", "物流枢纽"], "建设"),
    Industry.LIVELIHOOD: ("MS", ["人民医院新院区", "保障性租赁住房", "中小学新建"], "置业"),
    Industry.MODERN_SERVICES: ("FW", ["现代物流园", "商贸综合体", "文旅小镇"], "发展"),
    Industry.ADVANCED_MANUFACTURING: ("ZZ", ["绿色食品加工", "高端纺织", "智能家居制造"], "实业"),
    Industry.OTHER: ("QT", ["农业综合开发", "乡村振兴示范片"], "农业"),
}
# Industries whose projects a state industrial investor may lead: plants, not roads or schools.
INDUSTRIAL = {
    Industry.NEXT_GEN_IT,
    Industry.BIOTECH,
    Industry.HIGH_END_EQUIPMENT,
    Industry.NEW_MATERIALS,
    Industry.NEW_ENERGY,
    Industry.NEW_ENERGY_VEHICLES,
    Industry.ADVANCED_MANUFACTURING,
}

# How many projects end in each stage.
STAGE_PLAN = (
    [Stage.RESERVE] * 12
    + [Stage.PREWORK] * 18
    + [Stage.DOCKING] * 10
    + [Stage.FINANCING] * 8
    + [Stage.CONSTRUCTION] * 24
    + [Stage.COMPLETED] * 5
    + [Stage.SUSPENDED] * 2
    + [Stage.WITHDRAWN] * 1
)

BLOCKER_TEMPLATES = [
    ("land", "建设用地指标不足，需市级统筹调剂"),
    ("forestry", "项目红线涉及林地，使用林地手续待办"),
    ("energy", "能耗指标缺口，需纳入市级能耗统筹"),
    ("environment", "区域环境容量不足，排污总量指标待落实"),
    ("funds", "项目资本金未足额到位"),
    ("approvals", "施工图审查进度滞后"),
    ("demolition", "红线内征迁户尚未签约"),
    ("utilities", "110千伏供电线路配套未落实"),
]

# Who leads the work on a blocker of each category; demolition falls to the project's district.
BLOCKER_LEAD_UNIT = {
    "land": "临江市自然资源和规划局",
    "forestry": "临江市林业局",
    "energy": COMMISSION,
    "environment": "临江市生态环境局",
    "funds": "临江市财政局",
    "approvals": "临江市行政审批服务局",
    "utilities": "临江市住房和城乡建设局",
}

PREWORK_SET = [
    (PreworkKind.FILING, "临江市发展和改革委员会", 5),
    (PreworkKind.LAND, "临江市自然资源和规划局", 20),
    (PreworkKind.PLANNING, "临江市自然资源和规划局", 15),
    (PreworkKind.EIA, "临江市生态环境局", 30),
    (PreworkKind.ENERGY, "临江市发展和改革委员会", 15),
    (PreworkKind.CONSTRUCTION_PERMIT, "临江市住房和城乡建设局", 7),
]
# The construction permit is not needed to look for money; the construction guards ask for it.
OPTIONAL_PREWORK = {PreworkKind.CONSTRUCTION_PERMIT}

# The stories (see ``DemoBuilder.plan_stories``). A pace is the investment completed this year
# against the plan times the share of the year elapsed (序时进度); the lights turn yellow at a lag
# of 10 points and red beyond 30, so by late autumn a pace under 0.88 is yellow, under 0.64 red.
GREEN_PACE = (93, 110)  # in hundredths
RED_TWICE_PACE = Decimal("0.57")  # lags about 32 points at September's end and 36 at October's
RED_ONCE_PACE = Decimal("0.62")  # about 28 at September's end (yellow), 32 at October's (red)
STRUGGLING_UNIT = "临江产业投资集团有限公司"  # leads one plant, the one that lags at RED_ONCE_PACE
YELLOW_PACES = [Decimal("0.72"), Decimal("0.78"), Decimal("0.84")]
START_MISSED_DAYS = (45, 80)  # a planned start missed by weeks: yellow
START_MISSED_LONG_DAYS = 140  # missed by more than three months at the last lights: red
# Pre-work items left open past their statutory time: (kind, working days overdue), one per
# rung of the ladder (1 day: the unit head; 3: the leader; 5: a supervision order; 10: an interview).
OVERDUE_PREWORK = [
    (PreworkKind.PLANNING, 2),
    (PreworkKind.ENERGY, 4),
    (PreworkKind.LAND, 7),
    (PreworkKind.PLANNING, 13),
]
READY_PREWORK = 3  # cases in pre-work with every approval in hand, waiting to move on
BLOCKER_FATES = ["reported", "assigned", "resolved", "closed_out"]
BLOCKER_FATE_WEIGHTS = [15, 30, 15, 40]
LATE_BLOCKER = 2  # the second blocker left assigned is past its due date
REJECTED_BLOCKER = 3  # the third blocker of a case still under way was not one for the city
# The monthly cycles workflow/demo.py seeds report on the two months before this one; the
# investment of the months before them is recorded here, as the statistics gave it on this day
# of the month after.
CYCLE_MONTHS = 2
STATISTICS_DAY = 5
CENT = Decimal("0.01")
ONE_DAY = datetime.timedelta(days=1)


@dataclass
class Story:
    """What a case is meant to show."""

    pace: Decimal
    start_in_days: int  # the planned start, from today, of a case that has not started
    selected_weekdays_ago: int = 0  # a case still in pre-work: when it was selected
    overdue: tuple | None = None  # a case still in pre-work: (kind, working days overdue)
    lead_unit: str = ""  # a lead unit chosen for the story rather than by industry and region
    walk_through: bool = False  # the park's case in pre-work the demo walks through


def last_day(month):
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def next_month(month):
    return (month + datetime.timedelta(days=32)).replace(day=1)


def months_before(month, count):
    for _step in range(count):
        month = (month - ONE_DAY).replace(day=1)
    return month


def share_of_year(day):
    """The share of ``day``'s year elapsed at its end: the expected progress (序时进度) as a fraction."""
    return Decimal(day.timetuple().tm_yday) / Decimal(366 if calendar.isleap(day.year) else 365)


class DemoBuilder:
    def __init__(self, stdout=None):
        self.rng = random.Random(2026)
        self.today = timezone.localdate()
        self.stdout = stdout
        self.units = {}
        self.names_used = set()
        self.password_hash = make_password(DEMO_PASSWORD)
        # The last month whose investment is recorded here: the monthly cycles report on the next ones.
        self.recorded_through = months_before(self.today.replace(day=1), CYCLE_MONTHS + 1)
        self.assigned_blockers = self.open_blockers = 0

    def say(self, message):
        if self.stdout is not None:
            self.stdout.write(message)

    # Organisation

    def unit(self, name, short, kind, parent=None):
        unit = Unit.objects.create(name=name, short_name=short, kind=kind, parent=parent)
        self.units[name] = unit
        return unit

    def person_name(self):
        while True:
            name = self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)
            if name not in self.names_used:
                self.names_used.add(name)
                return name

    def person(self, username, unit, role, title, rank, *, superuser=False, name=None):
        user = User(
            username=username, email=f"{username}@linjiang.gov.cn", is_staff=superuser, is_superuser=superuser
        )
        # Everyone's password is the public word "demo": one hash serves them all.
        user.password = self.password_hash
        name = name or self.person_name()
        user.first_name = name
        user.save()
        return Person.objects.create(user=user, name=name, unit=unit, role=role, title=title, rank=rank)

    def build_organisation(self):
        for name, short in DEPARTMENTS:
            self.unit(name, short, UnitKind.DEPARTMENT)
        for name, short in DISTRICTS:
            self.unit(name, short, UnitKind.DISTRICT)
        for name, short, district in PARKS:
            self.unit(name, short, UnitKind.PARK, parent=self.units[district])
        for name, short in PLATFORMS:
            self.unit(name, short, UnitKind.PLATFORM)
        for name, short in BANKS:
            self.unit(name, short, UnitKind.INSTITUTION)

        commission = self.units[COMMISSION]
        park = self.units["临江高新技术产业开发区管委会"]
        self.secretariat = self.person(
            "secretariat", commission, Role.SECRETARIAT, "重点项目办主任", Rank.SECTION_CHIEF, superuser=True
        )
        self.person("xmb_staff1", commission, Role.SECRETARIAT, "重点项目办科员", Rank.STAFF)
        self.person("supervisor", self.units["临江市人民政府督查室"], Role.SUPERVISOR, "督查专员", Rank.SECTION_CHIEF)
        self.leader = self.person("leader", commission, Role.LEADER, "副市长", Rank.CITY_LEADER)
        other_leaders = [
            self.person(f"leader{i}", commission, Role.LEADER, "副市长", Rank.CITY_LEADER) for i in (2, 3)
        ]
        self.leaders = [self.leader, *other_leaders]
        head = self.person("head", park, Role.UNIT_HEAD, "管委会主任", Rank.UNIT_CHIEF)
        self.person("staff", park, Role.UNIT_STAFF, "项目服务科科员", Rank.STAFF)
        bank = self.units["国家开发银行临江分行"]
        self.person("bank", bank, Role.INSTITUTION, "客户经理", Rank.STAFF)
        park.head = head
        park.save()

        # A head for every other government unit, and a clerk for some.
        serial = 1
        for unit in Unit.objects.exclude(kind__in=[UnitKind.INSTITUTION, UnitKind.ENTERPRISE]).exclude(pk=park.pk):
            title = {UnitKind.DISTRICT: "区（县）长", UnitKind.PARK: "管委会主任", UnitKind.PLATFORM: "董事长"}.get(
                unit.kind, "局长"
            )
            unit_head = self.person(f"head{serial:02d}", unit, Role.UNIT_HEAD, title, Rank.UNIT_CHIEF)
            unit.head = unit_head
            unit.save()
            if serial % 2:
                self.person(f"staff{serial:02d}", unit, Role.UNIT_STAFF, "科员", Rank.STAFF)
            serial += 1

        # Leaders answer for units: the demo leader for the parks and industry.
        responsibilities = {
            self.leader: ["临江高新技术产业开发区管委会", "临江经济技术开发区管委会", "临江市工业和信息化局"],
            other_leaders[0]: ["临江市住房和城乡建设局", "临江城市建设投资集团有限公司", "临江市江城区"],
            other_leaders[1]: ["临港产业园管委会", "临江市生态环境局", "清河县", "北川县"],
        }
        for leader, unit_names in responsibilities.items():
            for unit_name in unit_names:
                LeaderResponsibility.objects.create(leader=leader, unit=self.units[unit_name])

    # Owners and lead units

    def enterprise(self, industry):
        _abbr, _products, word = INDUSTRY_PROFILES[industry]
        prefix = self.rng.choice(["临江", "江城", "华远", "中科", "恒信", "新澜", "长风", "东方", "天合", "金桥"])
        name = f"{prefix}{word}{self.rng.choice(['有限公司', '股份有限公司', '集团有限公司'])}"
        unit = self.units.get(name)
        if unit is None:
            unit = self.unit(name, "", UnitKind.ENTERPRISE)
        return unit

    def lead_unit_for(self, industry, region):
        government = [
            "临江高新技术产业开发区管委会",
            "临江经济技术开发区管委会",
            "临港产业园管委会",
        ]
        if industry == Industry.INFRASTRUCTURE:
            return self.units[self.rng.choice(["临江城市建设投资集团有限公司", "临江交通投资集团有限公司"])]
        if industry == Industry.LIVELIHOOD:
            return self.units[self.rng.choice(["临江市住房和城乡建设局", region.name])]
        if self.rng.random() < 0.55:
            return self.units[self.rng.choice(government)]
        return region

    # Dates. The demo counts "n working days ago" Monday to Friday; the ladder counts the
    # official calendar with its holidays, so next to a holiday a date lands a day or two early.

    def weekdays_ago(self, count):
        """Calendar days back to the ``count``-th weekday before today (0: today, or the last weekday)."""
        day = self.today
        while day.weekday() >= 5:
            day -= ONE_DAY
        for _step in range(count):
            day -= ONE_DAY
            while day.weekday() >= 5:
                day -= ONE_DAY
        return (self.today - day).days

    def moment(self, days_ago, at=None):
        day = self.today - datetime.timedelta(days=max(days_ago, 1))
        if at is None:
            at = (datetime.datetime.combine(day, datetime.time(9, 30)) + datetime.timedelta(minutes=self.rng.randint(0, 400))).time()
        return timezone.make_aware(datetime.datetime.combine(day, at))

    def act(self, days_ago, fn, at=None, **kwargs):
        """``fn`` as of ``days_ago`` days before today (at least yesterday: nothing happens later than now)."""
        with time_machine.travel(self.moment(days_ago, at), tick=False):
            return fn(**kwargs)

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
            data = {
                "code": f"{code_year}-{abbr}-{serials[abbr]:04d}",
                "name": f"{region.short_name}{product}项目" if index % 4 else f"年产{size}万件{product}项目",
                "description": f"{product}建设，总投资约{total // WAN}万元。",
                "industry": industry,
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

    def add_dockings(self, project, day, reach):
        user = self.secretariat.user
        banks = [u for u in self.units.values() if u.kind == UnitKind.INSTITUTION]
        chosen = self.rng.sample(banks, 2)
        dockings = []
        for position, bank in enumerate(chosen):
            docking = self.act(day, services.docking_create, project=project, institution=bank, actor=user)
            self.act(day - 2, services.docking_transition, docking=docking, transition="contact", actor=user)
            if position == 0 and reach >= 3:
                self.act(day - 5, services.docking_transition, docking=docking, transition="start_due_diligence", actor=user)
                self.act(
                    day - 9,
                    services.docking_transition,
                    docking=docking,
                    transition="sign_intent",
                    actor=user,
                    fields={"intent_amount": project.capital_gap},
                )
            dockings.append(docking)
        return dockings

    def approve_credit(self, project, dockings, day):
        docking = dockings[0]
        self.act(
            day,
            services.docking_transition,
            docking=docking,
            transition="approve_credit",
            actor=self.secretariat.user,
            fields={"credit_approved_amount": project.capital_gap},
        )


def demo_exists():
    return Unit.objects.filter(name=COMMISSION).exists()


def seed_demo(stdout=None):
    """Build the demo city unless it is there already; returns whether it built it."""
    if demo_exists():
        return False
    builder = DemoBuilder(stdout=stdout)
    with transaction.atomic():
        builder.build_organisation()
        builder.build_projects()
    return True
