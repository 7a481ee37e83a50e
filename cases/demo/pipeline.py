"""The demo city's pipeline before the key list: its industrial clusters, ideas (谋划) that units
proposed lately, and a reserve pool of about 150 projects (the city's reserve cases and these)
with their readiness checklists worked to different points and planned starts over five years.

Drawn from a generator of its own, so that the city's cases keep their stories."""

import datetime
import random
from collections import defaultdict
from decimal import Decimal

from .. import services
from ..models import Industry, IndustryCluster, KeyProject, PreworkKind, ProjectType, Stage, Unit
from ..selectors import readiness_checklists
from .city import DISTRICTS, INDUSTRY_PROFILES, REGION_CODES, WAN, platform_project_code

CLUSTERS = [
    ("电子信息产业集群", Industry.NEXT_GEN_IT),
    ("生物医药产业集群", Industry.BIOTECH),
    ("高端装备制造产业链", Industry.HIGH_END_EQUIPMENT),
    ("先进材料产业集群", Industry.NEW_MATERIALS),
    ("光伏和新型储能产业链", Industry.NEW_ENERGY),
    ("新能源汽车产业链", Industry.NEW_ENERGY_VEHICLES),
    ("节能环保产业集群", Industry.GREEN),
    ("数字创意产业集群", Industry.DIGITAL_CREATIVE),
    ("绿色食品产业链", Industry.ADVANCED_MANUFACTURING),
]
TYPE_OF_INDUSTRY = {
    Industry.INFRASTRUCTURE: ProjectType.INFRASTRUCTURE,
    Industry.LIVELIHOOD: ProjectType.SOCIAL,
    Industry.GREEN: ProjectType.ECOLOGY,
    Industry.MODERN_SERVICES: ProjectType.SERVICES,
    Industry.OTHER: ProjectType.AGRICULTURE,
}
POOL_PROJECTS = 140
IDEAS = 14
# Who proposes the pool's projects: the parks and districts most, the platforms their works.
PROPOSERS = [
    "临江高新技术产业开发区管委会",
    "临江高新技术产业开发区管委会",
    "临江经济技术开发区管委会",
    "临港产业园管委会",
    *[name for name, _short in DISTRICTS],
]
WORKS_PROPOSERS = ["临江城市建设投资集团有限公司", "临江交通投资集团有限公司", "临江市住房和城乡建设局"]
APPROVERS = {
    PreworkKind.FILING: ("临江市发展和改革委员会", 5),
    PreworkKind.PLANNING: ("临江市自然资源和规划局", 15),
    PreworkKind.LAND: ("临江市自然资源和规划局", 20),
    PreworkKind.EIA: ("临江市生态环境局", 30),
    PreworkKind.ENERGY: ("临江市发展和改革委员会", 15),
    PreworkKind.FEASIBILITY: ("临江市发展和改革委员会", 20),
    PreworkKind.PRELIMINARY_DESIGN: ("临江市发展和改革委员会", 20),
    PreworkKind.CONSTRUCTION_PERMIT: ("临江市住房和城乡建设局", 7),
}
POOL_CODE_SERIALS = 5000  # the platform serials of the pool's codes start here, after the city's cases'


def project_type_of(industry):
    return TYPE_OF_INDUSTRY.get(industry, ProjectType.INDUSTRIAL)


PHASES = ["", "", "二期", "三期", "四期", "五期", "六期", "七期", "八期", "九期", "十期"]


class PipelineBuilder:
    """Mixed into the demo builder: ``build_clusters`` before the cases, ``build_pipeline`` after."""

    def build_clusters(self):
        self.clusters = {}
        for position, (name, industry) in enumerate(CLUSTERS, start=1):
            cluster, _created = IndustryCluster.objects.get_or_create(
                name=name, defaults={"industry": industry, "position": position}
            )
            self.clusters[industry] = cluster
        return self.clusters

    @staticmethod
    def phased_name(region, product, phases):
        """``东湖区储能电站项目``, and for the same product in the same place again its next phase
        (``二期``, ``三期`` …), as real projects are named."""
        phases[(region, product)] += 1
        phase = phases[(region, product)]
        if phase == 1:
            return f"{region}{product}项目"
        return f"{region}{product}{PHASES[phase] if phase < len(PHASES) else f'{phase}期'}项目"

    def cluster_of(self, industry):
        if not hasattr(self, "clusters"):
            self.build_clusters()
        return self.clusters.get(industry)

    def build_pipeline(self):
        rng = random.Random(1405)
        checklists = readiness_checklists()
        industries = list(INDUSTRY_PROFILES)
        regions = [self.units[name] for name, _short in DISTRICTS]
        year = self.today.year
        phases = defaultdict(int)
        for index in range(POOL_PROJECTS + IDEAS):
            industry = industries[index % len(industries)]
            abbr, products, _word = INDUSTRY_PROFILES[industry]
            region = regions[index % len(regions)]
            product = rng.choice(products)
            project_type = project_type_of(industry)
            works = project_type in (ProjectType.INFRASTRUCTURE, ProjectType.SOCIAL)
            lead = self.units[rng.choice(WORKS_PROPOSERS if works else PROPOSERS)]
            if lead.kind == "district":
                region = lead
            size = rng.choice([6, 8, 10, 12, 15, 20, 30, 50, 80, 120])
            total = Decimal(size) * Decimal(rng.choice([1000, 2000])) * WAN
            # Planned starts over the five years of the pool, most in the next two.
            start_year = year + rng.choice([1, 1, 1, 2, 2, 3, 4, 5])
            start = datetime.date(start_year, rng.randint(1, 12), rng.randint(1, 28))
            age = rng.randint(20, 400)
            is_idea = index >= POOL_PROJECTS
            data = {
                "name": self.phased_name(region.short_name, product, phases),
                "description": f"{product}，总投资约{total // WAN}万元。",
                "industry": industry,
                "industry_cluster": self.cluster_of(industry),
                "project_type": project_type,
                "region": region,
                "lead_unit": lead,
                "total_investment": total,
                "land_area_mu": Decimal(rng.choice([0, 30, 50, 80, 120, 200, 350])),
                "planned_start": start,
            }
            if is_idea:
                self.add_idea(index, data, rng, age=min(age, 60))
                continue
            issued_on = self.today - datetime.timedelta(days=age)
            data.update(
                {
                    "code": f"{issued_on.year}-{abbr}-{9000 - index:04d}",
                    "project_code": platform_project_code(
                        REGION_CODES[region.name], issued_on, POOL_CODE_SERIALS + index, rng
                    ),
                    "planned_finish": start + datetime.timedelta(days=rng.choice([540, 730, 1095])),
                }
            )
            plans = [
                {"year": start_year, "planned_investment": (total * Decimal("0.3")).quantize(Decimal("0.01"))}
            ]
            project = self.act(
                age, services.project_create, actor=self.secretariat.user, data=data, annual_plans=plans
            )
            self.work_the_checklist(project, checklists.get(project_type, []), rng, age)
        self.say(f"{KeyProject.objects.filter(stage=Stage.RESERVE).count()} projects in the reserve pool")

    def add_idea(self, index, data, rng, *, age):
        """An idea a unit's head proposed: some complete enough for the pool, some too small (one
        below the threshold of its type), some without the land estimated or a start."""
        data = {key: data[key] for key in ("name", "description", "industry", "industry_cluster", "project_type",
                                           "region", "total_investment", "land_area_mu", "planned_start")}
        if index % 4 == 1:
            data["total_investment"] = Decimal(rng.choice([2000, 3000, 4000])) * WAN
        if index % 4 == 2:
            data["land_area_mu"] = None
        if index % 5 == 3:
            data["planned_start"] = None
        # Read again: the builder's copy of a unit predates its head.
        unit = Unit.objects.select_related("head__user").get(pk=self.units[PROPOSERS[index % len(PROPOSERS)]].pk)
        actor = unit.head.user if unit.head_id else self.secretariat.user
        if actor == self.secretariat.user:
            data["lead_unit"] = unit
        idea = self.act(age, services.project_propose_idea, actor=actor, data=data)
        # The platform gives the idea its code when the unit registers it there; the project office records it.
        code = platform_project_code(
            REGION_CODES[data["region"].name], self.today - datetime.timedelta(days=age), POOL_CODE_SERIALS + index, rng
        )
        return self.act(
            age - 1, services.project_update, project=idea, actor=self.secretariat.user, data={"project_code": code},
            expected_version=idea.version,
        )

    def work_the_checklist(self, project, checklist, rng, age):
        """Its type's checklist worked to some point: the first items done, the next under way."""
        done = rng.randint(0, len(checklist))
        started = min(len(checklist), done + rng.choice([0, 1, 1, 2]))
        day = age - 5
        for position, line in enumerate(checklist[:started]):
            unit_name, days = APPROVERS[line.kind]
            item = self.act(
                day,
                services.prework_item_create,
                project=project,
                actor=self.secretariat.user,
                data={
                    "kind": line.kind,
                    "approving_unit": self.units[unit_name],
                    "statutory_days": days,
                    "required": line.kind != PreworkKind.CONSTRUCTION_PERMIT,
                },
            )
            if position >= done:
                continue
            finished = max(day - rng.randint(3, 20), 1)
            self.act(
                finished,
                services.prework_item_transition,
                item=item,
                transition="complete",
                actor=self.secretariat.user,
                fields={
                    "done_on": self.today - datetime.timedelta(days=finished),
                    "document_number": f"临审〔{self.today.year}〕{1000 + project.pk * 10 + position}号",
                },
            )
            day = finished
