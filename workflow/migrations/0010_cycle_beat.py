"""The daily tick of the monthly cycle as a django-celery-beat periodic task, so an administrator
can change when it runs in the admin (entries in CELERY_BEAT_SCHEDULE are rewritten at each
start of beat; a row written here is not). The old lights-only entry is removed."""

from django.conf import settings
from django.db import migrations

NAME = "workflow-monthly-cycle"


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name="workflow-monthly-lights").delete()
    schedule, _created = CrontabSchedule.objects.get_or_create(
        minute="15", hour="7", day_of_week="*", day_of_month="*", month_of_year="*", timezone=settings.TIME_ZONE
    )
    PeriodicTask.objects.get_or_create(
        name=NAME,
        defaults={
            "task": "workflow.tasks.cycle_tick",
            "crontab": schedule,
            "description": "Runs the steps of this month's cycle whose working day has come (see the cycle steps).",
        },
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("workflow", "0009_cycle_defaults"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create, remove)]
