"""What each coordination step asks for and does; ``register`` plugs the steps and the flows into
the
engine at start-up."""


from django.utils import timezone

from cases import services as case_services
from workflow.engine import registry, steps
from workflow.engine.calendar import WorkingCalendar
from workflow.engine.forms import ReportForm
from workflow.engine.steps import Step

from . import followups, interviews, orders, services
from .flows import BlockerFlow, DockingFollowUpFlow, InterviewFlow, PreworkFlow, SupervisionFlow
from .forms import (
    BlockerTriageForm,
    InterviewDecideForm,
    InterviewHoldForm,
    InterviewScheduleForm,
    NoteForm,
    OrderAnswerForm,
    OrderEvaluateForm,
    PreworkApproveForm,
    ResolveForm,
    TextForm,
    VerifyForm,
)


def _blocker(task):
    process = task.process.coerced
    return type(process.blocker).objects.select_related("project").get(pk=process.blocker_id)


def triage(task, user, data):
    blocker = _blocker(task)
    if data["decision"] == "assign":
        cal = WorkingCalendar.load()
        fields = {
            "lead_unit": data["lead_unit"],
            "cooperating_units": list(data["cooperating_units"]),
            "due_on": cal.add_working_days_to_date(cal.local_date(timezone.now()), data["working_days"]),
        }
        case_services.blocker_transition(blocker=blocker, transition="assign", actor=user, fields=fields)
    elif data["decision"] == "merge":
        case_services.blocker_transition(
            blocker=blocker,
            transition="merge",
            actor=user,
            reason=data["reason"],
            fields={"merged_into": data["merged_into"]},
        )
    else:
        case_services.blocker_transition(blocker=blocker, transition="reject", actor=user, reason=data["reason"])


def give_input(task, user, data):
    services.blocker_give_input(task=task, user=user, text=data["text"])


def resolve(task, user, data):
    case_services.blocker_transition(
        blocker=_blocker(task), transition="resolve", actor=user, fields={"resolution": data["resolution"]}
    )


def verify(task, user, data):
    case_services.blocker_transition(
        blocker=_blocker(task), transition=data["decision"], actor=user, reason=data["reason"]
    )


def approve_item(task, user, data):
    process = task.process.coerced
    item = type(process.item).objects.select_related("project").get(pk=process.item_id)
    if data["decision"] == "waive":
        case_services.prework_item_transition(item=item, transition="waive", actor=user, reason=data["reason"])
    else:
        case_services.prework_item_transition(
            item=item,
            transition="complete",
            actor=user,
            fields={"done_on": data["done_on"], "document_number": data["document_number"]},
        )


def answer_order(task, user, data):
    orders.order_answer(task=task, user=user, plan=data["plan"], fixed_by=data["fixed_by"])


def evaluate_order(task, user, data):
    orders.order_evaluate(task=task, user=user, accepted=data["accepted"], evaluation=data["evaluation"])


def decide_interview(task, user, data):
    interviews.interview_decide(task=task, user=user, approved=data["approved"], note=data["note"])


def schedule_interview(task, user, data):
    interviews.interview_schedule(
        task=task, user=user, when=data["when"], place=data["place"], attendees=data["attendees"]
    )


def hold_interview(task, user, data):
    interviews.interview_hold(task=task, user=user, minutes=data["minutes"], commitments=data.get("commitments", []))


def keep_commitment(task, user, data):
    interviews.commitment_done(task=task, user=user, report=data["report"])


def follow_up(task, user, data):
    interviews.interview_follow_up(task=task, user=user, note=data["note"])


def follow_up_docking(task, user, data):
    followups.follow_up_done(task=task, user=user, report=data["report"])


def _triage_form_kwargs(task):
    return {"blocker": task.process.coerced.blocker}


def register():
    for node, step in {
        BlockerFlow.triage: Step(BlockerTriageForm, triage, form_kwargs=_triage_form_kwargs),
        BlockerFlow.give_input: Step(TextForm, give_input),
        BlockerFlow.resolution: Step(ResolveForm, resolve),
        BlockerFlow.verify: Step(VerifyForm, verify),
        PreworkFlow.approve: Step(PreworkApproveForm, approve_item),
        SupervisionFlow.respond: Step(OrderAnswerForm, answer_order),
        SupervisionFlow.evaluate: Step(OrderEvaluateForm, evaluate_order),
        InterviewFlow.approve: Step(InterviewDecideForm, decide_interview),
        InterviewFlow.schedule: Step(InterviewScheduleForm, schedule_interview),
        InterviewFlow.hold: Step(InterviewHoldForm, hold_interview, simple=False),
        InterviewFlow.keep_commitment: Step(ReportForm, keep_commitment),
        InterviewFlow.follow_up: Step(NoteForm, follow_up),
        DockingFollowUpFlow.follow_up: Step(ReportForm, follow_up_docking),
    }.items():
        steps.register(node, step)
    registry.register_flows(BlockerFlow, PreworkFlow, SupervisionFlow, InterviewFlow, DockingFollowUpFlow)
