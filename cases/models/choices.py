"""Choices shared by the models, the guards and the interface."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Stage(models.TextChoices):
    IDEA = "idea", pgettext_lazy("stage", "Idea")
    RESERVE = "reserve", _("Reserve")
    PREWORK = "prework", _("Pre-work")
    DOCKING = "docking", _("Financing docking")
    FINANCING = "financing", _("Financing")
    CONSTRUCTION = "construction", _("Under construction")
    COMPLETED = "completed", pgettext_lazy("stage", "Completed")
    SUSPENDED = "suspended", _("Suspended")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# The stages a case works through, in order; suspended and withdrawn sit beside them.
STAGE_PATH = [
    Stage.IDEA,
    Stage.RESERVE,
    Stage.PREWORK,
    Stage.DOCKING,
    Stage.FINANCING,
    Stage.CONSTRUCTION,
    Stage.COMPLETED,
]
ACTIVE_STAGES = [Stage.PREWORK, Stage.DOCKING, Stage.FINANCING, Stage.CONSTRUCTION]
WITHDRAWABLE_STAGES = [Stage.IDEA, Stage.RESERVE, Stage.PREWORK, Stage.DOCKING]
# The pipeline before the key list: ideas (谋划) and the reserve pool (储备).
PIPELINE_STAGES = [Stage.IDEA, Stage.RESERVE]


class Industry(models.TextChoices):
    NEXT_GEN_IT = "next_gen_it", _("New-generation information technology")
    BIOTECH = "biotech", _("Biotechnology")
    HIGH_END_EQUIPMENT = "high_end_equipment", _("High-end equipment manufacturing")
    NEW_MATERIALS = "new_materials", _("New materials")
    NEW_ENERGY = "new_energy", _("New energy")
    NEW_ENERGY_VEHICLES = "new_energy_vehicles", _("Smart and new-energy vehicles")
    GREEN = "green", _("Energy saving and environmental protection")
    DIGITAL_CREATIVE = "digital_creative", _("Digital creative industries")
    INFRASTRUCTURE = "infrastructure", _("Infrastructure")
    LIVELIHOOD = "livelihood", _("Livelihood")
    MODERN_SERVICES = "modern_services", _("Modern services")
    ADVANCED_MANUFACTURING = "advanced_manufacturing", _("Advanced manufacturing")
    OTHER = "other", pgettext_lazy("industry", "Other")


# The strategic emerging industries of the seed (the city's opinions on them), in its order.
STRATEGIC_EMERGING_INDUSTRIES = [
    Industry.NEXT_GEN_IT,
    Industry.BIOTECH,
    Industry.HIGH_END_EQUIPMENT,
    Industry.NEW_MATERIALS,
    Industry.NEW_ENERGY,
    Industry.NEW_ENERGY_VEHICLES,
    Industry.GREEN,
    Industry.DIGITAL_CREATIVE,
]


class ProjectType(models.TextChoices):
    """What kind of project it is: its entry threshold and its readiness checklist follow from it."""

    INDUSTRIAL = "industrial", _("Industrial")
    INFRASTRUCTURE = "infrastructure", _("Infrastructure")
    SERVICES = "services", _("Services")
    AGRICULTURE = "agriculture", _("Agriculture and rural")
    SOCIAL = "social", _("Social undertakings")
    ECOLOGY = "ecology", _("Ecology and environment")


class Level(models.TextChoices):
    MUNICIPAL = "municipal", _("Municipal")
    PROVINCIAL = "provincial", _("Provincial")
    NATIONAL = "national", _("National")


class PreworkKind(models.TextChoices):
    FILING = "filing", _("Project filing or approval")
    LAND = "land", _("Land")
    PLANNING = "planning", _("Planning permit")
    EIA = "eia", _("Environmental impact assessment")
    ENERGY = "energy", _("Energy review")
    CONSTRUCTION_PERMIT = "construction_permit", _("Construction permit")
    FEASIBILITY = "feasibility", _("Feasibility study")
    PRELIMINARY_DESIGN = "preliminary_design", _("Preliminary design")
    OTHER = "other", pgettext_lazy("pre-work kind", "Other")


class PreworkState(models.TextChoices):
    PENDING = "pending", _("Pending")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    WAIVED = "waived", _("Waived")


PREWORK_SETTLED = [PreworkState.DONE, PreworkState.WAIVED]


class BlockerCategory(models.TextChoices):
    LAND = "land", _("Land")
    FORESTRY = "forestry", _("Forestry")
    ENERGY = "energy", _("Energy")
    ENVIRONMENT = "environment", _("Environmental capacity")
    FUNDS = "funds", _("Funds")
    APPROVALS = "approvals", _("Approvals")
    DEMOLITION = "demolition", _("Demolition")
    UTILITIES = "utilities", _("Utilities")
    OTHER = "other", pgettext_lazy("blocker category", "Other")


class BlockerState(models.TextChoices):
    REPORTED = "reported", _("Reported")
    ASSIGNED = "assigned", pgettext_lazy("blocker state", "Assigned")
    RESOLVED = "resolved", _("Resolved")
    CLOSED_OUT = "closed_out", _("Closed out")
    REJECTED = "rejected", _("Rejected")


BLOCKER_OPEN = [BlockerState.REPORTED, BlockerState.ASSIGNED, BlockerState.RESOLVED]
