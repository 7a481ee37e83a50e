"""Changes of a published plan: the secretariat's adjustment window, and within it an added,
dropped or re-planned case with a reason, each making the next frozen version."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import AuditAction, KeyProject, Stage
from cases.services.audit import audit_record

from .models import PlanCompilation, PlanEntry, PlanVersion
from .services import AMOUNTS, _locked, _secretariat

CLOSED_STAGES = (Stage.COMPLETED, Stage.WITHDRAWN)


@transaction.atomic
def adjustment_window_set(*, actor, compilation_id, start, end) -> PlanCompilation:
    _secretariat(actor)
    compilation = _locked(compilation_id)
    if compilation.state != PlanCompilation.State.PUBLISHED:
        raise ValidationError(_("Publish the plan before opening an adjustment window."))
    if start is None or end is None:
        raise ValidationError({"adjust_to": _("Give the first and the last day of the window.")})
    if end < start:
        raise ValidationError({"adjust_to": _("The window ends before it starts.")})
    before = [str(compilation.adjust_from), str(compilation.adjust_to)]
    compilation.adjust_from, compilation.adjust_to = start, end
    compilation.full_clean()
    compilation.save(update_fields=["adjust_from", "adjust_to"])
    audit_record(
        actor=actor, instance=compilation, action=AuditAction.UPDATED,
        changes={"adjustment_window": [" – ".join(before), f"{start.isoformat()} – {end.isoformat()}"]},
    )
    return compilation


def latest_version(compilation):
    return compilation.versions.order_by("-number").first()


def _in_window(compilation):
    today = timezone.localdate()
    if compilation.state != PlanCompilation.State.PUBLISHED:
        raise ValidationError(_("The plan of %(year)s is not published yet: change the proposals instead.") % {"year": compilation.year})
    if compilation.adjust_from is None:
        raise ValidationError(_("No adjustment window is open for %(year)s.") % {"year": compilation.year})
    if not compilation.adjustable_on(today):
        raise ValidationError(
            _("Adjustments of %(year)s are made from %(start)s to %(end)s; today is outside the window.")
            % {"year": compilation.year, "start": compilation.adjust_from.isoformat(), "end": compilation.adjust_to.isoformat()}
        )


def _figures_errors(compilation, data):
    errors = {}
    for name in AMOUNTS:
        if data.get(name) is None:
            errors[name] = _("Give the amount in ten thousand yuan (0 if none).")
        elif data[name] < 0:
            errors[name] = _("A planned investment cannot be negative.")
    start = data.get("planned_start")
    if start is None:
        errors["planned_start"] = _("Give the planned start.")
    elif start.year > compilation.year:
        errors["planned_start"] = _("The planned start %(date)s is after %(year)s.") % {"date": start.isoformat(), "year": compilation.year}
    return errors


@transaction.atomic
def plan_adjust(*, actor, compilation_id, change, project_id, data=None, reason="") -> PlanVersion:
    """Add, drop or re-plan one case of the published plan: version N+1, audited, with the reason."""
    _secretariat(actor)
    data = data or {}
    compilation = _locked(compilation_id)
    _in_window(compilation)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the plan changes.")})
    project = KeyProject.objects.filter(pk=project_id).first()
    if project is None:
        raise ValidationError({"project": _("Choose a case.")})
    current = latest_version(compilation)
    entries = {entry.project_id: entry for entry in current.entries.all()}
    entry = entries.get(project.pk)
    if change not in PlanVersion.Change.values or change == PlanVersion.Change.PUBLISHED:
        raise ValidationError({"change": _("Choose whether the case is added, dropped or re-planned.")})
    if change == PlanVersion.Change.ADDED:
        if entry is not None:
            raise ValidationError({"project": _("%(code)s is on the plan already: re-plan it instead.") % {"code": project.code}})
        if project.stage in CLOSED_STAGES:
            raise ValidationError({"project": _("%(code)s is completed or withdrawn.") % {"code": project.code}})
        if project.stage == Stage.IDEA:
            raise ValidationError({"project": _("%(code)s is still an idea: let it into the reserve pool first.") % {"code": project.code}})
    elif entry is None:
        raise ValidationError({"project": _("%(code)s is not on the plan of %(year)s.") % {"code": project.code, "year": compilation.year}})
    if change != PlanVersion.Change.DROPPED:
        errors = _figures_errors(compilation, data)
        if errors:
            raise ValidationError(errors)
        if change == PlanVersion.Change.REPLANNED and all(
            getattr(entry, name) == data[name] for name in (*AMOUNTS, "planned_start")
        ):
            raise ValidationError(_("Nothing changes: give the new amounts or start."))
    version = PlanVersion.objects.create(
        compilation=compilation, number=current.number + 1, change=change, project=project,
        reason=reason[:500], created_by=actor,
    )
    rows = []
    fields = (*AMOUNTS, "planned_start")
    for project_id_, old in entries.items():
        if project_id_ == project.pk:
            continue
        rows.append(PlanEntry(version=version, project_id=project_id_, **{name: getattr(old, name) for name in fields}))
    if change != PlanVersion.Change.DROPPED:
        rows.append(PlanEntry(version=version, project=project, **{name: data[name] for name in fields}))
    PlanEntry.objects.bulk_create(rows)
    before = {name: str(getattr(entry, name)) for name in fields} if entry else {}
    after = {name: str(data[name]) for name in fields} if change != PlanVersion.Change.DROPPED else {}
    audit_record(
        actor=actor, instance=version, action=AuditAction.UPDATED, project=project, reason=reason,
        transition=change,
        changes={name: [before.get(name), after.get(name)] for name in fields},
    )
    return version
