"""Demo data: a plausible city with its units, people and about eighty key projects.

Deterministic (a fixed random seed, dates counted back from today) and built through the
services, so that every project has the history its stage implies. Only this module
creates the weak demo passwords.
"""

import datetime
import random
from decimal import Decimal

import time_machine
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from . import services
from .models import (
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


class DemoBuilder:
    def __init__(self, stdout=None):
        self.rng = random.Random(2026)
        self.today = timezone.localdate()
        self.stdout = stdout
        self.units = {}
        self.names_used = set()
        self.password_hash = make_password(DEMO_PASSWORD)

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

    # Projects

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

    def moment(self, days_ago):
        day = self.today - datetime.timedelta(days=max(days_ago, 0))
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time(9, 30)))

    def act(self, days_ago, fn, **kwargs):
        with time_machine.travel(self.moment(days_ago) + datetime.timedelta(minutes=self.rng.randint(0, 400)), tick=False):
            return fn(**kwargs)

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
        for index, final_stage in enumerate(stages):
            industry = industries[index % len(industries)] if index >= 2 else Industry.NEW_MATERIALS
            abbr, products, _word = INDUSTRY_PROFILES[industry]
            region = regions[index % len(regions)]
            serials[abbr] = serials.get(abbr, 0) + 1
            product = self.rng.choice(products)
            size = self.rng.choice([3, 5, 8, 10, 12, 15, 20, 30, 50, 80])
            total = Decimal(size) * Decimal(self.rng.choice([1000, 2000, 5000])) * WAN
            lead = self.lead_unit_for(industry, region) if index >= 2 else self.units["临江高新技术产业开发区管委会"]
            leader = self.leader if index < 2 or self.rng.random() < 0.4 else self.rng.choice(self.leaders)
            age = self.rng.randint(150, 330)  # days since it entered the reserve pool
            start = self.today + datetime.timedelta(days=self.rng.randint(-200, 120))
            code_year = (self.today - datetime.timedelta(days=age)).year
            if final_stage in (Stage.CONSTRUCTION, Stage.COMPLETED):
                start = self.today - datetime.timedelta(days=self.rng.randint(60, age - 20))
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
            plan = (total / Decimal(self.rng.choice([2, 3, 4]))).quantize(Decimal("0.01"))
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
            self.advance(project, final_stage, age, start, index)
        self.say(f"{KeyProject.objects.count()} key projects")

    def advance(self, project, final_stage, age, start, index):
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
            self.settle_prework(items, project, day, all_done=reach >= 2, permit=reach >= 4)
            day -= 20
            self.add_blockers(project, day, closed=reach >= 4)
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
                completed = (refresh().total_investment * Decimal(self.rng.choice(["0.2", "0.35", "0.5", "0.7"]))).quantize(
                    Decimal("0.01")
                )
                plans = [
                    {
                        "year": self.today.year,
                        "planned_investment": refresh().planned_investment_for(self.today.year) or completed,
                        "completed_investment": (completed * Decimal("0.6")).quantize(Decimal("0.01")),
                    }
                ]
                self.act(
                    max(day, 5),
                    services.project_update,
                    project=refresh(),
                    actor=user,
                    data={"investment_completed_total": completed},
                    annual_plans=plans,
                )
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

    def add_prework(self, project, day):
        items = []
        for kind, unit_name, days in PREWORK_SET:
            approving = self.units[unit_name]
            items.append(
                self.act(
                    day,
                    services.prework_item_create,
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

    def settle_prework(self, items, project, day, *, all_done, permit):
        user = self.secretariat.user
        for position, item in enumerate(items):
            is_permit = item.kind == PreworkKind.CONSTRUCTION_PERMIT
            when = day - 5 * position
            if not all_done and position >= 2:
                if position == 2:
                    self.act(when, services.prework_item_transition, item=item, transition="start", actor=user)
                continue
            if item.kind == PreworkKind.ENERGY and self.rng.random() < 0.3:
                self.act(
                    when,
                    services.prework_item_transition,
                    item=item,
                    transition="waive",
                    actor=user,
                    reason="年综合能耗低于1000吨标准煤，不单独进行节能审查",
                )
                continue
            if is_permit and not permit:
                self.act(when, services.prework_item_transition, item=item, transition="start", actor=user)
                continue
            done_on = self.today - datetime.timedelta(days=max(when, 1))
            self.act(
                when,
                services.prework_item_transition,
                item=item,
                transition="complete",
                actor=user,
                fields={"done_on": done_on, "document_number": f"临{item.approving_unit.short_name[1:3]}〔{done_on.year}〕{self.rng.randint(10, 300)}号"},
            )

    def add_blockers(self, project, day, *, closed):
        user = self.secretariat.user
        count = self.rng.choice([0, 0, 1, 1, 2])
        for _n in range(count):
            category, title = self.rng.choice(BLOCKER_TEMPLATES)
            lead = BLOCKER_LEAD_UNIT.get(category, project.region.name)
            blocker = self.act(
                day,
                services.blocker_report,
                project=project,
                actor=user,
                data={"title": title, "category": category, "description": f"{project.name}：{title}。"},
            )
            fate = self.rng.random()
            if fate < 0.2 and not closed:
                continue  # still waiting for triage
            self.act(
                day - 2,
                services.blocker_transition,
                blocker=blocker,
                transition="assign",
                actor=user,
                fields={
                    "lead_unit": self.units[lead],
                    "cooperating_units": [project.region],
                    "due_on": self.today + datetime.timedelta(days=self.rng.randint(-10, 30)),
                },
            )
            if fate < 0.5 and not closed:
                continue
            self.act(
                day - 8,
                services.blocker_transition,
                blocker=blocker,
                transition="resolve",
                actor=user,
                fields={"resolution": "经市级协调会议研究，已落实解决方案。"},
            )
            if fate < 0.7 and not closed:
                continue
            self.act(day - 10, services.blocker_transition, blocker=blocker, transition="close_out", actor=user)

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
