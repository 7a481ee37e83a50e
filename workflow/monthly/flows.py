"""The monthly cycle's flows: graphs only. A case's monthly report (written by its lead unit,
reviewed by the secretariat), and a decision of the scheduling meeting carried out by its owner."""

from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow

from workflow.engine.nodes import CaseOwnerMayTake, waiting_lock
from workflow.engine.permissions import ScopedFlow, secretariat, unit_task
from workflow.engine.views import StepView

from . import decisions, reports
from .models import DecisionProcess, MonthlyReport, ReportProcess
from .views import ReportReviewView, ReportWriteView


def report_unit(activation):
    return unit_task(activation.process.report.unit_id)


class ReportFlow(ScopedFlow):
    process_class = ReportProcess
    lock_impl = waiting_lock
    process_title = _("Monthly report")
    process_description = _("The lead unit reports a case's month; the secretariat accepts it or sends it back.")

    start = flow.StartHandle(this.begin).Next(this.write)
    # The lead unit's step, which the case's owner (the enterprise) may take as well.
    write = (
        CaseOwnerMayTake(ReportWriteView.as_view())
        .Annotation(title=_("Write the monthly report"))
        .Permission(report_unit)
        .onCreate(this.start_clock)
        .Next(this.review)
    )
    review = (
        flow.View(ReportReviewView.as_view())
        .Annotation(title=_("Review the monthly report"))
        .Permission(secretariat)
        .onCreate(this.start_clock)
        .Next(this.after_review)
    )
    after_review = flow.If(this.is_accepted).Then(this.accepted).Else(this.write)
    accepted = flow.End()

    def begin(self, activation, report):
        activation.process.report = report
        activation.process.project = report.project
        return activation.process

    def is_accepted(self, activation):
        return activation.process.report.state == MonthlyReport.State.ACCEPTED

    def start_clock(self, activation):
        return reports.start_clock(activation)


def decision_unit(activation):
    return unit_task(activation.process.decision.unit_id)


class DecisionFlow(ScopedFlow):
    """A decision of the scheduling meeting: its owner carries it out by its deadline."""

    process_class = DecisionProcess
    lock_impl = waiting_lock
    process_title = _("Meeting decision")
    process_description = _("A decision of the monthly scheduling meeting, carried out by its owner in time.")

    start = flow.StartHandle(this.begin).Next(this.carry_out)
    # The owner's task; the owner's unit's queue when the owner cannot log in (or gives it back).
    carry_out = (
        flow.View(StepView.as_view(template_name="workflow/meeting_decision_task.html"))
        .Annotation(title=_("Carry out a decision of the scheduling meeting"))
        .Assign(this.owner_user)
        .Permission(decision_unit)
        .onCreate(this.start_clock)
        .Next(this.done)
    )
    done = flow.End()

    def begin(self, activation, decision):
        activation.process.decision = decision
        activation.process.project = decision.project
        return activation.process

    def owner_user(self, activation):
        return decisions.decision_owner_user(activation.process.decision)

    def start_clock(self, activation):
        return decisions.decision_clock_start(task=activation.task, decision=activation.process.decision)
