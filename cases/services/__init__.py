"""The only writers of important state: each service validates, writes, and audits in one transaction."""

from .errors import Conflict, ServiceError, TransitionBlocked, TransitionNotAvailable
from .projects import project_create, project_record_investment, project_transition, project_update
from .records import (
    blocker_report,
    blocker_transition,
    blocker_update,
    docking_create,
    docking_transition,
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
    "docking_create",
    "docking_transition",
    "prework_item_create",
    "prework_item_transition",
    "prework_item_update",
    "project_create",
    "project_record_investment",
    "project_transition",
    "project_update",
    "transition_options",
]
