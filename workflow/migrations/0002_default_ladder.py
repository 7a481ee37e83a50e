"""The escalation ladder of DESIGN section 5, as editable data."""

from decimal import Decimal

from django.db import migrations

DEFAULT = [
    # (level, trigger, amount, action)
    (0, "time_used", Decimal("0.75"), "remind_owner"),
    (0, "due_day", Decimal("0"), "remind_owner"),
    (1, "overdue", Decimal("1"), "tell_unit_head"),
    (2, "overdue", Decimal("3"), "tell_case_leader"),
    (3, "overdue", Decimal("5"), "supervision_order"),
    (4, "overdue", Decimal("10"), "propose_interview"),
]
# A supervision order left unanswered goes straight to an interview.
SUPERVISION_RESPONSE = [
    (0, "time_used", Decimal("0.75"), "remind_owner"),
    (0, "due_day", Decimal("0"), "remind_owner"),
    (1, "overdue", Decimal("1"), "tell_unit_head"),
    (4, "overdue", Decimal("2"), "propose_interview"),
]


def create(apps, schema_editor):
    EscalationStep = apps.get_model("workflow", "EscalationStep")
    for kind, rungs in (("default", DEFAULT), ("supervision_response", SUPERVISION_RESPONSE)):
        for level, trigger, amount, action in rungs:
            EscalationStep.objects.get_or_create(
                kind=kind, level=level, trigger=trigger, amount=amount, defaults={"action": action}
            )


def remove(apps, schema_editor):
    apps.get_model("workflow", "EscalationStep").objects.filter(kind__in=["default", "supervision_response"]).delete()


class Migration(migrations.Migration):
    dependencies = [("workflow", "0001_initial")]

    operations = [migrations.RunPython(create, remove)]
