"""The only writers of important state: each service validates, writes, and audits in one transaction."""

from .dockings import (
    docking_create,
    docking_express_interest,
    docking_follow_up,
    docking_recommend,
    docking_transition,
)
from .errors import Conflict, ServiceError, TransitionBlocked, TransitionNotAvailable
from .financing import (
    WrongState,
    need_create,
    need_transition,
    need_transition_options,
    need_update,
    needs_follow_project,
    product_create,
    product_deactivate,
    product_update,
)
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
    "WrongState",
    "blocker_report",
    "blocker_transition",
    "blocker_update",
    "docking_create",
    "docking_express_interest",
    "docking_follow_up",
    "docking_recommend",
    "docking_transition",
    "need_create",
    "need_transition",
    "need_transition_options",
    "need_update",
    "needs_follow_project",
    "prework_item_create",
    "prework_item_transition",
    "prework_item_update",
    "product_create",
    "product_deactivate",
    "product_update",
    "project_create",
    "project_record_investment",
    "project_transition",
    "project_update",
    "transition_options",
]
