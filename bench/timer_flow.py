"""viewflow's own way to escalate, as the baseline of the escalation benchmark.

A human task with a non-interrupting ``.OnTimeout`` boundary: when the task is still open
after its delay, viewflow's timer dispatcher (``viewflow.workflow.timers.fire_due_timers``)
fires the boundary, whose function tells the unit's head, as the first overdue rung of our
ladder does. The flow is used by ``bench.escalation`` only; it has no pages.
"""

from datetime import timedelta

from viewflow import this
from viewflow.workflow import flow, lock
from viewflow.workflow.flow.views import UpdateProcessView

from notifications.services import notify

DELAY = timedelta(days=7)


class TimeoutLadderFlow(flow.Flow):
    """Work on a task; a week later, tell the unit's head it is overdue."""

    lock_impl = lock.select_for_update_lock

    start = flow.StartHandle().Next(this.work)
    work = (
        flow.View(UpdateProcessView.as_view(fields=[]))
        .OnTimeout(DELAY, this.tell_head, interrupting=False)
        .Next(this.end)
    )
    tell_head = flow.Function(this.notify_head).Next(this.told)
    told = flow.End()
    end = flow.End()

    def notify_head(self, activation):
        notify(
            recipients=[activation.process.data["head"]],
            key="escalated_to_you",
            context={"task": "work", "case": "bench", "due": "", "days": 1, "owner": "", "unit": ""},
            link=f"/workflow/tasks/{activation.task.pk}/",
        )
