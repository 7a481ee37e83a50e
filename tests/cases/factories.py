"""Factories for the domain's models, and a small organisation with one person per role."""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import factory
from django.contrib.auth.models import User
from django.utils import timezone

from cases.financing.models import Docking
from cases.models import (
    AnnualPlan,
    Blocker,
    KeyProject,
    LeaderResponsibility,
    Person,
    PreworkItem,
    PreworkKind,
    Rank,
    Role,
    Unit,
    UnitKind,
)

PASSWORD = "a-Long-test-passw0rd"


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    name = factory.Sequence(lambda n: f"单位{n:04d}")
    short_name = factory.LazyAttribute(lambda u: u.name[:6])
    kind = UnitKind.DEPARTMENT


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n:04d}")
    password = factory.django.Password(PASSWORD)


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"人员{n:04d}")
    unit = factory.SubFactory(UnitFactory)
    role = Role.UNIT_STAFF
    rank = Rank.STAFF
    title = "科员"


class KeyProjectFactory(factory.django.DjangoModelFactory):
    """A project in the reserve pool. Use ``set_stage`` to place it elsewhere in a test."""

    class Meta:
        model = KeyProject
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"2026-TS-{n:04d}")
    name = factory.Sequence(lambda n: f"测试项目{n}")
    industry = "new_materials"
    region = factory.SubFactory(UnitFactory, kind=UnitKind.DISTRICT)
    total_investment = Decimal("100000000.00")
    capital_gap = Decimal("30000000.00")

    @factory.post_generation
    def cooperating_units(self, create, extracted, **kwargs):
        if create and extracted:
            self.cooperating_units.set(extracted)


class AnnualPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AnnualPlan

    project = factory.SubFactory(KeyProjectFactory)
    year = factory.LazyFunction(lambda: timezone.localdate().year)
    planned_investment = Decimal("40000000.00")


class PreworkItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PreworkItem

    project = factory.SubFactory(KeyProjectFactory)
    kind = PreworkKind.LAND
    approving_unit = factory.SubFactory(UnitFactory)
    statutory_days = 20
    required = True


class BlockerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Blocker

    project = factory.SubFactory(KeyProjectFactory)
    title = factory.Sequence(lambda n: f"问题{n}")
    category = "land"


class DockingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Docking

    project = factory.SubFactory(KeyProjectFactory)
    institution = factory.SubFactory(UnitFactory, kind=UnitKind.INSTITUTION)


def set_stage(project, stage, **extra):
    """Put a record in a state for a test's setup, bypassing the services on purpose."""
    type(project).objects.filter(pk=project.pk).update(stage=stage, **extra)
    project.refresh_from_db()
    return project


def set_state(record, state):
    type(record).objects.filter(pk=record.pk).update(state=state)
    record.refresh_from_db()
    return record


def ready_to_select(project, *, leader):
    """Fill in what reserve -> prework asks for."""
    KeyProject.objects.filter(pk=project.pk).update(
        responsible_leader=leader,
        planned_start=datetime.date(2026, 3, 1),
        planned_finish=datetime.date(2028, 12, 31),
    )
    AnnualPlanFactory(project=project)
    project.refresh_from_db()
    return project


class OrgFactory:
    """A city in miniature: the commission, a district, a park, a second department, a
    bank and an enterprise, with one person in each role.

    ``org.project`` is led by the park, lies in the district, is owned by the enterprise
    and has ``org.leader`` as its responsible leader; ``org.other_project`` belongs to
    nobody of them.
    """

    @classmethod
    def create(cls):
        commission = UnitFactory(name="发改委", kind=UnitKind.DEPARTMENT)
        district = UnitFactory(name="江城区", kind=UnitKind.DISTRICT)
        park = UnitFactory(name="高新区", kind=UnitKind.PARK, parent=district)
        department = UnitFactory(name="自然资源局", kind=UnitKind.DEPARTMENT)
        other_unit = UnitFactory(name="东湖区", kind=UnitKind.DISTRICT)
        bank = UnitFactory(name="开发银行", kind=UnitKind.INSTITUTION)
        enterprise = UnitFactory(name="华远科技", kind=UnitKind.ENTERPRISE)

        def person(username, unit, role, rank=Rank.STAFF):
            return PersonFactory(user__username=username, name=username, unit=unit, role=role, rank=rank)

        org = SimpleNamespace(
            commission=commission,
            district=district,
            park=park,
            department=department,
            other_unit=other_unit,
            bank_unit=bank,
            enterprise=enterprise,
        )
        org.secretariat = person("secretariat", commission, Role.SECRETARIAT, Rank.SECTION_CHIEF)
        org.supervisor = person("supervisor", commission, Role.SUPERVISOR, Rank.SECTION_CHIEF)
        org.leader = person("leader", commission, Role.LEADER, Rank.CITY_LEADER)
        org.other_leader = person("other_leader", commission, Role.LEADER, Rank.CITY_LEADER)
        org.head = person("head", park, Role.UNIT_HEAD, Rank.UNIT_CHIEF)
        org.staff = person("staff", park, Role.UNIT_STAFF)
        org.dept_head = person("dept_head", department, Role.UNIT_HEAD, Rank.UNIT_CHIEF)
        org.other_head = person("other_head", other_unit, Role.UNIT_HEAD, Rank.UNIT_CHIEF)
        org.bank = person("bank", bank, Role.INSTITUTION)
        org.owner = person("owner", enterprise, Role.OWNER)
        park.head = org.head
        park.save()
        LeaderResponsibility.objects.create(leader=org.other_leader, unit=other_unit)

        org.project = KeyProjectFactory(
            code="2026-GX-0001",
            region=district,
            lead_unit=park,
            owner=enterprise,
            responsible_leader=org.leader,
        )
        org.other_project = KeyProjectFactory(code="2026-GX-0002", region=other_unit, lead_unit=other_unit)
        org.everyone = [
            org.secretariat,
            org.supervisor,
            org.leader,
            org.other_leader,
            org.head,
            org.staff,
            org.dept_head,
            org.other_head,
            org.bank,
            org.owner,
        ]
        return org
