"""The annual plan's step; ``register`` plugs it and the flow into the engine at start-up."""

from workflow.engine import registry, steps
from workflow.engine.steps import Step

from . import services
from .flows import ProposeFlow
from .forms import SubmitProposalsForm


def submit_proposals(task, user, data):
    services.proposals_submit(task=task, user=user, note=data.get("note", ""))


def register():
    steps.register(ProposeFlow.propose, Step(SubmitProposalsForm, submit_proposals))
    registry.register_flows(ProposeFlow)
