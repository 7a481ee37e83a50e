"""The flows moved into the domains' rooms (``workflow.coordination.flows``,
``workflow.monthly.flows``), so viewflow's references to them, stored with every process
(``flow_class``) and task (``flow_task``), name the new modules. Only those strings change; the
rows stay where they are. Reversible."""

from django.db import migrations

MOVED = {
    "workflow/flows.BlockerFlow": "workflow_coordination/flows.BlockerFlow",
    "workflow/flows.PreworkFlow": "workflow_coordination/flows.PreworkFlow",
    "workflow/flows.SupervisionFlow": "workflow_coordination/flows.SupervisionFlow",
    "workflow/flows.InterviewFlow": "workflow_coordination/flows.InterviewFlow",
    "workflow/flows.DockingFollowUpFlow": "workflow_coordination/flows.DockingFollowUpFlow",
    "workflow/flows.ReportFlow": "workflow_monthly/flows.ReportFlow",
    "workflow/flows.DecisionFlow": "workflow_monthly/flows.DecisionFlow",
}


def rename(apps, schema_editor, pairs):
    process_table = apps.get_model("viewflow", "Process")._meta.db_table
    task_table = apps.get_model("viewflow", "Task")._meta.db_table
    quote = schema_editor.connection.ops.quote_name
    with schema_editor.connection.cursor() as cursor:
        for old, new in pairs.items():
            cursor.execute(
                f"UPDATE {quote(process_table)} SET {quote('flow_class')} = %s WHERE {quote('flow_class')} = %s",
                [new, old],
            )
            # A task's reference is its flow's and the node's name: "<flow>.<node>".
            cursor.execute(
                f"UPDATE {quote(task_table)} SET {quote('flow_task')} = %s || SUBSTR({quote('flow_task')}, %s) "
                f"WHERE {quote('flow_task')} LIKE %s",
                [new, len(old) + 1, f"{old}.%"],
            )


def forwards(apps, schema_editor):
    rename(apps, schema_editor, MOVED)


def backwards(apps, schema_editor):
    rename(apps, schema_editor, {new: old for old, new in MOVED.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("workflow", "0013_clocks_without_a_case"),
        ("viewflow", "0015_task_scheduled"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
