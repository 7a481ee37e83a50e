"""The light rules of DESIGN section 5, as editable data."""

from decimal import Decimal

from django.db import migrations

DEFAULT = [
    # (measure, comparison, threshold, light)
    ("lag", "gte", Decimal("10"), "yellow"),  # lags the expected progress by 10 points or more
    ("lag", "gt", Decimal("30"), "red"),  # by more than 30
    ("start_missed", "gt", Decimal("0"), "yellow"),  # the planned start is missed
    ("start_missed", "gt", Decimal("3"), "red"),  # by more than 3 months
    ("task_level", "gte", Decimal("2"), "yellow"),  # a task is at level 2 of the ladder
    ("order_overdue", "gte", Decimal("1"), "red"),  # a supervision order is overdue
]


def create(apps, schema_editor):
    LightRule = apps.get_model("workflow", "LightRule")
    for measure, comparison, threshold, light in DEFAULT:
        LightRule.objects.get_or_create(measure=measure, comparison=comparison, threshold=threshold, light=light)


def remove(apps, schema_editor):
    apps.get_model("workflow", "LightRule").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("workflow", "0006_lights")]
    operations = [migrations.RunPython(create, remove)]
