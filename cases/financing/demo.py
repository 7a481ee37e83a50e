"""The demo's financing docking: the city's dockings as its cases' stories need them
(``CityBuilder``,
which ``seed_demo`` builds the city with); institutions with their types and a few branches, about
forty
products across the types and special lines, and the financing needs of the demo's cases in
docking and financing (most published on the white list and matched, a few drafts and some
waiting for review). Built through the services, dated over the last months; idempotent.
"""

import datetime
import random
from decimal import Decimal

import time_machine
from django.db import transaction
from django.utils import timezone

from cases.demo.city import BANKS
from cases.demo.projects import DemoBuilder, demo_exists
from cases.demo.projects import seed_demo as seed_city
from cases.models import Industry, InstitutionType, KeyProject, Person, Role, Stage, Unit, UnitKind

from . import matching, services
from .models import FinancialProduct, FinancingNeed, FinancingType, NeedState, SpecialLine

WAN = Decimal(10000)
BANK_OF_DEMO_USER = "国家开发银行临江分行"

OTHER_INSTITUTIONS = [
    ("中国人民财产保险股份有限公司临江分公司", "人保财险临江分公司", InstitutionType.INSURER),
    ("临江市产业投资引导基金", "市产业引导基金", InstitutionType.FUND),
    ("临江市融资担保有限公司", "市融资担保公司", InstitutionType.GUARANTEE),
    ("临江金融租赁有限公司", "临江金租", InstitutionType.LEASING),
]
BRANCHES = [
    ("国家开发银行临江分行江城业务部", "国开行江城业务部", BANK_OF_DEMO_USER),
    ("中国工商银行临江高新区支行", "工行高新区支行", "中国工商银行临江分行"),
    ("中国建设银行临江经开区支行", "建行经开区支行", "中国建设银行临江分行"),
]

I = Industry  # noqa: E741 - short for the tables below
TECH = [I.NEXT_GEN_IT, I.BIOTECH, I.NEW_MATERIALS, I.HIGH_END_EQUIPMENT, I.NEW_ENERGY]
MAKERS = [I.ADVANCED_MANUFACTURING, I.HIGH_END_EQUIPMENT, I.NEW_MATERIALS, I.NEW_ENERGY_VEHICLES, I.NEXT_GEN_IT]
PUBLIC = [I.INFRASTRUCTURE, I.LIVELIHOOD, I.MODERN_SERVICES]
GREEN = [I.GREEN, I.NEW_ENERGY, I.NEW_ENERGY_VEHICLES]
DOCKING_STAGES = [Stage.DOCKING, Stage.FINANCING]

# (name, type, special line, amount in 10k yuan (min, max), rate (min, max), term in months (min, max),
#  target industries (empty: any), target stages (empty: any), districts by short name (empty: all))
BANK_PRODUCTS = [
    ("固定资产项目贷款", FinancingType.LOAN, "", (500, 300000), ("3.20", "4.50"), (36, 180), [], [], []),
    ("专精特新贷", FinancingType.LOAN, SpecialLine.SPECIALIZED_SME, (500, 30000), ("3.00", "3.80"), (12, 72), MAKERS, DOCKING_STAGES, []),
    ("科技成果转化贷", FinancingType.LOAN, SpecialLine.SCI_TECH, (300, 20000), ("2.90", "3.60"), (12, 72), TECH, [], []),
    ("数字化转型贷", FinancingType.LOAN, SpecialLine.DIGITAL, (500, 50000), ("3.10", "3.90"), (12, 84),
     [I.NEXT_GEN_IT, I.DIGITAL_CREATIVE, I.ADVANCED_MANUFACTURING, I.MODERN_SERVICES], [], []),
    ("科技创新和技术改造再贷款", FinancingType.LOAN, SpecialLine.RELENDING, (1000, 80000), ("2.60", "3.20"), (12, 120),
     [I.ADVANCED_MANUFACTURING, I.HIGH_END_EQUIPMENT, I.NEW_MATERIALS, I.GREEN, I.NEW_ENERGY, I.NEW_ENERGY_VEHICLES], [], []),
    ("基础设施中长期贷款", FinancingType.LOAN, "", (20000, 800000), ("3.30", "4.20"), (60, 300), PUBLIC, [], []),
    ("绿色信贷", FinancingType.LOAN, "", (1000, 200000), ("3.00", "3.90"), (24, 180), GREEN, [], []),
    ("企业债券承销", FinancingType.BOND, "", (1000, 800000), ("2.50", "4.00"), (36, 120), [], [], []),
]
INSTITUTION_PRODUCTS = {
    InstitutionType.INSURER: [
        ("科技保险+研发贷", FinancingType.COMBINED, SpecialLine.SCI_TECH, (300, 20000), ("2.80", "3.50"), (12, 60), TECH, [], []),
        ("工程履约保证保险", FinancingType.INSURANCE, "", (100, 50000), ("0.50", "2.00"), (6, 60), PUBLIC, [], []),
        ("首台（套）重大技术装备保险", FinancingType.INSURANCE, "", (500, 80000), ("1.00", "3.00"), (6, 36),
         [I.HIGH_END_EQUIPMENT, I.ADVANCED_MANUFACTURING], [], []),
    ],
    InstitutionType.FUND: [
        ("产业引导基金股权投资", FinancingType.EQUITY, "", (2000, 100000), ("6.00", "8.00"), (36, 120), [], [], []),
        ("天使投资子基金", FinancingType.EQUITY, SpecialLine.SCI_TECH, (200, 5000), ("8.00", "12.00"), (36, 96), TECH, [], []),
        ("基础设施REITs配套投资", FinancingType.EQUITY, "", (10000, 300000), ("5.00", "7.00"), (60, 180), PUBLIC, [], []),
    ],
    InstitutionType.GUARANTEE: [
        ("政府性融资担保", FinancingType.GUARANTEE, "", (100, 20000), ("0.80", "1.50"), (6, 60), [], [], []),
        ("专精特新担保", FinancingType.GUARANTEE, SpecialLine.SPECIALIZED_SME, (100, 10000), ("0.50", "1.00"), (6, 36), MAKERS, [], []),
        ("县域产业担保", FinancingType.GUARANTEE, "", (100, 5000), ("1.00", "1.80"), (6, 36), [], [], ["清河县", "北川县"]),
    ],
    InstitutionType.LEASING: [
        ("设备融资租赁", FinancingType.LEASE, "", (500, 50000), ("4.50", "6.50"), (24, 96), MAKERS, [], []),
        ("新能源资产售后回租", FinancingType.LEASE, "", (1000, 100000), ("4.20", "5.80"), (36, 120), GREEN, [], []),
        ("城市基础设施直租", FinancingType.LEASE, "", (5000, 200000), ("4.00", "5.50"), (36, 180), PUBLIC, [], []),
    ],
}
# The products each bank offers (by position in BANK_PRODUCTS), and the districts of the rural bank.
BANK_RANGE = {
    BANK_OF_DEMO_USER: [0, 1, 2, 4, 5, 7],
    "中国工商银行临江分行": [0, 1, 3, 4, 6, 7],
    "中国建设银行临江分行": [0, 2, 3, 4, 5, 6, 7],
    "临江农村商业银行": [0, 1, 2, 3, 4, 6],
}
RURAL_BANK = "临江农村商业银行"
RURAL_DISTRICTS = ["清河县", "北川县", "西山区"]
BRANCH_PRODUCTS = {
    "国家开发银行临江分行江城业务部": [4],
    "中国工商银行临江高新区支行": [2, 3],
    "中国建设银行临江经开区支行": [1],
}

# The second need of a case, by its position among the cases: its type and term.
SECOND_NEEDS = [
    (FinancingType.EQUITY, 60),
    (FinancingType.LEASE, 48),
    (FinancingType.COMBINED, 36),
    (FinancingType.GUARANTEE, 24),
    (FinancingType.BOND, 60),
    (FinancingType.INSURANCE, 12),
]
COLLATERAL = ["土地使用权及在建工程抵押", "股权质押", "应收账款质押", "政府性融资担保公司担保", "设备抵押", "控股股东连带责任保证"]
PURPOSES = {
    FinancingType.LOAN: "{name}建设及设备购置",
    FinancingType.EQUITY: "{name}引入战略投资者，补充项目资本金",
    FinancingType.LEASE: "{name}生产设备融资租赁",
    FinancingType.COMBINED: "{name}研发投入及首批产品试制",
    FinancingType.GUARANTEE: "{name}流动资金贷款增信",
    FinancingType.BOND: "{name}发行企业债券募集建设资金",
    FinancingType.INSURANCE: "{name}工程履约及技术装备保险",
}


class FinancingDemo:
    def __init__(self, stdout=None, seed=2026):
        self.stdout = stdout
        self.rng = random.Random(seed)
        self.today = timezone.localdate()
        self.secretariat = (
            Person.objects.filter(role=Role.SECRETARIAT, user__is_superuser=True).select_related("user").first()
            or Person.objects.filter(role=Role.SECRETARIAT).select_related("user").first()
        )
        self.heads = {
            person.unit_id: person.user
            for person in Person.objects.filter(role=Role.UNIT_HEAD).select_related("user").order_by("pk")
        }
        self.districts = {unit.short_name: unit for unit in Unit.objects.filter(kind=UnitKind.DISTRICT)}

    def say(self, message):
        if self.stdout is not None:
            self.stdout.write(message)

    def at(self, days_ago, fn, **kwargs):
        moment = timezone.make_aware(
            datetime.datetime.combine(self.today - datetime.timedelta(days=days_ago), datetime.time(10, 0))
        ) + datetime.timedelta(minutes=self.rng.randint(0, 360))
        with time_machine.travel(moment, tick=False):
            return fn(**kwargs)

    # Institutions and products

    def institutions(self):
        banks = {name: Unit.objects.get(name=name) for name, _short in BANKS}
        Unit.objects.filter(pk__in=[bank.pk for bank in banks.values()]).update(institution_type=InstitutionType.BANK)
        others = {}
        for name, short, kind in OTHER_INSTITUTIONS:
            others[kind], _created = Unit.objects.get_or_create(
                name=name, defaults={"short_name": short, "kind": UnitKind.INSTITUTION, "institution_type": kind}
            )
        branches = {}
        for name, short, parent in BRANCHES:
            branches[name], _created = Unit.objects.get_or_create(
                name=name,
                defaults={
                    "short_name": short,
                    "kind": UnitKind.INSTITUTION,
                    "institution_type": InstitutionType.BANK,
                    "parent": banks[parent],
                },
            )
        return banks, others, branches

    def product(self, institution, template, days_ago):
        name, kind, line, (amount_min, amount_max), (rate_min, rate_max), (term_min, term_max), industries, stages, regions = (
            template
        )
        return self.at(
            days_ago,
            services.product_create,
            actor=self.secretariat.user,
            data={
                "institution": institution,
                "name": f"{institution.short_name}{name}",
                "financing_type": kind,
                "special_line": line,
                "amount_min": amount_min * WAN,
                "amount_max": amount_max * WAN,
                "rate_min": Decimal(rate_min),
                "rate_max": Decimal(rate_max),
                "term_months_min": term_min,
                "term_months_max": term_max,
                "industries": [str(i) for i in industries],
                "stages": [str(s) for s in stages],
                "regions": [self.districts[short] for short in regions if short in self.districts],
                "description": f"{institution.name}面向重点项目推出的{name}产品。",
            },
        )

    def products(self, banks, others, branches):
        days_ago = 200
        for bank_name, positions in BANK_RANGE.items():
            for position in positions:
                template = list(BANK_PRODUCTS[position])
                if bank_name == RURAL_BANK:
                    template[8] = RURAL_DISTRICTS
                self.product(banks[bank_name], template, days_ago)
                days_ago -= 2
        for kind, templates in INSTITUTION_PRODUCTS.items():
            for template in templates:
                self.product(others[kind], template, days_ago)
                days_ago -= 2
        for branch_name, positions in BRANCH_PRODUCTS.items():
            for position in positions:
                self.product(branches[branch_name], BANK_PRODUCTS[position], days_ago)
                days_ago -= 2

    # Needs

    def actor_for(self, project):
        head = self.heads.get(project.lead_unit_id)
        return head or self.secretariat.user

    def need(self, project, kind, amount, term, index, *, days_ago, until):
        """A need of ``project`` taken as far as ``until`` (a NeedState) along its lifecycle."""
        actor = self.actor_for(project)
        need = self.at(
            days_ago,
            services.need_create,
            project=project,
            actor=actor,
            data={
                "amount": amount,
                "financing_type": kind,
                "purpose": PURPOSES[kind].format(name=project.name),
                "term_months": term,
                "deadline": self.today + datetime.timedelta(days=self.rng.randint(60, 200)),
                "collateral": COLLATERAL[index % len(COLLATERAL)],
            },
        )
        if until == NeedState.DRAFT:
            return need
        need = self.at(days_ago - 1, services.need_transition, need=need, transition="submit", actor=actor)
        if until == NeedState.SUBMITTED:
            return need
        return self.at(
            max(days_ago - 3, 0), services.need_transition, need=need, transition="publish", actor=self.secretariat.user
        )

    def needs(self):
        projects = list(
            KeyProject.objects.filter(stage__in=DOCKING_STAGES, capital_gap__gt=0).select_related("lead_unit").order_by("pk")
        )
        for index, project in enumerate(projects):
            gap = project.capital_gap
            days_ago = 150 - index * 7 if index * 7 < 140 else 10 + index
            loan = (gap * Decimal("0.6")).quantize(Decimal("10000"))
            self.need(project, FinancingType.LOAN, loan, 60, index, days_ago=days_ago, until=NeedState.PUBLISHED)
            kind, term = SECOND_NEEDS[index % len(SECOND_NEEDS)]
            until = NeedState.PUBLISHED
            if index % 5 == 3:
                until = NeedState.SUBMITTED
            elif index % 7 == 5:
                until = NeedState.DRAFT
            self.need(project, kind, (gap - loan).quantize(Decimal("0.01")), term, index, days_ago=max(days_ago - 5, 1), until=until)
        return len(projects)




class CityBuilder(DemoBuilder):
    """The demo city, with the dockings that carry its cases into financing and construction."""

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


def seed_demo(stdout=None):
    """Build the demo city unless it is there already; returns whether it built it."""
    return seed_city(stdout, builder_class=CityBuilder)

def financing_demo_exists():
    return FinancialProduct.objects.exists() or FinancingNeed.objects.exists()


def seed_financing(stdout=None):
    """Seed the demo's institutions, products and needs unless there are some; returns whether it
    wrote them. The demo city (seed_demo) must be there first."""
    if not demo_exists() or financing_demo_exists():
        return False
    demo = FinancingDemo(stdout)
    if demo.secretariat is None:
        return False
    with transaction.atomic():
        banks, others, branches = demo.institutions()
        demo.products(banks, others, branches)
        cases = demo.needs()
        matches = matching.rematch_all()
    demo.say(
        f"{FinancialProduct.objects.count()} products, {FinancingNeed.objects.count()} needs of {cases} cases, "
        f"{matches} matches"
    )
    return True
