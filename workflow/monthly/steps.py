"""What each monthly step asks for and does; ``register`` plugs the steps and the flows into the
engine at start-up, with who besides its unit sees a decision's task (its owner)."""

from django.db.models import Q

from workflow.engine import registry, steps
from workflow.engine.forms import ReportForm
from workflow.engine.steps import Step

from . import decisions, reports
from .flows import DecisionFlow, ReportFlow
from .forms import MonthlyReportForm, ReportReviewForm
from .models import DecisionProcess


def write_report(task, user, data):
    fields = {k: v for k, v in data.items() if k not in ("attachments", "blockers")}
    reports.report_submit(
        task=task, user=user, data=fields, files=data.get("attachments") or [], blockers=data.get("blockers") or []
    )


def review_report(task, user, data):
    reports.report_review(task=task, user=user, accepted=data["accepted"], reason=data.get("reason", ""))


def owned_decisions(user, person):
    """The owner of a decision sees its task even while it waits in the unit's queue."""
    return Q(task__process_id__in=DecisionProcess.objects.filter(decision__owner=person).values("pk"))


def register():
    steps.register(ReportFlow.write, Step(MonthlyReportForm, write_report, simple=False))
    steps.register(ReportFlow.review, Step(ReportReviewForm, review_report))
    steps.register(DecisionFlow.carry_out, Step(ReportForm, decisions.carry_out_decision))
    registry.register_flows(DecisionFlow, ReportFlow)
    registry.add_clock_scope(owned_decisions)
