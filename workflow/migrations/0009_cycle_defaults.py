"""The monthly cycle's default timeline and the bulletin's default weights (DESIGN section 6), as editable data."""

from decimal import Decimal

from django.db import migrations

TIMELINE = [
    # (step, working day of the month)
    ("reports_open", 1),
    ("reports_due", 5),
    ("lights", 6),
    ("agenda", 8),
    ("meeting", 10),
    ("bulletin", 12),
]

WEIGHTS = [
    ("tasks_on_time", Decimal("25")),
    ("blockers_resolved", Decimal("15")),
    ("blocker_speed", Decimal("10")),
    ("reports_on_time", Decimal("15")),
    ("investment", Decimal("20")),
    ("lights", Decimal("15")),
]


def create(apps, schema_editor):
    CycleStep = apps.get_model("workflow", "CycleStep")
    ScoreWeight = apps.get_model("workflow", "ScoreWeight")
    for kind, day in TIMELINE:
        CycleStep.objects.get_or_create(kind=kind, defaults={"working_day": day})
    for measure, weight in WEIGHTS:
        ScoreWeight.objects.get_or_create(measure=measure, defaults={"weight": weight})


def remove(apps, schema_editor):
    apps.get_model("workflow", "CycleStep").objects.all().delete()
    apps.get_model("workflow", "ScoreWeight").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("workflow", "0008_monthly_cycle")]
    operations = [migrations.RunPython(create, remove)]
