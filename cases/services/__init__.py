"""The only writers of the case core's state: each service validates, writes, and audits in one
transaction. Financing docking's are in ``cases.financing.services``."""

from .errors import Conflict, ServiceError, TransitionBlocked, TransitionNotAvailable
from .pipeline import project_propose_idea
from .projects import project_create, project_record_investment, project_transition, project_update
from .records import (
    blocker_report,
    blocker_transition,
    blocker_update,
    prework_item_create,
    prework_item_transition,
    prework_item_update,
)
from .transitions import TransitionOption, transition_options

__all__ = [
    "Conflict",
    "ServiceError",
    "TransitionBlocked",
    "TransitionNotAvailable",
    "TransitionOption",
    "blocker_report",
    "blocker_transition",
    "blocker_update",
    "prework_item_create",
    "prework_item_transition",
    "prework_item_update",
    "project_create",
    "project_propose_idea",
    "project_record_investment",
    "project_transition",
    "project_update",
    "transition_options",
]
