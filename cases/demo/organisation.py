"""The demo city's organisation: its units and people (every password the public word "demo"),
and the builder's clock, which dates each action some days back from today."""

import datetime
import random

import time_machine
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone

from ..models import (
    Industry,
    KeyProject,
    LeaderResponsibility,
    Person,
    Rank,
    RegionCode,
    Role,
    Stage,
    Unit,
    UnitKind,
)
from .city import (
    BANKS,
    CITY_REGION,
    COMMISSION,
    CYCLE_MONTHS,
    DEMO_PASSWORD,
    DEPARTMENTS,
    DISTRICTS,
    GIVEN,
    INDUSTRY_PROFILES,
    ONE_DAY,
    PARKS,
    PLATFORMS,
    REGION_CODES,
    SURNAMES,
    months_before,
)


class OrganisationBuilder:
    """The city's units and people, and the builder's clock: everything happens "n days ago"."""

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
        RegionCode.objects.create(code=CITY_REGION[0], name=CITY_REGION[1])
        for name, short in DISTRICTS:
            unit = self.unit(name, short, UnitKind.DISTRICT)
            RegionCode.objects.create(code=REGION_CODES[name], name=name, unit=unit)
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

    def build_owner(self):
        """The demo's project owner (login ``owner``): the enterprise of a case under construction
        led by the high-tech park, which also owns a case in financing docking, so that it has
        monthly reports to write and a financing need to draft."""
        park = self.units["临江高新技术产业开发区管委会"]
        building = (
            KeyProject.objects.filter(stage=Stage.CONSTRUCTION, owner__isnull=False)
            .order_by(led_by_first(park), "pk")
            .first()
        )
        if building is None:
            return None
        enterprise = building.owner
        docking = KeyProject.objects.filter(stage__in=[Stage.DOCKING, Stage.FINANCING]).exclude(owner=enterprise)
        docking = docking.order_by(led_by_first(park), "pk").first()
        if docking is not None:
            KeyProject.objects.filter(pk=docking.pk).update(owner=enterprise)
        return self.person("owner", enterprise, Role.OWNER, "项目负责人", Rank.STAFF)

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



def led_by_first(unit):
    """An ordering that puts the cases ``unit`` leads first."""
    return Case(When(lead_unit=unit, then=Value(0)), default=Value(1), output_field=IntegerField())
