"""Default stall rules: a docking with no step for ten working days in any open state is stalled."""

from django.db import migrations

OPEN_STATES = ["recommended", "contacted", "due_diligence", "intent_signed", "credit_approved"]


def create(apps, schema_editor):
    DockingStallRule = apps.get_model("cases", "DockingStallRule")
    for state in OPEN_STATES:
        DockingStallRule.objects.get_or_create(state=state, defaults={"working_days": 10})


def remove(apps, schema_editor):
    apps.get_model("cases", "DockingStallRule").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0006_financing_docking")]
    operations = [migrations.RunPython(create, remove)]
