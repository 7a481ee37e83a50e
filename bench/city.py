"""A synthetic city of any size for the benchmarks, written straight to the database with bulk_create.

The services write one audited row at a time, which is right for people and far too slow
for ten thousand cases, so this module builds the rows itself: the organisation (units of
every kind, people in every role), the key projects over all stages with their cooperating
units, this year's annual plan, pre-work items, blockers, dockings and a short audit trail.

Every project is drawn from its own seeded random generator, so project number ``i`` is the
same whatever the size of the city; ``City.showcase_project_id`` names the first project,
which always has pre-work items, blockers, dockings and audit events.
"""

import datetime
import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone

from cases.demo.city import (
    BANKS,
    BLOCKER_LEAD_UNIT,
    BLOCKER_TEMPLATES,
    CITY_REGION,
    COMMISSION,
    DEPARTMENTS,
    DISTRICTS,
    INDUSTRY_PROFILES,
    OPTIONAL_PREWORK,
    PARKS,
    PLATFORMS,
    PREWORK_SET,
    REGION_CODES,
    STAGE_PLAN,
    platform_project_code,
)
from cases.financing.models import Docking, DockingState
from cases.models import (
    AnnualPlan,
    AuditAction,
    AuditEvent,
    Blocker,
    BlockerState,
    KeyProject,
    LeaderResponsibility,
    Level,
    Person,
    PreworkItem,
    PreworkKind,
    PreworkState,
    Rank,
    RegionCode,
    Role,
    Stage,
    Unit,
    UnitKind,
)

BATCH_SIZE = 2000
WAN = Decimal(10000)
CENT = Decimal("0.01")
PROJECTS_PER_ENTERPRISE = 2
SERIALS_PER_CODE = 9999  # a project code ends in four digits

# The transitions that bring a case from the reserve pool to each stage, in order.
TRANSITIONS_TO = {
    Stage.RESERVE: [],
    Stage.PREWORK: [("select", Stage.RESERVE, Stage.PREWORK)],
    Stage.DOCKING: [
        ("select", Stage.RESERVE, Stage.PREWORK),
        ("open_docking", Stage.PREWORK, Stage.DOCKING),
    ],
    Stage.FINANCING: [
        ("select", Stage.RESERVE, Stage.PREWORK),
        ("open_docking", Stage.PREWORK, Stage.DOCKING),
        ("secure_financing", Stage.DOCKING, Stage.FINANCING),
    ],
    Stage.CONSTRUCTION: [
        ("select", Stage.RESERVE, Stage.PREWORK),
        ("open_docking", Stage.PREWORK, Stage.DOCKING),
        ("secure_financing", Stage.DOCKING, Stage.FINANCING),
        ("start_construction", Stage.FINANCING, Stage.CONSTRUCTION),
    ],
}
TRANSITIONS_TO[Stage.COMPLETED] = [
    *TRANSITIONS_TO[Stage.CONSTRUCTION],
    ("complete", Stage.CONSTRUCTION, Stage.COMPLETED),
]
STAGES_WITH_DOCKINGS = {Stage.DOCKING, Stage.FINANCING, Stage.CONSTRUCTION, Stage.COMPLETED}


@dataclass
class City:
    secretariat_user: User
    showcase_project_id: int
    rows: dict = field(default_factory=dict)


class CityBuilder:
    """Builds the rows in memory, then writes each table with one bulk_create."""

    def __init__(self, project_count, *, seed=2026):
        self.project_count = project_count
        self.seed = seed
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.units_by_name = {}
        self.rows = {}

    # Writing

    def _write(self, model, objects):
        model.objects.bulk_create(objects, batch_size=BATCH_SIZE)
        self.rows[model._meta.label] = self.rows.get(model._meta.label, 0) + len(objects)
        return objects

    # Organisation

    def _unit(self, name, short_name, kind, parent=None):
        unit = Unit(name=name, short_name=short_name, kind=kind, parent=parent)
        self.units_by_name[name] = unit
        return unit

    def build_organisation(self):
        government = [self._unit(name, short, UnitKind.DEPARTMENT) for name, short in DEPARTMENTS]
        government += [self._unit(name, short, UnitKind.DISTRICT) for name, short in DISTRICTS]
        government += [self._unit(name, short, UnitKind.PLATFORM) for name, short in PLATFORMS]
        self._write(Unit, list(self.units_by_name.values()))
        parks = [self._unit(name, short, UnitKind.PARK, self.units_by_name[district]) for name, short, district in PARKS]
        self._write(Unit, parks)
        government += parks
        self.banks = self._write(Unit, [self._unit(name, short, UnitKind.INSTITUTION) for name, short in BANKS])
        enterprise_count = max(1, -(-self.project_count // PROJECTS_PER_ENTERPRISE))
        industries = list(INDUSTRY_PROFILES)
        self.enterprises = self._write(
            Unit,
            [
                self._unit(
                    f"临江{INDUSTRY_PROFILES[industries[i % len(industries)]][2]}企业{i + 1:06d}有限公司",
                    "",
                    UnitKind.ENTERPRISE,
                )
                for i in range(enterprise_count)
            ],
        )
        self.districts = [self.units_by_name[name] for name, _short in DISTRICTS]
        self._write(
            RegionCode,
            [RegionCode(code=CITY_REGION[0], name=CITY_REGION[1])]
            + [RegionCode(code=REGION_CODES[d.name], name=d.name, unit=d) for d in self.districts],
        )
        self.departments = [self.units_by_name[name] for name, _short in DEPARTMENTS]
        self.lead_units = parks + [self.units_by_name[name] for name, _short in PLATFORMS] + self.districts
        self.commission = self.units_by_name[COMMISSION]

        # People: (username, name, unit, role, rank, title).
        people = [
            ("secretariat", "秘书处主任", self.commission, Role.SECRETARIAT, Rank.SECTION_CHIEF, "重点项目办主任"),
            ("supervisor", "督查专员", self.units_by_name["临江市人民政府督查室"], Role.SUPERVISOR,
             Rank.SECTION_CHIEF, "督查专员"),
        ]
        people += [
            (f"leader{n}", f"副市长{n}", self.commission, Role.LEADER, Rank.CITY_LEADER, "副市长") for n in (1, 2, 3)
        ]
        for serial, unit in enumerate(government, start=1):
            people.append((f"head{serial:02d}", f"{unit.short_name}主要负责人", unit, Role.UNIT_HEAD,
                           Rank.UNIT_CHIEF, "主要负责人"))
            people.append((f"staff{serial:02d}", f"{unit.short_name}科员", unit, Role.UNIT_STAFF, Rank.STAFF, "科员"))
        for serial, bank in enumerate(self.banks, start=1):
            people.append((f"bank{serial:02d}", f"{bank.short_name}客户经理", bank, Role.INSTITUTION, Rank.STAFF,
                           "客户经理"))
        for serial, enterprise in enumerate(self.enterprises[::10], start=1):
            people.append((f"owner{serial:06d}", f"业主代表{serial}", enterprise, Role.OWNER, Rank.STAFF, "项目经理"))

        # Unusable passwords: the benchmark logs in with force_login, and hashing is slow.
        users = self._write(
            User, [User(username=username, first_name=name, password=make_password(None)) for username, name, *_ in people]
        )
        persons = self._write(
            Person,
            [
                Person(user=user, name=name, unit=unit, role=role, rank=rank, title=title)
                for user, (_username, name, unit, role, rank, title) in zip(users, people, strict=True)
            ],
        )
        self.secretariat_user = users[0]
        self.leaders = [p for p in persons if p.role == Role.LEADER]
        heads = {p.unit_id: p for p in persons if p.role == Role.UNIT_HEAD}
        for unit in government:
            unit.head = heads[unit.pk]
        Unit.objects.bulk_update(government, ["head"], batch_size=BATCH_SIZE)
        self._write(
            LeaderResponsibility,
            [
                LeaderResponsibility(leader=self.leaders[index % len(self.leaders)], unit=unit)
                for index, unit in enumerate(self.lead_units)
            ],
        )

    # Projects

    def _project(self, index, rng):
        industries = list(INDUSTRY_PROFILES)
        industry = industries[index % len(industries)]
        abbreviation, products, _word = INDUSTRY_PROFILES[industry]
        serial = index // len(industries)
        code_year = self.today.year - serial // SERIALS_PER_CODE
        # The showcase project is in financing docking: it has every kind of record.
        stage = Stage.DOCKING if index == 0 else rng.choice(STAGE_PLAN)
        region = self.districts[index % len(self.districts)]
        size = rng.choice([3, 5, 8, 10, 12, 15, 20, 30, 50, 80])
        total = Decimal(size) * Decimal(rng.choice([1000, 2000, 5000])) * WAN
        age_days = rng.randint(150, 900)
        planned_start = self.today + datetime.timedelta(days=rng.randint(-400, 120))
        planned_finish = planned_start + datetime.timedelta(days=rng.choice([365, 540, 730, 1095]))
        gap_share = Decimal(rng.choice(["0", "0.2", "0.3", "0.4", "0.5"]))
        if stage in (Stage.DOCKING, Stage.FINANCING):
            gap_share = max(gap_share, Decimal("0.2"))
        stage_before_suspension = ""
        if stage == Stage.SUSPENDED:
            stage_before_suspension = rng.choice([Stage.PREWORK, Stage.CONSTRUCTION])
        built = stage in (Stage.CONSTRUCTION, Stage.COMPLETED) or stage_before_suspension == Stage.CONSTRUCTION
        completed_share = Decimal(1) if stage == Stage.COMPLETED else Decimal(rng.choice(["0.2", "0.35", "0.5"]))
        actual_start = planned_start if built else None
        actual_finish = planned_finish if stage == Stage.COMPLETED else None
        product = rng.choice(products)
        # The platform's code from a generator of its own, so that the project's other draws stay.
        project_code = platform_project_code(
            REGION_CODES[region.name], self.today - datetime.timedelta(days=age_days), index, random.Random(index)
        )
        return KeyProject(
            code=f"{code_year}-{abbreviation}-{serial % SERIALS_PER_CODE + 1:04d}",
            project_code=project_code,
            name=f"{region.short_name}{product}项目（第{index + 1}号）",
            description=f"{product}建设，总投资约{total // WAN}万元。",
            industry=industry,
            region=region,
            owner=self.enterprises[index // PROJECTS_PER_ENTERPRISE],
            level=rng.choice([Level.MUNICIPAL] * 6 + [Level.PROVINCIAL] * 3 + [Level.NATIONAL]),
            lead_unit=rng.choice(self.lead_units),
            responsible_leader=self.leaders[index % len(self.leaders)],
            total_investment=total,
            investment_completed_total=(total * completed_share).quantize(CENT) if built else Decimal(0),
            capital_gap=(total * gap_share).quantize(CENT),
            planned_start=planned_start,
            planned_finish=planned_finish,
            actual_start=actual_start,
            actual_finish=actual_finish,
            completion_accepted_on=actual_finish,
            demonstration=rng.random() < 0.15,
            stage=stage,
            stage_before_suspension=stage_before_suspension,
            stage_changed_at=self.now - datetime.timedelta(days=rng.randint(1, 60)),
            created_by=self.secretariat_user,
        ), age_days

    def _prework_items(self, project, rng):
        reached = self._path_stage(project)
        items = []
        for position, (kind, unit_name, statutory_days) in enumerate(PREWORK_SET):
            if reached == Stage.RESERVE:
                state = PreworkState.PENDING
            elif reached == Stage.PREWORK:
                state = PreworkState.DONE if position < 2 else (
                    PreworkState.IN_PROGRESS if position == 2 else PreworkState.PENDING
                )
            elif kind == PreworkKind.CONSTRUCTION_PERMIT and reached not in (Stage.CONSTRUCTION, Stage.COMPLETED):
                state = PreworkState.IN_PROGRESS
            elif kind == PreworkKind.ENERGY and rng.random() < 0.3:
                state = PreworkState.WAIVED
            else:
                state = PreworkState.DONE
            approving_unit = self.units_by_name[unit_name]
            started_on = self.today - datetime.timedelta(days=rng.randint(60, 300))
            done = state == PreworkState.DONE
            items.append(
                PreworkItem(
                    project=project,
                    kind=kind,
                    required=kind not in OPTIONAL_PREWORK,
                    approving_unit=approving_unit,
                    statutory_days=statutory_days,
                    state=state,
                    started_on=started_on if state != PreworkState.PENDING else None,
                    done_on=started_on + datetime.timedelta(days=statutory_days) if done else None,
                    document_number=f"临{approving_unit.short_name[1:3]}〔{self.today.year}〕{rng.randint(10, 300)}号"
                    if done
                    else "",
                    waiver_reason="年综合能耗低于1000吨标准煤，不单独进行节能审查" if state == PreworkState.WAIVED else "",
                )
            )
        return items

    @staticmethod
    def _path_stage(project):
        """The furthest stage of the ordinary path a case has reached."""
        if project.stage == Stage.SUSPENDED:
            return project.stage_before_suspension
        if project.stage == Stage.WITHDRAWN:
            return Stage.RESERVE
        return project.stage

    def _blockers(self, project, index, rng):
        reached = self._path_stage(project)
        if reached == Stage.RESERVE:
            return []
        count = 2 if index == 0 else rng.choice([0, 0, 1, 1, 2])
        blockers = []
        for number in range(count):
            category, title = BLOCKER_TEMPLATES[(index + number) % len(BLOCKER_TEMPLATES)]
            if index == 0:
                state = [BlockerState.ASSIGNED, BlockerState.REPORTED][number]
            elif reached in (Stage.CONSTRUCTION, Stage.COMPLETED):
                state = BlockerState.CLOSED_OUT
            else:
                state = rng.choice(list(BlockerState))
            triaged = state != BlockerState.REPORTED
            lead_unit = self.units_by_name.get(BLOCKER_LEAD_UNIT.get(category), project.region) if triaged else None
            resolved = state in (BlockerState.RESOLVED, BlockerState.CLOSED_OUT)
            reported_at = self.now - datetime.timedelta(days=rng.randint(20, 200))
            blockers.append(
                Blocker(
                    project=project,
                    title=title,
                    description=f"{project.name}：{title}。",
                    category=category,
                    reported_by=self.secretariat_user,
                    reporting_unit=self.commission,
                    lead_unit=lead_unit if state != BlockerState.REJECTED else None,
                    due_on=self.today + datetime.timedelta(days=rng.randint(-10, 30)) if triaged else None,
                    state=state,
                    resolution="经市级协调会议研究，已落实解决方案。" if resolved else "",
                    rejection_reason="不属于重点项目协调范围。" if state == BlockerState.REJECTED else "",
                    resolved_at=reported_at + datetime.timedelta(days=8) if resolved else None,
                    closed_at=reported_at + datetime.timedelta(days=10)
                    if state == BlockerState.CLOSED_OUT
                    else None,
                )
            )
        return blockers

    def _dockings(self, project, rng):
        reached = self._path_stage(project)
        if reached not in STAGES_WITH_DOCKINGS or not project.capital_gap:
            return []
        first_state = {
            Stage.DOCKING: DockingState.DUE_DILIGENCE,
            Stage.FINANCING: DockingState.INTENT_SIGNED,
        }.get(reached, DockingState.CREDIT_APPROVED)
        first, second = rng.sample(self.banks, 2)
        reached_intent = first_state in (DockingState.INTENT_SIGNED, DockingState.CREDIT_APPROVED)
        return [
            Docking(
                project=project,
                institution=first,
                state=first_state,
                intent_amount=project.capital_gap if reached_intent else None,
                credit_approved_amount=project.capital_gap if first_state == DockingState.CREDIT_APPROVED else None,
            ),
            Docking(project=project, institution=second, state=DockingState.CONTACTED),
        ]

    def _audit_events(self, project, age_days, prework_items, rng, content_types):
        """The creation, each stage transition, and one pre-work approval, dated in order."""
        common = {
            "actor": self.secretariat_user,
            "actor_name": "秘书处主任",
            "project": project,
        }
        moment = self.now - datetime.timedelta(days=age_days)
        project_fields = {
            "content_type": content_types[KeyProject],
            "object_id": str(project.pk),
            "object_repr": str(project)[:250],
        }
        events = [
            AuditEvent(
                at=moment,
                action=AuditAction.CREATED,
                to_state=Stage.RESERVE,
                changes={
                    "code": [None, project.code],
                    "lead_unit": [None, project.lead_unit_id],
                    "total_investment": [None, str(project.total_investment)],
                },
                **common,
                **project_fields,
            )
        ]
        path = list(TRANSITIONS_TO[self._path_stage(project)])
        if project.stage == Stage.SUSPENDED:
            path.append(("suspend", project.stage_before_suspension, Stage.SUSPENDED))
        elif project.stage == Stage.WITHDRAWN:
            path.append(("withdraw", Stage.RESERVE, Stage.WITHDRAWN))
        step_days = max(1, age_days // (len(path) + 2))
        for name, source, target in path:
            moment += datetime.timedelta(days=step_days, minutes=rng.randint(0, 400))
            events.append(
                AuditEvent(
                    at=moment,
                    action=AuditAction.TRANSITION,
                    transition=name,
                    from_state=source,
                    to_state=target,
                    reason="企业资金链紧张，项目暂缓推进" if name in ("suspend", "withdraw") else "",
                    **common,
                    **project_fields,
                )
            )
        done = next((item for item in prework_items if item.state == PreworkState.DONE), None)
        if done is not None:
            events.append(
                AuditEvent(
                    at=moment + datetime.timedelta(hours=2),
                    action=AuditAction.TRANSITION,
                    transition="complete",
                    from_state=PreworkState.IN_PROGRESS,
                    to_state=PreworkState.DONE,
                    changes={"done_on": [None, done.done_on.isoformat()]},
                    content_type=content_types[PreworkItem],
                    object_id=str(done.pk),
                    object_repr=f"{project.code} · {done.get_kind_display()}"[:250],
                    **common,
                )
            )
        events.append(
            AuditEvent(
                at=moment + datetime.timedelta(hours=3),
                action=AuditAction.UPDATED,
                changes={"cooperating_units": [[], sorted(unit.pk for unit in project.cooperating)]},
                **common,
                **project_fields,
            )
        )
        return events

    def build_projects(self):
        generators = [random.Random(f"{self.seed}-{index}") for index in range(self.project_count)]
        drawn = [self._project(index, rng) for index, rng in enumerate(generators)]
        projects = self._write(KeyProject, [project for project, _age in drawn])
        if any(project.pk is None for project in projects):
            raise RuntimeError("bulk_create did not return primary keys; the benchmark needs them")

        cooperating = KeyProject.cooperating_units.through
        links = []
        for project, rng in zip(projects, generators, strict=True):
            project.cooperating = rng.sample([d for d in self.departments if d != project.lead_unit], 2)
            links += [cooperating(keyproject=project, unit=unit) for unit in project.cooperating]
        self._write(cooperating, links)

        year = self.today.year
        self._write(
            AnnualPlan,
            [
                AnnualPlan(
                    project=project,
                    year=year,
                    planned_investment=(project.total_investment / 3).quantize(CENT),
                    completed_investment=(project.investment_completed_total * Decimal("0.6")).quantize(CENT),
                )
                for project in projects
            ],
        )

        prework_by_project = [self._prework_items(p, rng) for p, rng in zip(projects, generators, strict=True)]
        self._write(PreworkItem, [item for items in prework_by_project for item in items])

        blockers = [
            blocker
            for index, (project, rng) in enumerate(zip(projects, generators, strict=True))
            for blocker in self._blockers(project, index, rng)
        ]
        self._write(Blocker, blockers)
        blocker_cooperating = Blocker.cooperating_units.through
        self._write(
            blocker_cooperating,
            [
                blocker_cooperating(blocker=blocker, unit=blocker.project.region)
                for blocker in blockers
                if blocker.lead_unit_id is not None and blocker.lead_unit_id != blocker.project.region_id
            ],
        )

        self._write(
            Docking,
            [d for project, rng in zip(projects, generators, strict=True) for d in self._dockings(project, rng)],
        )

        content_types = ContentType.objects.get_for_models(KeyProject, PreworkItem)
        self._write(
            AuditEvent,
            [
                event
                for (project, age_days), items, rng in zip(drawn, prework_by_project, generators, strict=True)
                for event in self._audit_events(project, age_days, items, rng, content_types)
            ],
        )
        self.showcase_project_id = projects[0].pk

    def build(self):
        with transaction.atomic():
            self.build_organisation()
            self.build_projects()
        if connection.vendor == "postgresql":
            # What autovacuum would have done on a live database: fresh planner statistics.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        return City(
            secretariat_user=self.secretariat_user,
            showcase_project_id=self.showcase_project_id,
            rows=dict(self.rows),
        )


def build_city(project_count, *, seed=2026):
    """Write a city with ``project_count`` key projects into the (empty) database."""
    if project_count < 1:
        raise ValueError("A city needs at least one key project.")
    return CityBuilder(project_count, seed=seed).build()
