"""Models of the domain; import from here."""

from .audit import AppendOnlyError, AuditAction, AuditEvent
from .choices import (
    ACTIVE_STAGES,
    BLOCKER_OPEN,
    PREWORK_SETTLED,
    STAGE_PATH,
    WITHDRAWABLE_STAGES,
    BlockerCategory,
    BlockerState,
    DockingState,
    Industry,
    Level,
    PreworkKind,
    PreworkState,
    Stage,
)
from .org import LeaderResponsibility, Person, Rank, Role, Unit, UnitGroup, UnitKind
from .projects import AnnualPlan, Docking, KeyProject
from .records import Blocker, BlockerInput, PreworkItem

__all__ = [
    "ACTIVE_STAGES",
    "BLOCKER_OPEN",
    "PREWORK_SETTLED",
    "STAGE_PATH",
    "WITHDRAWABLE_STAGES",
    "AnnualPlan",
    "AppendOnlyError",
    "AuditAction",
    "AuditEvent",
    "Blocker",
    "BlockerInput",
    "BlockerCategory",
    "BlockerState",
    "Docking",
    "DockingState",
    "Industry",
    "KeyProject",
    "LeaderResponsibility",
    "Level",
    "Person",
    "PreworkItem",
    "PreworkKind",
    "PreworkState",
    "Rank",
    "Role",
    "Stage",
    "Unit",
    "UnitGroup",
    "UnitKind",
]
