"""Writing the pipeline before the key list: a project idea (谋划) proposed by a unit or the
project office, which the reserve pool's guard later lets in."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import permissions
from ..models import KeyProject, Stage
from .projects import audit_project_created

# What an idea says of itself; the rest comes when it is worked out in the reserve pool.
IDEA_FIELDS = [
    "project_code",
    "name",
    "description",
    "industry",
    "industry_cluster",
    "project_type",
    "region",
    "lead_unit",
    "total_investment",
    "land_area_mu",
    "planned_start",
]
IDEA_CODE_LETTERS = "IDEA"


def _next_idea_code(year):
    """The next internal code of an idea, like 2026-IDEA-0007 (the secretariat may change it later)."""
    prefix = f"{year}-{IDEA_CODE_LETTERS}-"
    codes = KeyProject.objects.filter(code__startswith=prefix).values_list("code", flat=True)
    serials = [int(code[len(prefix) :]) for code in codes if code[len(prefix) :].isdigit()]
    serial = max(serials, default=0) + 1
    if serial > 9999:
        raise ValidationError({"code": _("This year's idea codes are used up.")})
    return f"{prefix}{serial:04d}"


@transaction.atomic
def project_propose_idea(*, actor, data, reason="") -> KeyProject:
    """Record a project idea in the 谋划 stage; a unit's idea is led by that unit."""
    if not permissions.can_propose_idea(actor):
        raise PermissionDenied(_("Only the project office and the units may propose project ideas."))
    unknown = set(data) - set(IDEA_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in sorted(unknown)})
    data = dict(data)
    if not permissions.is_secretariat(actor):
        if data.get("project_code"):
            raise ValidationError({"project_code": _("Only the secretariat may change this.")})
        data.pop("project_code", None)
        data["lead_unit"] = permissions.person_of(actor).unit
    year = timezone.localdate().year
    for attempt in range(3):
        project = KeyProject(
            stage=Stage.IDEA, code=_next_idea_code(year), created_by=actor if actor.is_authenticated else None
        )
        for name, value in data.items():
            setattr(project, project._meta.get_field(name).name, value)
        project.validate()
        try:
            # Two ideas proposed at once may draw the same serial: the second draws again.
            with transaction.atomic():
                project.save()
            break
        except IntegrityError:
            if attempt == 2:
                raise
    audit_project_created(actor=actor, project=project, reason=reason)
    return project
