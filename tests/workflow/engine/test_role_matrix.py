"""The role and unit matrix of the coordination engine: every role against every task, through
the API and the pages. Nobody sees a task outside their scope, and nobody acts on another
unit's task, or on a task their role does not do.

The world (``OrgFactory``): ``park_task`` approves a pre-work item of ``org.project`` for the
park; ``other_task`` approves one of ``org.other_project`` for the other district; ``triage``
is the secretariat's triage of a blocker the park reported on ``org.project``. A task is seen
by those who may see its case, its unit's people and its owner.
"""

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.test import Client
from rest_framework.test import APIClient
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from cases import services as case_services
from cases.models import PreworkItem, Stage
from tests.cases.factories import OrgFactory, PreworkItemFactory, set_stage
from workflow.coordination import launch
from workflow.coordination.flows import BlockerFlow, PreworkFlow
from workflow.coordination.models import BlockerProcess
from workflow.engine.models import TaskClock

ROLES = ["secretariat", "supervisor", "leader", "other_leader", "head", "staff", "dept_head", "other_head", "bank", "owner"]
CALLERS = ROLES + ["anonymous", "no_person"]
TASKS = ["park_task", "other_task", "triage"]
NOT_GOVERNMENT = {"bank", "owner", "no_person"}

# Who may see each task (its page, its detail, its process), who may do it, who may pause its clock.
SEES = {
    "park_task": {"secretariat", "supervisor", "leader", "head", "staff"},
    "other_task": {"secretariat", "supervisor", "other_leader", "other_head"},
    "triage": {"secretariat", "supervisor", "leader", "head", "staff"},
}
DOES = {"park_task": {"head", "staff"}, "other_task": {"other_head"}, "triage": {"secretariat"}}
PAUSES = {
    "park_task": {"secretariat", "supervisor", "head"},
    "other_task": {"secretariat", "supervisor", "other_head"},
    "triage": {"secretariat", "supervisor"},
}
COMPLETE = {
    "park_task": {"decision": "complete", "done_on": "2026-10-09", "document_number": "审批〔2026〕1号"},
    "other_task": {"decision": "complete", "done_on": "2026-10-09", "document_number": "审批〔2026〕2号"},
    "triage": {"decision": "reject", "reason": "重复上报"},
}

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once inside a transaction rolled back at the end; each test runs in a savepoint."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield _build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def _build_world():
    org = OrgFactory.create()
    users = {role: getattr(org, role).user for role in ROLES}
    users["no_person"] = User.objects.create_user("no_person", password="x")
    tasks = {}
    for name, project, unit in (("park_task", org.project, org.park), ("other_task", org.other_project, org.other_unit)):
        set_stage(project, Stage.PREWORK)
        item = PreworkItemFactory(project=project, approving_unit=unit, title=f"{name} 用地预审")
        launch.start_prework_flow(PreworkItem.objects.select_related("project").get(pk=item.pk))
        tasks[name] = Task.objects.get(flow_task=PreworkFlow.approve, process__preworkprocess__item=item).pk
    blocker = case_services.blocker_report(
        project=org.project, actor=org.staff.user, data={"title": "triage 用地指标不足", "category": "land"}
    )
    tasks["triage"] = Task.objects.get(
        flow_task=BlockerFlow.triage, process=BlockerProcess.objects.get(blocker=blocker)
    ).pk
    return SimpleNamespace(org=org, users=users, tasks=tasks)


def api_for(w, caller):
    client = APIClient()
    if caller != "anonymous":
        client.force_authenticate(w.users[caller])
    return client


def pages_for(w, caller):
    client = Client()
    if caller != "anonymous":
        client.force_login(w.users[caller])
    return client


def task_state(pk):
    task = Task.objects.get(pk=pk)
    clock = TaskClock.objects.get(task_id=pk)
    return (task.status, task.owner_id, clock.paused_at, clock.closed_at)


def url(task, name):
    return task.flow_task.reverse(name, args=[task.process_id, task.pk])


@pytest.mark.parametrize("name", TASKS)
@pytest.mark.parametrize("caller", CALLERS)
def test_the_api_follows_role_and_unit(world, caller, name):
    pk = world.tasks[name]
    api = api_for(world, caller)
    before = task_state(pk)

    detail = api.get(f"/api/tasks/{pk}/")
    lists = [api.get(path) for path in ("/api/tasks/", "/api/tasks/queue/", "/api/tasks/overdue/")]
    if caller == "anonymous" or caller in NOT_GOVERNMENT:
        assert detail.status_code in (401, 403) and all(r.status_code in (401, 403) for r in lists)
    elif caller in SEES[name]:
        assert detail.status_code == 200 and detail.json()["can_act"] is (caller in DOES[name])
    else:
        assert detail.status_code == 404
    if detail.status_code != 200:
        assert f"{name} " not in detail.content.decode()
    queue = lists[1].json()["results"] if lists[1].status_code == 200 else []
    assert (pk in [row["id"] for row in queue]) is (caller in DOES[name])

    # Refused writes change nothing; the permitted ones go through.
    pause = api.post(f"/api/tasks/{pk}/pause/", {"reason": "等待上级批复"}, format="json")
    if caller in PAUSES[name]:
        assert pause.status_code == 200
        assert api.post(f"/api/tasks/{pk}/resume/").status_code == 200
    else:
        assert pause.status_code in (401, 403, 404)
        assert task_state(pk) == before

    claim = api.post(f"/api/tasks/{pk}/claim/")
    complete = api.post(f"/api/tasks/{pk}/complete/", COMPLETE[name], format="json")
    if caller in DOES[name]:
        assert claim.status_code == 200 and complete.status_code == 200, complete.content
        assert Task.objects.get(pk=pk).status == STATUS.DONE
    else:
        expected = 403 if caller in SEES[name] else 404
        if caller == "anonymous" or caller in NOT_GOVERNMENT:
            expected = 403
        assert claim.status_code in (expected, 401) and complete.status_code in (expected, 401)
        assert task_state(pk)[:2] == before[:2]


@pytest.mark.parametrize("name", TASKS)
@pytest.mark.parametrize("caller", CALLERS)
def test_the_pages_follow_role_and_unit(world, caller, name):
    pk = world.tasks[name]
    task = Task.objects.get(pk=pk)
    client = pages_for(world, caller)
    before = task_state(pk)

    deadline = client.get(f"/workflow/tasks/{pk}/")
    viewflow_detail = client.get(url(task, "detail"))
    process_detail = client.get(task.flow_task.flow_class.instance.reverse("process_detail", args=[task.process_id]))
    process_url = task.flow_task.flow_class.instance.reverse("process_detail", args=[task.process_id])
    process_list = client.get(task.flow_task.flow_class.instance.reverse("process_list"))
    if caller == "anonymous":
        assert deadline.status_code == 302 and deadline["Location"].startswith("/accounts/login/")
        assert {viewflow_detail.status_code, process_detail.status_code, process_list.status_code} <= {302, 403}
        return
    if caller in NOT_GOVERNMENT:  # the coordination application is closed to them
        responses = [deadline, viewflow_detail, process_detail, process_list]
        responses += [client.post(f"/workflow/tasks/{pk}/clock/", {"action": "pause", "reason": "x"})]
        responses += [client.post(url(task, "assign")), client.get(url(task, "execute"))]
        # ... but for an owner's own cases' monthly reports: these other flows' pages are refused
        # to it, or not found.
        refused = {403, 404} if caller == "owner" else {403}
        assert {r.status_code for r in responses} <= refused, [r.status_code for r in responses]
        assert task_state(pk) == before
        return
    if caller in SEES[name]:
        assert deadline.status_code == 200 and viewflow_detail.status_code == 200
        assert process_detail.status_code == 200
        assert f'href="{process_url}"' in process_list.content.decode()
        # Cancel is offered exactly to who may open the cancel page (viewflow offers it to all)
        cancel = client.get(task.flow_task.flow_class.instance.reverse("process_cancel", args=[task.process_id]))
        assert ("data-process-cancel" in process_detail.content.decode()) is (cancel.status_code == 200), cancel.status_code
    else:
        assert deadline.status_code == 404
        assert viewflow_detail.status_code == 403 and process_detail.status_code == 403
        assert process_list.status_code == 403 or f'href="{process_url}"' not in process_list.content.decode()
        assert f"{name} " not in deadline.content.decode() + viewflow_detail.content.decode()

    pause = client.post(f"/workflow/tasks/{pk}/clock/", {"action": "pause", "reason": "等待上级批复"})
    if caller in PAUSES[name]:
        assert pause.status_code == 302 and TaskClock.objects.get(task_id=pk).paused_at is not None
        client.post(f"/workflow/tasks/{pk}/clock/", {"action": "resume"})
    else:
        assert pause.status_code in (403, 404)
    assert TaskClock.objects.get(task_id=pk).paused_at is None

    assign = client.post(url(task, "assign"))
    execute = client.get(url(task, "execute"))
    if caller in DOES[name]:
        assert assign.status_code == 302 and execute.status_code == 200
        submitted = client.post(url(task, "execute"), COMPLETE[name])
        assert submitted.status_code == 302
        assert Task.objects.get(pk=pk).status == STATUS.DONE
    else:
        assert assign.status_code == 403 and execute.status_code == 403
        assert task_state(pk)[:2] == before[:2]


def test_cancel_is_offered_to_an_administrator_and_not_to_the_unit_that_works_the_task(world):
    # Cancelling a process is viewflow's manage permission: the administrators', nobody else's.
    task = Task.objects.get(pk=world.tasks["park_task"])
    admin = world.users["secretariat"]
    admin.is_superuser = True
    admin.save(update_fields=["is_superuser"])
    clients = {caller: pages_for(world, caller) for caller in ("secretariat", "head")}
    clients["head"].get("/workflow/inbox/")  # the flows' pages are routed on the first request
    process_url = task.flow_task.flow_class.instance.reverse("process_detail", args=[task.process_id])
    offered = {caller: "data-process-cancel" in client.get(process_url).content.decode() for caller, client in clients.items()}
    assert offered == {"secretariat": True, "head": False}
