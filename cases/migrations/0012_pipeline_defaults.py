"""The pipeline's default data: entry thresholds (1 亿元; 5,000 万元 for agriculture, social and
ecology projects), each project type's readiness checklist, and the existing cases' project types
read from their industries."""

from decimal import Decimal

from django.db import migrations

YI = Decimal("100000000")
THRESHOLDS = {
    "industrial": YI,
    "infrastructure": YI,
    "services": YI,
    "agriculture": YI / 2,
    "social": YI / 2,
    "ecology": YI / 2,
}
# 立项/备案, 规划选址, 用地预审, 环评, 节能审查, 可研, 初步设计, 施工许可, as each type needs them: an
# enterprise's plant is filed (备案) and needs no feasibility study or preliminary design approved;
# a government-invested project is approved through both.
CHECKLISTS = {
    "industrial": ["filing", "planning", "land", "eia", "energy", "construction_permit"],
    "services": ["filing", "planning", "land", "eia", "energy", "construction_permit"],
    "infrastructure": [
        "filing", "planning", "land", "eia", "energy", "feasibility", "preliminary_design", "construction_permit",
    ],
    "social": [
        "filing", "planning", "land", "eia", "energy", "feasibility", "preliminary_design", "construction_permit",
    ],
    "agriculture": ["filing", "land", "eia", "feasibility", "construction_permit"],
    "ecology": ["filing", "planning", "land", "eia", "feasibility", "preliminary_design", "construction_permit"],
}
TYPE_OF_INDUSTRY = {
    "infrastructure": "infrastructure",
    "livelihood": "social",
    "green": "ecology",
    "modern_services": "services",
    "other": "agriculture",
}


def add_defaults(apps, schema_editor):
    EntryThreshold = apps.get_model("cases", "EntryThreshold")
    ReadinessItem = apps.get_model("cases", "ReadinessItem")
    KeyProject = apps.get_model("cases", "KeyProject")
    for project_type, minimum in THRESHOLDS.items():
        EntryThreshold.objects.get_or_create(project_type=project_type, defaults={"minimum_investment": minimum})
    for project_type, kinds in CHECKLISTS.items():
        for position, kind in enumerate(kinds, start=1):
            ReadinessItem.objects.get_or_create(
                project_type=project_type, kind=kind, defaults={"position": position}
            )
    for industry, project_type in TYPE_OF_INDUSTRY.items():
        KeyProject.objects.filter(industry=industry).update(project_type=project_type)


def remove_defaults(apps, schema_editor):
    apps.get_model("cases", "EntryThreshold").objects.all().delete()
    apps.get_model("cases", "ReadinessItem").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0011_pipeline")]

    operations = [migrations.RunPython(add_defaults, remove_defaults)]
