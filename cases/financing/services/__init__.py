"""The writers of financing docking's state: needs and products (``needs``), the docking funnel
(``dockings``) and matchmaking events (``events``); each validates, writes, audits and notifies
in one transaction. The case core's errors they raise are named here too."""

from cases.services import (
    Conflict,
    ServiceError,
    TransitionBlocked,
    TransitionNotAvailable,
    transition_options,
)

from .dockings import (
    docking_create,
    docking_express_interest,
    docking_follow_up,
    docking_recommend,
    docking_transition,
)
from .needs import (
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

__all__ = [
    "Conflict",
    "ServiceError",
    "TransitionBlocked",
    "TransitionNotAvailable",
    "WrongState",
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
    "product_create",
    "product_deactivate",
    "product_update",
    "transition_options",
]
