"""Writes of the annual plan's compilation: open it, propose and correct, submit, accept or send
back, publish version 1. Adjustments of a published plan are in ``adjustments``."""

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from viewflow.workflow.exceptions import FlowRuntimeError

from cases.formatting import format_wan
from cases.models import AuditAction, KeyProject, Stage, Unit
from cases.services.audit import audit_record
from workflow.engine import services as engine_services
from workflow.engine.models import TaskClock

from . import permissions
from .models import (
    PlanCompilation,
    PlanEntry,
    PlanProposal,
    PlanTarget,
    PlanVersion,
    ProposeProcess,
)

AMOUNTS = ("planned_year", "planned_next", "planned_after")


def default_deadline(year):
    """By default proposals for ``year`` are due on 31 August of the year before."""
    return datetime.date(year - 1, 8, 31)


def _secretariat(actor):
    if not permissions.can_manage(actor):
        raise PermissionDenied(_("Only the secretariat manages the annual plan."))


def _locked(compilation_id):
    return PlanCompilation.objects.select_for_update(of=("self",)).get(pk=compilation_id)


def _units_with_reserve_cases():
    return Unit.objects.filter(
        pk__in=KeyProject.objects.filter(stage=Stage.RESERVE, lead_unit__isnull=False).values("lead_unit_id")
    ).order_by("pk")


def _start_task(compilation, unit):
    from .flows import ProposeFlow  # the flow's pages import the services

    return ProposeFlow.start.run(compilation=compilation, unit=unit)


@transaction.atomic
def compilation_open(*, actor, year, deadline=None, target_total, targets=None) -> PlanCompilation:
    """Open ``year``'s compilation with the city's targets (``targets``: {(kind, key): yuan}); each
    unit leading reserve cases gets a task "propose projects", due at the deadline."""
    _secretariat(actor)
    deadline = deadline or default_deadline(year)
    errors = {}
    if PlanCompilation.objects.filter(year=year).exists():
        errors["year"] = _("The compilation of %(year)s is open already.") % {"year": year}
    if deadline < timezone.localdate():
        errors["deadline"] = _("The deadline %(date)s has passed.") % {"date": deadline.isoformat()}
    elif deadline.year >= year + 1:
        errors["deadline"] = _("Proposals for %(year)s are due before the year is over.") % {"year": year}
    if errors:
        raise ValidationError(errors)
    compilation = PlanCompilation(year=year, deadline=deadline, target_total=target_total, opened_by=actor)
    compilation.full_clean()
    try:
        with transaction.atomic():  # two openings at once: the second is told, as the check above tells it
            compilation.save()
    except IntegrityError:
        raise ValidationError({"year": _("The compilation of %(year)s is open already.") % {"year": year}}) from None
    rows = []
    for (kind, key), amount in (targets or {}).items():
        if amount is None:
            continue
        target = PlanTarget(compilation=compilation, kind=kind, key=key, amount=amount)
        target.full_clean(exclude=["compilation"])
        rows.append(target)
    PlanTarget.objects.bulk_create(rows)
    audit_record(
        actor=actor,
        instance=compilation,
        action=AuditAction.CREATED,
        changes={"deadline": [None, deadline.isoformat()], "target_total": [None, str(target_total)]},
    )
    for unit in _units_with_reserve_cases():
        _start_task(compilation, unit)
    return compilation


def _proposal_errors(compilation, unit_id, project, data, proposal=None):
    errors = {}
    year = compilation.year
    if project.stage != Stage.RESERVE:
        errors["project"] = _("%(code)s is not in the reserve pool: only reserve cases are proposed.") % {
            "code": project.code
        }
    elif project.lead_unit_id != unit_id:
        errors["project"] = _("%(code)s is not led by your unit.") % {"code": project.code}
    else:
        twice = PlanProposal.objects.filter(compilation=compilation, project=project).exclude(
            pk=getattr(proposal, "pk", None)
        )
        other = twice.select_related("unit").first()
        if other is not None:
            errors["project"] = _("%(code)s is proposed already (by %(unit)s).") % {
                "code": project.code,
                "unit": other.unit.name,
            }
    for name in AMOUNTS:
        if data.get(name) is None:
            errors[name] = _("Give the amount in ten thousand yuan (0 if none).")
        elif data[name] < 0:
            errors[name] = _("A planned investment cannot be negative.")
    if "planned_year" not in errors and not data["planned_year"]:
        errors["planned_year"] = _("Give the planned investment of %(year)s: a case on the plan invests in its year.") % {
            "year": year
        }
    start = data.get("planned_start")
    if start is None:
        errors["planned_start"] = _("Give the planned start.")
    elif start.year != year:
        errors["planned_start"] = _("The planned start %(date)s is outside %(year)s.") % {
            "date": start.isoformat(),
            "year": year,
        }
    if not errors:
        remaining = project.total_investment - (project.investment_completed_total or Decimal("0"))
        three = sum(data[name] for name in AMOUNTS)
        if three > remaining:
            errors["planned_year"] = _(
                "The three years' planned investment (%(three)s) exceeds what remains of the total investment (%(remaining)s)."
            ) % {"three": format_wan(three), "remaining": format_wan(remaining)}
    return errors


def _check_open(compilation, unit_id, *, correcting=False):
    if compilation.state != PlanCompilation.State.OPEN:
        raise ValidationError(
            _("The plan of %(year)s is published: proposals are closed, a change is an adjustment now.")
            % {"year": compilation.year}
        )
    if timezone.localdate() > compilation.deadline and not correcting:
        raise ValidationError(
            _("The deadline for proposals was %(date)s; only a proposal sent back may still be corrected.")
            % {"date": compilation.deadline.isoformat()}
        )


@transaction.atomic
def proposal_save(*, actor, compilation_id, project_id, data, proposal_id=None) -> PlanProposal:
    """A unit proposes one of its reserve cases (or corrects its proposal until the secretariat decides)."""
    unit_id = permissions.proposing_unit_id(actor)
    if unit_id is None:
        raise PermissionDenied(_("Only a unit's people propose its cases."))
    compilation = _locked(compilation_id)
    proposal = None
    if proposal_id is not None:
        proposal = PlanProposal.objects.select_for_update(of=("self",)).filter(pk=proposal_id, unit_id=unit_id).first()
        if proposal is None:
            raise PermissionDenied(_("This proposal is not your unit's."))
        if proposal.state == PlanProposal.State.ACCEPTED:
            raise ValidationError(_("This proposal was accepted: the secretariat has decided it."))
    # A proposal sent back may be corrected (again) past the deadline, until it is submitted again.
    correcting = proposal is not None and (proposal.state == PlanProposal.State.RETURNED or bool(proposal.return_reason))
    _check_open(compilation, unit_id, correcting=correcting)
    # Only the unit's own cases are looked up: another unit's case is not named to it.
    project = KeyProject.objects.filter(pk=project_id, lead_unit_id=unit_id).first()
    if project is None:
        raise ValidationError({"project": _("Choose one of your unit's reserve cases.")})
    if proposal is not None and project.pk != proposal.project_id:
        raise ValidationError({"project": _("A proposal keeps its case: withdraw it and propose the other case.")})
    errors = _proposal_errors(compilation, unit_id, project, data, proposal)
    if errors:
        raise ValidationError(errors)
    before = None
    if proposal is None:
        proposal = PlanProposal(compilation=compilation, unit_id=unit_id, project=project)
    else:
        before = {name: str(getattr(proposal, name)) for name in (*AMOUNTS, "planned_start")}
        proposal.project = project
        if proposal.state == PlanProposal.State.RETURNED:
            proposal.state = PlanProposal.State.DRAFT
    for name in (*AMOUNTS, "planned_start"):
        setattr(proposal, name, data[name])
    proposal.proposed_by = actor
    proposal.updated_at = timezone.now()
    proposal.full_clean(exclude=["compilation", "project", "unit"])
    proposal.save()
    after = {name: str(getattr(proposal, name)) for name in (*AMOUNTS, "planned_start")}
    audit_record(
        actor=actor,
        instance=proposal,
        action=AuditAction.CREATED if before is None else AuditAction.UPDATED,
        project=project,
        changes={name: [None if before is None else before[name], after[name]] for name in after},
    )
    return proposal


@transaction.atomic
def proposal_withdraw(*, actor, proposal_id):
    unit_id = permissions.proposing_unit_id(actor)
    found = PlanProposal.objects.filter(pk=proposal_id, unit_id=unit_id).values_list("compilation_id", flat=True).first()
    if unit_id is None or found is None:
        raise PermissionDenied(_("This proposal is not your unit's."))
    compilation = _locked(found)  # the compilation first, then the proposal, as every write here locks them
    proposal = PlanProposal.objects.select_for_update(of=("self",)).filter(pk=proposal_id, unit_id=unit_id).first()
    if proposal is None:
        raise PermissionDenied(_("This proposal is not your unit's."))
    if proposal.state == PlanProposal.State.ACCEPTED:
        raise ValidationError(_("This proposal was accepted: the secretariat has decided it."))
    _check_open(compilation, unit_id, correcting=True)
    audit_record(actor=actor, instance=proposal, action=AuditAction.UPDATED, project=proposal.project,
                 changes={"withdrawn": [None, "1"]})
    proposal.delete()


@transaction.atomic
def proposals_submit(*, task, user, note=""):
    """The unit's task: its proposals not yet submitted (new, or corrected after being sent back) go to the secretariat."""
    engine_services.checked(task, user)
    process = ProposeProcess.objects.get(pk=task.process_id)
    compilation = _locked(process.compilation_id)
    waiting = list(
        PlanProposal.objects.select_for_update(of=("self",))
        .filter(compilation=compilation, unit_id=process.unit_id)
        .select_related("project")
    )
    returned = [p for p in waiting if p.state == PlanProposal.State.RETURNED]
    _check_open(compilation, process.unit_id, correcting=bool(returned) or any(p.return_reason for p in waiting))
    todo = [p for p in waiting if p.state in (PlanProposal.State.DRAFT, PlanProposal.State.RETURNED)]
    if not todo:
        raise ValidationError(_("Propose at least one reserve case (or correct the one sent back) before submitting."))
    for proposal in todo:
        before = proposal.state
        proposal.state = PlanProposal.State.SUBMITTED
        proposal.updated_at = timezone.now()
        proposal.save(update_fields=["state", "updated_at"])
        engine_services.audit_step(user, proposal, proposal.project, "submit", before, proposal.state, note)
    engine_services.finish_task(task, user)
    return todo


def _decidable(actor, proposal_id):
    _secretariat(actor)
    compilation_id = PlanProposal.objects.filter(pk=proposal_id).values_list("compilation_id", flat=True).get()
    compilation = _locked(compilation_id)  # the compilation first, then the proposal, as the units' writes lock them
    proposal = PlanProposal.objects.select_for_update(of=("self",)).select_related("project", "unit").get(pk=proposal_id)
    if compilation.state != PlanCompilation.State.OPEN:
        raise ValidationError(_("The plan of %(year)s is published: proposals are closed, a change is an adjustment now.") % {"year": compilation.year})
    if proposal.state != PlanProposal.State.SUBMITTED:
        raise ValidationError(_("Only a submitted proposal is decided; this one is %(state)s.") % {"state": proposal.get_state_display()})
    return proposal, compilation


@transaction.atomic
def proposal_accept(*, actor, proposal_id) -> PlanProposal:
    proposal, _compilation = _decidable(actor, proposal_id)
    if proposal.project.stage != Stage.RESERVE:
        raise ValidationError(
            _("%(code)s is no longer in the reserve pool (%(stage)s): send the proposal back instead.")
            % {"code": proposal.project.code, "stage": proposal.project.get_stage_display()}
        )
    proposal.state = PlanProposal.State.ACCEPTED
    proposal.return_reason = ""
    proposal.save(update_fields=["state", "return_reason"])
    engine_services.audit_step(actor, proposal, proposal.project, "accept", PlanProposal.State.SUBMITTED, proposal.state)
    return proposal


@transaction.atomic
def proposal_return(*, actor, proposal_id, reason) -> PlanProposal:
    """Send a proposal back with a reason: the unit's task opens again, showing it."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the proposal goes back.")})
    proposal, compilation = _decidable(actor, proposal_id)
    proposal.state = PlanProposal.State.RETURNED
    proposal.return_reason = reason[:500]
    proposal.save(update_fields=["state", "return_reason"])
    engine_services.audit_step(actor, proposal, proposal.project, "return", PlanProposal.State.SUBMITTED, proposal.state, reason)
    if not ProposeProcess.objects.filter(compilation=compilation, unit_id=proposal.unit_id, finished__isnull=True).exists():
        _start_task(compilation, proposal.unit)
    return proposal


def _close_open_tasks(compilation):
    from .flows import ProposeFlow

    for process in ProposeProcess.objects.filter(compilation=compilation, finished__isnull=True):
        try:
            ProposeFlow.instance.cancel(process)
        except FlowRuntimeError:
            continue
        TaskClock.objects.filter(task__process_id=process.pk, closed_at__isnull=True).update(
            closed_at=timezone.now(), next_step=None, next_fire_at=None
        )


@transaction.atomic
def compilation_publish(*, actor, compilation_id) -> PlanVersion:
    """Freeze the accepted proposals as version 1 of the year's key list; units' open tasks close."""
    _secretariat(actor)
    compilation = _locked(compilation_id)
    if compilation.state != PlanCompilation.State.OPEN:
        raise ValidationError(_("The plan of %(year)s is published already.") % {"year": compilation.year})
    proposals = PlanProposal.objects.filter(compilation=compilation)
    pending = proposals.filter(state=PlanProposal.State.SUBMITTED).count()
    if pending:
        raise ValidationError(
            _("%(count)s submitted proposals wait for your decision: accept them or send them back.") % {"count": pending}
        )
    accepted = list(proposals.filter(state=PlanProposal.State.ACCEPTED).order_by("project_id"))
    if not accepted:
        raise ValidationError(_("No proposal is accepted: there is nothing to publish."))
    version = PlanVersion.objects.create(
        compilation=compilation, number=1, change=PlanVersion.Change.PUBLISHED, created_by=actor
    )
    PlanEntry.objects.bulk_create(
        [
            PlanEntry(version=version, project_id=p.project_id, planned_start=p.planned_start,
                      **{name: getattr(p, name) for name in AMOUNTS})
            for p in accepted
        ]
    )
    compilation.state = PlanCompilation.State.PUBLISHED
    compilation.published_at = timezone.now()
    compilation.save(update_fields=["state", "published_at"])
    engine_services.audit_step(actor, compilation, None, "publish", PlanCompilation.State.OPEN, compilation.state)
    _close_open_tasks(compilation)
    return version
