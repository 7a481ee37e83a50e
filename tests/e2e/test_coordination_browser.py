"""The coordination engine in a real browser: a unit head works a blocker from the park's queue,
and a supervisor turns a row of the overdue board into a supervision order."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from viewflow.workflow.status import PROCESS, STATUS

from cases import services as case_services
from cases.models import Blocker, BlockerState, PreworkItem, Stage
from tests.cases.factories import PreworkItemFactory, set_stage
from workflow.coordination import launch
from workflow.coordination.flows import BlockerFlow, PreworkFlow
from workflow.coordination.models import BlockerProcess, Source, SupervisionOrder
from workflow.engine import selectors, services
from workflow.engine.calendar import WorkingCalendar
from workflow.engine.models import TaskClock

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_unit_head_takes_the_blocker_from_the_parks_queue_and_resolves_it(org, log_in):
    # Given a blocker on the park's case, triaged by the secretariat to the park as lead unit
    project = set_stage(org.project, Stage.PREWORK)
    reported = case_services.blocker_report(
        project=project, actor=org.staff.user, data={"title": "用地指标不足", "category": "land"}
    )
    case_services.blocker_transition(
        blocker=Blocker.objects.select_related("project").get(pk=reported.pk),
        transition="assign",
        actor=org.secretariat.user,
        fields={"lead_unit": org.park, "cooperating_units": []},
    )
    process = BlockerProcess.objects.get(blocker=reported)
    resolution = services.open_task(process, BlockerFlow.resolution)
    assert resolution is not None and resolution.status == STATUS.NEW
    task_link = f"#{process.pk}/{resolution.pk}"

    # When the head logs in, opens the park's queue and claims the task there
    page = log_in(org.head)
    page.goto("/workflow/queue/")
    row = page.locator("tr").filter(has=page.get_by_role("link", name=task_link, exact=True))
    expect(row).to_contain_text("Resolve the blocker")
    expect(row).to_contain_text(project.code)
    row.get_by_role("link", name=task_link, exact=True).click()
    page.wait_for_url(re.compile(rf"/{process.pk}/resolution/{resolution.pk}/assign/"))
    page.get_by_role("button", name="Assign and continue").click()

    # and fills in the resolution on the step's form and executes it
    page.wait_for_url(re.compile(rf"/{process.pk}/resolution/{resolution.pk}/execute/"))
    expect(page.locator("h1.vf-card__title").first).to_have_text("Resolve the blocker")
    expect(page.locator(".kp-clock")).to_contain_text(project.code)
    page.locator("textarea[name=resolution]").fill("用地指标已调剂落实")
    page.get_by_role("button", name="Execute", exact=True).click()

    # Then he is back on his work, told the task is done, and it is no longer listed there
    page.wait_for_url(re.compile(r"/my-work/$"))
    expect(page.locator(".mdc-snackbar__label")).to_have_text("Task has been completed.")
    expect(page.locator(f"[data-task='{resolution.pk}']")).to_have_count(0)
    page.goto("/workflow/inbox/")
    expect(page.get_by_role("link", name=task_link, exact=True)).to_have_count(0)
    # nor is it waiting in the park's queue
    page.goto("/workflow/queue/")
    expect(page.get_by_role("link", name=task_link, exact=True)).to_have_count(0)
    # the process page shows the resolution done and the verification waiting
    page.goto(f"/workflow/flows/blocker/{process.pk}/")
    expect(page.locator("tr").filter(has_text="Resolve the blocker")).to_contain_text("Done")
    expect(page.locator("tr").filter(has_text="Verify and close out the blocker")).to_contain_text(
        "New"
    )
    # and the case page shows the blocker resolved, with the head's resolution
    page.goto(f"/cases/projects/{project.pk}/detail/")
    blocker_row = page.locator(f"tr[data-blocker='{reported.pk}']")
    expect(blocker_row.locator(".kp-badge--resolved")).to_have_text("Resolved")
    expect(blocker_row).to_contain_text("用地指标已调剂落实")
    # in the records: the task is done by him, the blocker resolved, verification is the secretariat's
    resolution.refresh_from_db()
    assert resolution.status == STATUS.DONE and resolution.owner == org.head.user
    blocker = Blocker.objects.get(pk=reported.pk)
    assert blocker.state == BlockerState.RESOLVED and blocker.resolution == "用地指标已调剂落实"
    verify = services.open_task(process, BlockerFlow.verify)
    assert verify is not None and verify.owner_permission == "workflow.secretariat_task"
    process.refresh_from_db()
    assert process.status != PROCESS.DONE
    assert TaskClock.objects.get(task=resolution).closed_at is not None


def test_supervisor_issues_an_order_from_the_overdue_board(org, log_in):
    # Given the park's approval of a pre-work item, started long ago and now overdue
    project = set_stage(org.project, Stage.PREWORK)
    item = PreworkItemFactory(project=project, approving_unit=org.park, statutory_days=5)
    launch.start_prework_flow(PreworkItem.objects.select_related("project").get(pk=item.pk))
    clock = TaskClock.objects.get(task__flow_task=PreworkFlow.approve)
    cal = WorkingCalendar.load()
    started_at = timezone.now() - datetime.timedelta(days=30)
    TaskClock.objects.filter(pk=clock.pk).update(
        started_at=started_at, due_at=cal.add_working_days(started_at, clock.working_days)
    )
    clock.refresh_from_db()
    overdue_days = selectors.due_state(clock).overdue_days
    assert overdue_days > 0
    assert not SupervisionOrder.objects.exists()

    # When the supervisor opens the overdue board, finds the task's row
    page = log_in(org.supervisor)
    page.goto("/workflow/overdue/")
    row = page.locator(f"tr[data-clock='{clock.pk}']")
    expect(row).to_contain_text(clock.display_title)
    expect(row).to_contain_text(project.code)
    expect(row).to_contain_text(org.park.name)
    expect(row.locator(".kp-due--overdue")).to_have_text(str(overdue_days))

    # and follows its action to issue a supervision order, keeps the proposed addressee,
    # words the subject and confirms
    row.get_by_role("link", name="Issue a supervision order").click()
    page.wait_for_url(re.compile(rf"/workflow/projects/{project.pk}/order/\?clock={clock.pk}$"))
    expect(page.locator("input[name=unit]")).to_have_value(str(org.park.pk))
    expect(page.locator("vf-field-select[name=unit] .mdc-select__selected-text")).to_have_text(
        org.park.name
    )
    expect(page.locator("input[name=subject]")).to_have_value(clock.title)
    page.locator("input[name=subject]").fill("用地预审超期，请说明原因并限期办结")
    page.get_by_role("button", name="Confirm").click()

    # Then a supervisor's order to the park on this case exists, tied to the overdue task
    page.wait_for_url(re.compile(r"/workflow/orders/\d+/$"))
    order = SupervisionOrder.objects.get()
    assert order.project_id == project.pk and order.unit_id == org.park.pk
    assert order.source == Source.SUPERVISOR
    assert order.clock_id == clock.pk and order.issued_by == org.supervisor.user
    assert order.subject == "用地预审超期，请说明原因并限期办结"
    assert page.url.endswith(f"/workflow/orders/{order.pk}/")
    # and the page shows the order, with the message that it was issued
    expect(page.locator(".mdc-snackbar__label")).to_have_text(
        f"Supervision order {order.number} was issued."
    )
    expect(page.locator("h1.vf-card__title")).to_have_text(f"Supervision order No. {order.number}")
    facts = page.locator("table.kp-facts")
    expect(facts).to_contain_text("用地预审超期，请说明原因并限期办结")
    expect(facts).to_contain_text(org.park.name)
    expect(facts).to_contain_text(project.code)
    expect(facts).to_contain_text(clock.display_title)
    expect(facts).to_contain_text("A supervisor · supervisor")
    # and the list of supervision orders has it
    page.get_by_role("link", name="Supervision orders").first.click()
    page.wait_for_url(re.compile(r"/workflow/orders/$"))
    listed = page.locator("tr").filter(has=page.get_by_role("link", name=order.number, exact=True))
    expect(listed).to_contain_text("用地预审超期，请说明原因并限期办结")
    expect(listed).to_contain_text(org.park.name)
