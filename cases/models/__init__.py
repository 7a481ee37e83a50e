"""Models of the case core; import from here. The financing docking's are in
``cases.financing.models``."""

from .audit import AppendOnlyError, AuditAction, AuditEvent
from .choices import (
    ACTIVE_STAGES,
    BLOCKER_OPEN,
    PREWORK_SETTLED,
    STAGE_PATH,
    WITHDRAWABLE_STAGES,
    BlockerCategory,
    BlockerState,
    Industry,
    Level,
    PreworkKind,
    PreworkState,
    Stage,
)
from .org import (
    IdentityMapping,
    IdentitySource,
    InstitutionType,
    LeaderResponsibility,
    Person,
    Rank,
    Role,
    Unit,
    UnitGroup,
    UnitKind,
)
from .projects import AnnualPlan, KeyProject
from .records import Blocker, BlockerInput, PreworkItem
from .regions import RegionCode, project_code_problems, validate_project_code

__all__ = [
    "ACTIVE_STAGES",
    "BLOCKER_OPEN",
    "PREWORK_SETTLED",
    "STAGE_PATH",
    "WITHDRAWABLE_STAGES",
    "project_code_problems",
    "validate_project_code",
    "AnnualPlan",
    "AppendOnlyError",
    "AuditAction",
    "AuditEvent",
    "Blocker",
    "BlockerInput",
    "BlockerCategory",
    "BlockerState",
    "IdentityMapping",
    "IdentitySource",
    "Industry",
    "InstitutionType",
    "KeyProject",
    "LeaderResponsibility",
    "Level",
    "Person",
    "PreworkItem",
    "PreworkKind",
    "PreworkState",
    "Rank",
    "RegionCode",
    "Role",
    "Stage",
    "Unit",
    "UnitGroup",
    "UnitKind",
]
