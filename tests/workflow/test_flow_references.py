"""The flows moved into the domains' rooms: migration 0014 rewrites viewflow's stored references
to them (each process's flow class, each task's node), both ways, and leaves others alone."""

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from viewflow.workflow.fields import get_flow_ref, import_flow_by_ref
from viewflow.workflow.models import Process, Task

from cases.models import PreworkItem, Stage
from tests.cases.factories import KeyProjectFactory, PreworkItemFactory, set_stage
from workflow.coordination import launch
from workflow.coordination.flows import PreworkFlow

migration = importlib.import_module("workflow.migrations.0014_flow_references")

pytestmark = pytest.mark.django_db


def stored(model, pk, field):
    """The raw string in the column, as the database holds it."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {field} FROM {model._meta.db_table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def run(direction):
    # The migration reads only the schema editor's connection (SQLite gives no editor inside the
    # test's transaction).
    direction(apps, SimpleNamespace(connection=connection))


def test_the_old_references_of_a_running_flow_are_rewritten_and_back(org):
    # Given a pre-work flow whose references are stored the way they were before the move
    project = KeyProjectFactory(lead_unit=org.park)
    set_stage(project, Stage.PREWORK)
    item = PreworkItemFactory(project=project, approving_unit=org.department, required=True)
    process = launch.start_prework_flow(PreworkItem.objects.get(pk=item.pk))
    task = Task.objects.get(process=process, flow_task=PreworkFlow.approve)
    Process.objects.filter(pk=process.pk).update(flow_class="workflow/flows.PreworkFlow")
    start = Task.objects.filter(process=process).exclude(pk=task.pk).values_list("pk", flat=True).first()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE viewflow_task SET flow_task = %s WHERE id = %s", ["workflow/flows.PreworkFlow.approve", task.pk])
        # a reference of some other app's flow, which the migration must not touch
        cursor.execute("UPDATE viewflow_task SET flow_task = %s WHERE id = %s", ["other/flows.Other.start", start])

    # When the migration runs
    run(migration.forwards)

    # Then they name the new module, the flow works from them again, and a stranger's is untouched
    assert stored(Process, process.pk, "flow_class") == "workflow_coordination/flows.PreworkFlow"
    assert stored(Task, task.pk, "flow_task") == "workflow_coordination/flows.PreworkFlow.approve"
    assert Task.objects.get(pk=task.pk).flow_task == PreworkFlow.approve
    assert stored(Task, start, "flow_task") == "other/flows.Other.start"

    # And backwards they are the old ones again
    run(migration.backwards)
    assert stored(Process, process.pk, "flow_class") == "workflow/flows.PreworkFlow"
    assert stored(Task, task.pk, "flow_task") == "workflow/flows.PreworkFlow.approve"


def test_every_flow_the_migration_names_is_where_it_says():
    for old, new in migration.MOVED.items():
        flow_class = import_flow_by_ref(new)
        assert get_flow_ref(flow_class) == new and old.endswith(flow_class.__name__)
