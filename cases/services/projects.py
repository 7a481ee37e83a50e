"""Writing key projects: create, change, annual plans and stage transitions."""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition

from .. import notifying, permissions, selectors
from ..models import AnnualPlan, AuditAction, KeyProject, Stage
from ..signals import record_changed
from .audit import audit_record, diff, jsonable, snapshot
from .errors import Conflict
from .transitions import apply_transition

PROJECT_FIELDS = [
    "code",
    "project_code",
    "name",
    "description",
    "industry",
    "industry_cluster",
    "project_type",
    "land_area_mu",
    "region",
    "owner",
    "level",
    "lead_unit",
    "cooperating_units",
    "responsible_leader",
    "total_investment",
    "investment_completed_total",
    "capital_gap",
    "planned_start",
    "planned_finish",
    "actual_start",
    "actual_finish",
    "completion_accepted_on",
    "demonstration",
    "financing_waiver_reason",
]
# What only the secretariat may set: what the case is (its codes: the approvals import matches
# the platform's), who answers for it and so who sees it, and waivers.
SECRETARIAT_FIELDS = {
    "code",
    "project_code",
    "level",
    "owner",
    "lead_unit",
    "cooperating_units",
    "responsible_leader",
    "demonstration",
    "financing_waiver_reason",
}
M2M_FIELDS = {"cooperating_units"}


def _check_version(project, expected_version):
    if expected_version is not None and int(expected_version) != project.version:
        raise Conflict()


def _assign(project, data):
    unknown = set(data) - set(PROJECT_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in sorted(unknown)})
    for name, value in data.items():
        if name in M2M_FIELDS:
            continue
        field = project._meta.get_field(name)
        setattr(project, field.name, value)


def _plan_rows(plans):
    """Validated (year, planned, completed) from a list of dicts; errors name the year."""
    rows = []
    errors = {}
    seen = set()
    for plan in plans or []:
        try:
            year = int(plan["year"])
            planned = Decimal(str(plan["planned_investment"]))
            completed = Decimal(str(plan.get("completed_investment") or "0"))
        except (KeyError, TypeError, ValueError, InvalidOperation):
            errors["annual_plans"] = _("Each annual plan needs a year and amounts in yuan.")
            continue
        if year in seen:
            errors["annual_plans"] = _("%(year)s is given more than once.") % {"year": year}
        elif not 2000 <= year <= 2100:
            errors["annual_plans"] = _("%(year)s is not a plausible year.") % {"year": year}
        elif planned < 0 or completed < 0:
            errors["annual_plans"] = _("Planned and completed investment for %(year)s cannot be negative.") % {
                "year": year
            }
        seen.add(year)
        rows.append((year, planned.quantize(Decimal("0.01")), completed.quantize(Decimal("0.01"))))
    if errors:
        raise ValidationError(errors)
    return rows


def _save_plans(project, rows):
    """Upsert the given years; returns {plan_<year>: [old, new]} for the audit trail."""
    changes = {}
    existing = {plan.year: plan for plan in AnnualPlan.objects.filter(project=project)}
    for year, planned, completed in rows:
        if completed > project.investment_completed_total:
            raise ValidationError(
                {
                    "annual_plans": _(
                        "Investment completed in %(year)s exceeds the cumulative investment completed."
                    )
                    % {"year": year}
                }
            )
        plan = existing.get(year)
        old = [str(plan.planned_investment), str(plan.completed_investment)] if plan else None
        new = [str(planned), str(completed)]
        if old == new:
            continue
        if plan is None:
            plan = AnnualPlan(project=project, year=year)
        plan.planned_investment = planned
        plan.completed_investment = completed
        plan.full_clean(exclude=["project"], validate_unique=False)
        plan.save()
        changes[f"plan_{year}"] = [old, new]
    if changes and hasattr(project, "_prefetched_objects_cache"):
        project._prefetched_objects_cache.pop("annual_plans", None)
    return changes


@transaction.atomic
def project_create(*, actor, data, annual_plans=None, reason="") -> KeyProject:
    """Create a key project in the reserve pool."""
    if not permissions.can_create_project(actor):
        raise PermissionDenied(_("Only the secretariat may add key projects."))
    project = KeyProject(created_by=actor if actor and actor.is_authenticated else None)
    _assign(project, data)
    project.validate()
    project.save()
    if "cooperating_units" in data:
        project.cooperating_units.set(data["cooperating_units"])
    plan_changes = _save_plans(project, _plan_rows(annual_plans))
    audit_project_created(
        actor=actor, project=project, reason=reason, plans={key: new for key, (_old, new) in plan_changes.items()}
    )
    return project


def audit_project_created(*, actor, project, reason="", plans=None):
    """The audit line of a new case: every field it was given, with its annual plans."""
    values = snapshot(project, PROJECT_FIELDS)
    values.update(plans or {})
    audit_record(
        actor=actor,
        instance=project,
        action=AuditAction.CREATED,
        project=project,
        to_state=project.stage,
        reason=reason,
        changes={name: [None, value] for name, value in values.items() if value not in (None, "", [])},
    )


@transaction.atomic
def project_update(
    *, project, actor, data, annual_plans=None, expected_version=None, reason=""
) -> KeyProject:
    """Change a key project's facts (not its stage); audited with the changed fields."""
    if not permissions.can_edit_project(actor, project):
        raise PermissionDenied(_("You may not change this key project."))
    _check_version(project, expected_version)
    before = snapshot(project, PROJECT_FIELDS)
    if not permissions.is_secretariat(actor):
        forbidden = {
            name
            for name in SECRETARIAT_FIELDS & set(data)
            if _as_recorded(project, name, data[name]) != before[name]
        }
        if forbidden:
            raise ValidationError(
                {name: _("Only the secretariat may change this.") for name in sorted(forbidden)}
            )
    _assign(project, data)
    project.validate()
    try:
        project.save()
    except ConcurrentTransition as exc:
        raise Conflict() from exc
    if "cooperating_units" in data:
        project.cooperating_units.set(data["cooperating_units"])
        if hasattr(project, "_prefetched_objects_cache"):
            project._prefetched_objects_cache.pop("cooperating_units", None)
    changes = diff(before, snapshot(project, PROJECT_FIELDS))
    changes.update(_save_plans(project, _plan_rows(annual_plans)))
    if changes:
        audit_record(
            actor=actor,
            instance=project,
            action=AuditAction.UPDATED,
            project=project,
            reason=reason,
            changes=changes,
        )
        record_changed.send(
            sender=KeyProject, instance=project, action="updated", transition="", actor=actor, changes=changes
        )
    return project


def _as_recorded(project, name, value):
    """``value`` as ``snapshot`` records field ``name``."""
    field = project._meta.get_field(name)
    if field.many_to_many:
        return sorted(getattr(v, "pk", v) for v in value)
    if field.is_relation:
        return getattr(value, "pk", value)
    if field.null and value == "":
        return None  # stored as NULL (the project code): the model's clean says so
    return jsonable(field.to_python(value) if value is not None else None)


@transaction.atomic
def project_transition(*, project_id, transition, actor, reason="", expected_version=None) -> KeyProject:
    """Move a key project along its lifecycle, if its guard and the actor's role allow."""
    project = selectors.project_for_change(project_id)
    _check_version(project, expected_version)

    def stamp(p):
        p.stage_changed_at = timezone.now()

    event = apply_transition(project, transition, actor=actor, reason=reason, project=project, before_save=stamp)
    lead_head = project.lead_unit.head if project.lead_unit_id else None
    notifying.notify_people(
        [project.responsible_leader, lead_head],
        "stage_changed",
        context={
            "case": notifying.case_name(project),
            "stage": notifying.label(project.stage, Stage.choices),
            "from_stage": notifying.label(event.from_state, Stage.choices),
            "actor": event.actor_name,
            "reason": reason,
        },
        link=project.get_absolute_url(),
        exclude_user=actor,
    )
    record_changed.send(sender=KeyProject, instance=project, action="transition", transition=transition, actor=actor)
    return project


@transaction.atomic
def project_record_investment(*, project_id, actor, year, amount, reason) -> KeyProject:
    """Add investment completed (yuan) to a case's cumulative total and to its plan for ``year``,
    as an accepted monthly report says; refused beyond the total investment. Audited."""
    amount = Decimal(str(amount)).quantize(Decimal("0.01"))
    if amount < 0:
        raise ValidationError({"investment_month": _("Investment completed cannot be negative.")})
    project = KeyProject.objects.select_for_update(of=("self",)).get(pk=project_id)
    before_total = project.investment_completed_total or Decimal("0")
    after_total = before_total + amount
    if after_total > project.total_investment:
        raise ValidationError(
            {
                "investment_month": _(
                    "With this amount the investment completed (%(after)s yuan) would exceed the total "
                    "investment (%(total)s yuan)."
                )
                % {"after": after_total, "total": project.total_investment}
            }
        )
    plan, _created = AnnualPlan.objects.select_for_update(of=("self",)).get_or_create(
        project=project, year=year, defaults={"planned_investment": Decimal("0")}
    )
    before_year = plan.completed_investment
    plan.completed_investment = before_year + amount
    plan.save(update_fields=["completed_investment"])
    if amount:
        # A plain UPDATE with the version bump: the stage machine's protected field is not touched.
        KeyProject.objects.filter(pk=project.pk).update(
            investment_completed_total=after_total, version=project.version + 1, updated_at=timezone.now()
        )
        project.investment_completed_total = after_total
        project.version += 1
    audit_record(
        actor=actor,
        instance=project,
        action=AuditAction.UPDATED,
        project=project,
        reason=reason,
        changes={
            "investment_completed_total": [str(before_total), str(after_total)],
            f"plan_{year}_completed": [str(before_year), str(plan.completed_investment)],
        },
    )
    return project
