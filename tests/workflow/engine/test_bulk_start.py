"""The bulk start of flows (``workflow.engine.bulk.start_many``): the rows of a one-by-one start,
row for row, in a fixed number of statements per batch; idempotent, and safe to redo after a crash."""

import copy
import datetime
import types
from decimal import Decimal

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from viewflow.workflow.models import Process, Task

from cases.models import Stage
from tests.cases.factories import KeyProjectFactory, set_stage
from workflow.coordination import interviews, orders
from workflow.coordination.flows import InterviewFlow, SupervisionFlow
from workflow.engine import bulk
from workflow.engine.models import TaskClock
from workflow.engine.permissions import unit_task
from workflow.monthly import services as monthly_services
from workflow.monthly.flows import ReportFlow
from workflow.monthly.models import MonthlyReport

NOW = timezone.make_aware(datetime.datetime(2026, 11, 2, 9))
OCTOBER = datetime.date(2026, 10, 1)


class Rollback(Exception):
    pass


def cases(org, count):
    projects = [set_stage(org.project, Stage.CONSTRUCTION, capital_gap=Decimal("0"))]
    for _ in range(count - 1):
        projects.append(set_stage(KeyProjectFactory(lead_unit=org.park), Stage.CONSTRUCTION, capital_gap=Decimal("0")))
    return projects


def reports(org, count):
    cases(org, count)
    monthly_services.reports_open(month=OCTOBER, now=NOW, enqueue=False)
    return list(MonthlyReport.objects.filter(month=OCTOBER).select_related("project").order_by("pk"))


def rows(flow_class, subject_field):
    """Every row the flow's processes own, with the database's ids replaced by what they stand for:
    a process by its subject, a task by its process and step."""
    process_class = flow_class.process_class
    subject_id = process_class._meta.get_field(subject_field).attname
    processes = {p["pk"]: p for p in process_class.objects.values("pk", subject_id)}
    subject_of = {pk: values[subject_id] for pk, values in processes.items()}
    tasks = list(Task.objects.filter(process_id__in=subject_of).values())
    task_key = {task["id"]: (subject_of[task["process_id"]], task["flow_task"].name) for task in tasks}

    def task_row(task):
        row = dict(task, id=task_key[task["id"]], process_id=subject_of[task["process_id"]])
        row["external_task_id"] = bool(row["external_task_id"])  # a fresh uuid either way
        row["flow_task"] = row["flow_task"].name
        return row

    base = [
        dict(row, id=subject_of[row["id"]], flow_class=str(row["flow_class"]))
        for row in Process.objects.filter(pk__in=subject_of).values()
    ]
    own = [dict(row, process_ptr_id=subject_of[row["process_ptr_id"]]) for row in process_class.objects.values(*[
        field.attname for field in process_class._meta.local_concrete_fields
    ])]
    links = [
        (task_key[from_task], task_key[to_task])
        for from_task, to_task in Task.previous.through.objects.filter(from_task_id__in=task_key).values_list(
            "from_task_id", "to_task_id"
        )
    ]
    clock_rows = [dict(row, id=None, task_id=task_key[row["task_id"]]) for row in TaskClock.objects.filter(task_id__in=task_key).values()]
    order = lambda row: str(row.get("id") or row.get("process_ptr_id") or row.get("task_id"))  # noqa: E731
    return {
        "processes": sorted(base, key=order),
        "own": sorted(own, key=order),
        "tasks": sorted((task_row(task) for task in tasks), key=order),
        "links": sorted(links),
        "clocks": sorted(clock_rows, key=order),
    }


def both_ways(flow_class, subject_field, subjects, start_one):
    """The rows of a one-by-one start (rolled back), then those of the bulk start."""
    with time_machine.travel(NOW, tick=False):
        try:
            with transaction.atomic():
                for subject in subjects:
                    start_one(subject)
                one_by_one = rows(flow_class, subject_field)
                raise Rollback
        except Rollback:
            pass
        assert not flow_class.process_class.objects.exists()
        bulk.start_many(flow_class.start, subject_field, subjects)
        return one_by_one, rows(flow_class, subject_field)


def test_monthly_reports_started_in_bulk_are_the_rows_of_a_one_by_one_start(org):
    subjects = reports(org, 4)
    one_by_one, in_bulk = both_ways(ReportFlow, "report", subjects, lambda report: ReportFlow.start.run(report=report))
    assert len(in_bulk["tasks"]) == 8 and len(in_bulk["clocks"]) == 4 and len(in_bulk["links"]) == 4
    assert in_bulk == one_by_one
    # The write step waits in the lead unit's queue with its deadline, as one by one.
    write = Task.objects.get(process__reportprocess__report=subjects[0], flow_task=ReportFlow.write)
    assert write.status == "NEW" and write.owner_permission == unit_task(org.park.pk)
    assert write.clock.due_at == subjects[0].due_at


def test_interviews_started_in_bulk_are_the_rows_of_a_one_by_one_start(org):
    projects = cases(org, 3)
    subjects = [
        interviews.interview_propose(project=project, leader=org.leader, reason="推进滞后", actor=org.supervisor.user)
        for project in projects
    ]
    one_by_one, in_bulk = both_ways(InterviewFlow, "interview", subjects, lambda i: InterviewFlow.start.run(interview=i))
    assert len(in_bulk["clocks"]) == 3
    assert in_bulk == one_by_one


def test_supervision_orders_started_in_bulk_schedule_their_delivery_as_one_by_one(org, django_capture_on_commit_callbacks):
    projects = cases(org, 3)
    subjects = [
        orders.order_create(project=project, unit=org.park, subject=f"督办{n}", actor=org.supervisor.user)
        for n, project in enumerate(projects)
    ]
    one_by_one, in_bulk = both_ways(SupervisionFlow, "order", subjects, lambda order: SupervisionFlow.start.run(order=order))
    assert [task["status"] for task in in_bulk["tasks"] if task["flow_task"] == "deliver"] == ["SCHEDULED"] * 3
    assert in_bulk == one_by_one
    # Each delivery job's message goes out after commit, under the task's own id.
    with django_capture_on_commit_callbacks() as callbacks:
        more = orders.order_create(project=projects[0], unit=org.park, subject="再督办", actor=org.supervisor.user)
        bulk.start_many(SupervisionFlow.start, "order", [more])
    assert len(callbacks) == 1


def batch_statements(subjects):
    with CaptureQueriesContext(connection) as queries:
        assert len(bulk.start_many(ReportFlow.start, "report", subjects)) == len(subjects)
    return len(queries)


def test_a_batch_costs_the_same_statements_for_five_and_for_twenty(org):
    # Twenty stay within SQLite's limit of variables a statement, over which its inserts split.
    subjects = reports(org, 25)
    assert batch_statements(subjects[:5]) == batch_statements(subjects[5:])


@pytest.mark.postgres
def test_a_batch_costs_the_same_statements_for_five_and_for_a_thousand_on_postgresql(org):
    subjects = reports(org, 1005)
    five, thousand = batch_statements(subjects[:5]), batch_statements(subjects[5:])
    assert five == thousand <= 20


def test_a_crashed_batch_leaves_nothing_and_its_redo_starts_each_once(org, monkeypatch):
    subjects = reports(org, 6)
    ReportFlow.start.run(report=subjects[0])  # one started one by one before

    def crash(*args, **kwargs):
        raise ConnectionError("the worker died")

    with monkeypatch.context() as patched:
        patched.setattr(TaskClock.objects, "bulk_create", crash)
        with pytest.raises(ConnectionError):
            bulk.start_many(ReportFlow.start, "report", subjects)
    assert ReportFlow.process_class.objects.count() == 1 and TaskClock.objects.count() == 1
    assert Task.objects.count() == 2

    started = bulk.start_many(ReportFlow.start, "report", subjects)
    again = bulk.start_many(ReportFlow.start, "report", subjects + subjects)

    assert len(started) == 5 and again == []
    assert ReportFlow.process_class.objects.count() == 6
    assert Task.objects.filter(flow_task=ReportFlow.write).count() == 6 and TaskClock.objects.count() == 6


def test_a_start_leading_to_neither_a_human_step_nor_a_job_is_refused_in_words():
    start = types.SimpleNamespace(flow_class=ReportFlow, name="start", _next=ReportFlow.after_review)
    with pytest.raises(bulk.BulkStartError, match="leads to after_review, neither a human step nor a job"):
        bulk.start_many(start, "report", [])


def test_a_step_whose_activation_creates_its_task_its_own_way_is_refused():
    from viewflow.workflow.nodes.view import ViewActivation

    class OwnWay(ViewActivation):
        @classmethod
        def create(cls, flow_task, prev_activation, token, data=None, seed=None):
            raise AssertionError("never called")

    step = copy.copy(ReportFlow.write)
    step.activation_class = OwnWay
    start = types.SimpleNamespace(flow_class=ReportFlow, name="start", _next=step)
    with pytest.raises(bulk.BulkStartError, match="creates its task its own way"):
        bulk.start_many(start, "report", [])
