"""What each human step asks for and does: its form and the service it calls, registered by the
domains that own the flows (``register``, from their apps' ``ready``).

The task pages and the API share this registry, so a step behaves the same through both.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    form_class: type
    perform: object  # perform(task, user, cleaned_data)
    simple: bool = True  # completable through the API with a plain JSON body
    form_kwargs: object = None  # form_kwargs(task) -> extra keyword arguments of the form


_steps = {}


def register(node, step):
    """The step of flow node ``node`` (a flow class's attribute, such as ``BlockerFlow.triage``)."""
    _steps[node] = step


def step_of(task):
    return _steps.get(task.flow_task)


def form_kwargs(task):
    """Extra keyword arguments a step's form needs (the triage form excludes the blocker itself)."""
    step = step_of(task)
    return step.form_kwargs(task) if step is not None and step.form_kwargs is not None else {}
