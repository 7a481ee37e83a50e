"""Writing financing needs and institutions' products: each change validated and audited in one
transaction, needs and products version-checked, and the matching redone before the transaction
commits.

A need's lifecycle: draft -> submitted (by the case's lead unit, its owner enterprise or the
secretariat) -> published on the white list by the secretariat (or sent back to draft with a
note) -> closed (the need is met) or withdrawn. Who may take which step is
``permissions.can_take_need_step``. The state changes here, through a version-checked UPDATE:
the model's state field is protected, and the need has no django-fsm transitions.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import ConcurrentTransition

from cases import notifying
from cases.formatting import format_wan
from cases.models import AuditAction, KeyProject, Person, Role, Stage, Unit, UnitKind
from cases.services.audit import audit_record, diff, snapshot
from cases.services.errors import Conflict, TransitionBlocked
from cases.services.transitions import TransitionOption
from cases.signals import record_changed
from notifications import messages as message_kinds

from .. import matching, permissions
from ..models import (
    INDUSTRY_BITS,
    STAGE_BITS,
    FinancialProduct,
    FinancingNeed,
    FinancingType,
    NeedState,
    mask_of,
    values_of,
)

NEED_FIELDS = ["amount", "financing_type", "purpose", "term_months", "deadline", "collateral"]
# The case's facts a need carries for matching, kept in step with the case.
NEED_COPIES = ["industry", "stage", "region"]
NEED_STAGES = (Stage.DOCKING, Stage.FINANCING)
OPEN_NEED_STATES = (NeedState.DRAFT, NeedState.SUBMITTED, NeedState.PUBLISHED)
# Who may change a need's facts in which state: its lead unit and its owner enterprise while
# drafting, the secretariat until it is closed or withdrawn.
LEAD_UNIT_EDITABLE = {NeedState.DRAFT}
SECRETARIAT_EDITABLE = set(OPEN_NEED_STATES)

PRODUCT_FIELDS = [
    "institution",
    "name",
    "financing_type",
    "special_line",
    "amount_min",
    "amount_max",
    "rate_min",
    "rate_max",
    "term_months_min",
    "term_months_max",
    "industries",
    "stages",
    "regions",
    "description",
    "is_active",
]
# What the audit trail records of a product: its fields, with the masks as lists of values.
PRODUCT_AUDITED = [
    "institution",
    "name",
    "financing_type",
    "special_line",
    "amount_min",
    "amount_max",
    "rate_min",
    "rate_max",
    "term_months_min",
    "term_months_max",
    "industries_mask",
    "stages_mask",
    "regions",
    "description",
    "is_active",
]
# Changing only these leaves every match as it was.
PRODUCT_COSMETIC = {"name", "description"}
MAX_RATE = Decimal("36")


class WrongState(Conflict):
    """The need is not in a state where this is possible (anymore): answered like a conflict."""


# Needs


@dataclass(frozen=True)
class NeedStep:
    name: str
    sources: tuple
    target: str
    label: object
    reason_required: bool = False


NEED_STEPS = {
    step.name: step
    for step in [
        NeedStep("submit", (NeedState.DRAFT,), NeedState.SUBMITTED, gettext_lazy("Submit for review")),
        NeedStep("publish", (NeedState.SUBMITTED,), NeedState.PUBLISHED, gettext_lazy("Publish on the white list")),
        NeedStep(
            "return", (NeedState.SUBMITTED,), NeedState.DRAFT, gettext_lazy("Send back to draft"), reason_required=True
        ),
        NeedStep("close", (NeedState.PUBLISHED,), NeedState.CLOSED, gettext_lazy("Close: the need is met")),
        NeedStep("withdraw", OPEN_NEED_STATES, NeedState.WITHDRAWN, gettext_lazy("Withdraw")),
    ]
}


def _may_take(user, need, name):
    return permissions.can_take_need_step(user, need, name)


def _guard(need, name):
    """What stops step ``name`` now, in words a person reads (empty: nothing)."""
    reasons = []
    if name in ("submit", "publish") and need.project.stage not in NEED_STAGES:
        reasons.append(
            _("The key project is in %(stage)s: needs are published while it is in financing docking or financing.")
            % {"stage": need.project.get_stage_display()}
        )
    if name in ("submit", "publish") and need.deadline < timezone.localdate():
        reasons.append(_("The date the money is needed by has passed: change it first."))
    return reasons


def need_transition_options(need, user):
    """The steps from the need's state, with whether ``user`` may take each and what blocks it."""
    states = dict(NeedState.choices)
    return [
        TransitionOption(
            name=step.name,
            label=str(step.label),
            target=step.target,
            target_label=str(states[step.target]),
            permitted=_may_take(user, need, step.name),
            reasons=_guard(need, step.name),
            reason_required=step.reason_required,
        )
        for step in NEED_STEPS.values()
        if need.state in step.sources
    ]


def _check_version(record, expected_version):
    if expected_version is not None and int(expected_version) != record.version:
        raise Conflict()


def _set_need_fields(need, data):
    unknown = set(data) - set(NEED_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in sorted(unknown)})
    for name, value in data.items():
        setattr(need, name, value)


def _validate_need(need, *, check_deadline):
    need.validate(exclude=["project", "region", "created_by"])
    if check_deadline and need.deadline < timezone.localdate():
        raise ValidationError({"deadline": _("The date the money is needed by cannot be in the past.")})


def _copy_case_facts(need, project):
    need.industry = project.industry
    need.stage = project.stage
    need.region_id = project.region_id


@transaction.atomic
def need_create(*, project, actor, data) -> FinancingNeed:
    """A case in financing docking or financing drafts a financing need (its lead unit, its owner
    enterprise or the secretariat)."""
    if not permissions.can_edit_need(actor, project):
        raise PermissionDenied(_("You may not write financing needs for this key project."))
    if project.stage not in NEED_STAGES:
        raise ValidationError(
            {
                "project": _(
                    "Financing needs are written for key projects in financing docking or financing; this one is in %(stage)s."
                )
                % {"stage": project.get_stage_display()}
            }
        )
    need = FinancingNeed(project=project, created_by=actor if getattr(actor, "is_authenticated", False) else None)
    _set_need_fields(need, data)
    _copy_case_facts(need, project)
    _validate_need(need, check_deadline=True)
    need.save()
    audit_record(
        actor=actor,
        instance=need,
        action=AuditAction.CREATED,
        project=project,
        to_state=need.state,
        changes={k: [None, v] for k, v in snapshot(need, NEED_FIELDS).items() if v not in (None, "")},
    )
    record_changed.send(sender=FinancingNeed, instance=need, action="created", transition="", actor=actor)
    return need


def can_change_need(user, need):
    """May ``user`` change the facts of ``need`` in its present state?"""
    if not permissions.can_edit_need(user, need.project):
        return False
    editable = SECRETARIAT_EDITABLE if permissions.is_secretariat(user) else LEAD_UNIT_EDITABLE
    return need.state in editable


@transaction.atomic
def need_update(*, need, actor, data, expected_version=None) -> FinancingNeed:
    """Change a need's facts: its lead unit or owner enterprise while it is a draft, the secretariat
    until it is closed. A published need is matched again."""
    if not permissions.can_edit_need(actor, need.project):
        raise PermissionDenied(_("You may not change this financing need."))
    _check_version(need, expected_version)
    if not can_change_need(actor, need):
        raise WrongState(
            _("A need that is %(state)s can no longer be changed here.") % {"state": need.get_state_display()}
        )
    before = snapshot(need, NEED_FIELDS)
    _set_need_fields(need, data)
    changes = diff(before, snapshot(need, NEED_FIELDS))
    _validate_need(need, check_deadline="deadline" in changes)
    if not changes:
        return need
    try:
        need.save()
    except ConcurrentTransition as exc:
        raise Conflict() from exc
    audit_record(actor=actor, instance=need, action=AuditAction.UPDATED, project=need.project, changes=changes)
    if need.state == NeedState.PUBLISHED:
        matching.match_need(need)
    return need


@transaction.atomic
def need_transition(*, need, transition, actor, reason="", expected_version=None) -> FinancingNeed:
    """Take one step of a need's lifecycle; publishing matches it, closing or withdrawing a
    published need drops its matches."""
    step = NEED_STEPS.get(transition)
    if step is None or need.state not in step.sources:
        raise WrongState(
            _("“%(transition)s” is not possible from the current state (%(state)s).")
            % {"transition": step.label if step else transition, "state": need.get_state_display()}
        )
    if not _may_take(actor, need, transition):
        raise PermissionDenied(_("You may not take this step."))
    reason = (reason or "").strip()
    if step.reason_required and not reason:
        raise ValidationError({"reason": _("Say what must change before the need is submitted again.")})
    _check_version(need, expected_version)
    project = KeyProject.objects.get(pk=need.project_id)
    need.project = project
    blocked = _guard(need, transition)
    if blocked:
        raise TransitionBlocked(blocked)

    now = timezone.now()
    source = need.state
    values = {"state": step.target, "version": F("version") + 1, "updated_at": now}
    if transition == "submit":
        values.update(submitted_at=now, review_note="")
        values.update(industry=project.industry, stage=project.stage, region_id=project.region_id)
    elif transition == "publish":
        values.update(published_at=now, review_note=reason)
        values.update(industry=project.industry, stage=project.stage, region_id=project.region_id)
    elif transition == "return":
        values["review_note"] = reason
    elif transition in ("close", "withdraw"):
        values["closed_at"] = now
    updated = FinancingNeed.objects.filter(pk=need.pk, version=need.version, state=source).update(**values)
    if not updated:
        raise Conflict()
    need.refresh_from_db()
    audit_record(
        actor=actor,
        instance=need,
        action=AuditAction.TRANSITION,
        project=project,
        transition=transition,
        from_state=source,
        to_state=need.state,
        reason=reason,
    )
    if transition == "publish" or source == NeedState.PUBLISHED:
        matching.match_need(need)
    _tell_about_step(need, transition, actor, reason)
    record_changed.send(sender=FinancingNeed, instance=need, action="transition", transition=transition, actor=actor)
    return need


def _need_context(need):
    return {
        "case": notifying.case_name(need.project),
        "amount": format_wan(need.amount),
        "type": notifying.label(need.financing_type, FinancingType.choices),
    }


def _tell_about_step(need, transition, actor, reason):
    link = reverse("financing:need_detail", args=[need.pk])
    if transition == "submit":
        person = permissions.person_of(actor)
        notifying.notify_people(
            Person.objects.filter(role=Role.SECRETARIAT, user__is_active=True),
            "need_submitted",
            context={**_need_context(need), "actor": person.name if person else getattr(actor, "username", "")},
            link=link,
            exclude_user=actor,
        )
    elif transition in ("publish", "return"):
        lead = need.project.lead_unit_id
        people = notifying.unit_people([lead]) if lead else []
        if need.created_by_id:
            people += list(Person.objects.filter(user_id=need.created_by_id))
        outcome = (
            gettext_lazy("published on the white list") if transition == "publish" else gettext_lazy("sent back to draft")
        )
        notifying.notify_people(
            people,
            "need_reviewed",
            context={**_need_context(need), "outcome": message_kinds.translatable(outcome), "note": reason},
            link=link,
            exclude_user=actor,
        )


def needs_follow_project(project):
    """The open needs of ``project`` take up its industry, stage and region again; the published
    ones among them that changed are matched again. Called by the case's services."""
    stale = FinancingNeed.objects.filter(project_id=project.pk, state__in=OPEN_NEED_STATES).exclude(
        industry=project.industry, stage=project.stage, region_id=project.region_id
    )
    changed = list(stale.values_list("pk", "state"))
    if not changed:
        return 0
    FinancingNeed.objects.filter(pk__in=[pk for pk, _state in changed]).update(
        industry=project.industry, stage=project.stage, region_id=project.region_id
    )
    matching.match_needs([pk for pk, state in changed if state == NeedState.PUBLISHED])
    return len(changed)


# Products


def _institution_ids_for(actor):
    return None if permissions.is_secretariat(actor) else permissions.institution_ids(actor)


def _set_product_fields(product, data):
    """Set what ``data`` gives; returns the errors of the target lists (industries, stages)."""
    unknown = set(data) - set(PRODUCT_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in sorted(unknown)})
    errors = {}
    for name, value in data.items():
        if name in ("industries", "stages"):
            bits = INDUSTRY_BITS if name == "industries" else STAGE_BITS
            values = list(value or [])
            wrong = [str(v) for v in values if v not in bits]
            if wrong:
                errors[name] = [_("Not a choice here: %(values)s.") % {"values": ", ".join(wrong)}]
                continue
            setattr(product, f"{name}_mask", mask_of(values, bits))
        elif name != "regions":
            setattr(product, product._meta.get_field(name).name, value)
    return errors


def _validate_product(product, regions, errors=None):
    errors = dict(errors or {})
    try:
        product.full_clean(validate_constraints=False)
    except ValidationError as error:
        errors.update(error.message_dict)
    institution = product.institution if product.institution_id else None
    if institution is not None and institution.kind != UnitKind.INSTITUTION:
        errors["institution"] = [_("Products belong to financial institutions.")]
    amount_min, amount_max = product.amount_min, product.amount_max
    if amount_min is not None and amount_max is not None:
        if amount_max < amount_min:
            errors.setdefault("amount_max", []).append(_("The largest amount cannot be smaller than the smallest."))
        elif amount_max <= 0:
            errors.setdefault("amount_max", []).append(_("The largest amount must be more than zero."))
    if product.rate_min is not None and product.rate_max is not None:
        if product.rate_max < product.rate_min:
            errors.setdefault("rate_max", []).append(_("The highest rate cannot be lower than the lowest."))
        if product.rate_max > MAX_RATE:
            errors.setdefault("rate_max", []).append(
                _("A rate above %(rate)s per cent a year is not a financing rate.") % {"rate": MAX_RATE}
            )
    term_min, term_max = product.term_months_min, product.term_months_max
    if term_min is not None and term_max is not None:
        if term_min < 1:
            errors.setdefault("term_months_min", []).append(_("The shortest term is at least one month."))
        if term_max < term_min:
            errors.setdefault("term_months_max", []).append(_("The longest term cannot be shorter than the shortest."))
        if term_max > 600:
            errors.setdefault("term_months_max", []).append(_("The longest term is at most 600 months."))
    if regions is not None and any(getattr(unit, "kind", None) != UnitKind.DISTRICT for unit in regions):
        errors.setdefault("regions", []).append(_("Regions are districts or counties."))
    if errors:
        raise ValidationError(errors)


def _regions(data):
    if "regions" not in data:
        return None
    regions = list(data["regions"] or [])
    ids = [getattr(unit, "pk", unit) for unit in regions]
    units = {unit.pk: unit for unit in Unit.objects.filter(pk__in=ids)}
    missing = [pk for pk in ids if pk not in units]
    if missing:
        raise ValidationError({"regions": _("No such region: %(ids)s.") % {"ids": ", ".join(map(str, missing))}})
    return [units[pk] for pk in ids]


def _product_snapshot(product):
    return snapshot(product, PRODUCT_AUDITED)


def _may_manage(actor, institution_id):
    if not permissions.can_manage_product(actor, institution_id):
        raise PermissionDenied(_("You may manage only your own institution's products."))


@transaction.atomic
def product_create(*, actor, data) -> FinancialProduct:
    """An institution's product, added by the secretariat or by the institution's people; the
    needs it fits are matched again."""
    institution = data.get("institution")
    if institution is None:
        raise ValidationError({"institution": _("Name the institution that offers the product.")})
    _may_manage(actor, getattr(institution, "pk", institution))
    product = FinancialProduct()
    errors = _set_product_fields(product, data)
    regions = _regions(data)
    _validate_product(product, regions, errors)
    product.save()
    if regions:
        product.regions.set(regions)
    audit_record(
        actor=actor,
        instance=product,
        action=AuditAction.CREATED,
        changes={k: [None, v] for k, v in _product_snapshot(product).items() if v not in (None, "", [], 0)},
    )
    if product.is_active:
        matching.rematch_product(product)
    return product


@transaction.atomic
def product_update(*, product, actor, data, expected_version=None) -> FinancialProduct:
    """Change a product read at ``expected_version`` (Conflict when someone saved it since);
    unless only its name or description changed, the needs it was matched with and the needs it
    fits now are matched again, once the change is saved."""
    _may_manage(actor, product.institution_id)
    product = FinancialProduct.objects.select_for_update(of=("self",)).get(pk=product.pk)
    _check_version(product, expected_version)
    if "institution" in data:
        _may_manage(actor, getattr(data["institution"], "pk", data["institution"]))
    before = _product_snapshot(product)
    errors = _set_product_fields(product, data)
    regions = _regions(data)
    _validate_product(product, regions, errors)
    after = _product_snapshot(product)
    if regions is not None:
        after["regions"] = sorted(unit.pk for unit in regions)
    changes = diff(before, after)
    if not changes:
        return product  # nothing to save: the version stays, so nobody else's form goes stale
    try:
        product.save()
    except ConcurrentTransition as exc:  # saved by someone else between our read and our write
        raise Conflict() from exc
    if regions is not None:
        product.regions.set(regions)
        if hasattr(product, "_prefetched_objects_cache"):
            product._prefetched_objects_cache.pop("regions", None)
    audit_record(actor=actor, instance=product, action=AuditAction.UPDATED, changes=changes)
    if set(changes) - PRODUCT_COSMETIC:
        matching.rematch_product(product)
    return product


@transaction.atomic
def product_deactivate(*, product, actor, reason="") -> FinancialProduct:
    """Take a product off the market: it leaves every match, and the needs it was matched with
    are matched again."""
    _may_manage(actor, product.institution_id)
    product = FinancialProduct.objects.select_for_update(of=("self",)).get(pk=product.pk)
    if not product.is_active:
        raise WrongState(_("This product is already inactive."))
    product.is_active = False
    product.save(update_fields=["is_active", "updated_at"])
    audit_record(
        actor=actor,
        instance=product,
        action=AuditAction.UPDATED,
        reason=(reason or "").strip(),
        changes={"is_active": [True, False]},
    )
    matching.rematch_product(product)
    return product


def product_industries(product):
    return values_of(product.industries_mask, INDUSTRY_BITS)


def product_stages(product):
    return values_of(product.stages_mask, STAGE_BITS)


__all__ = [
    "NEED_STEPS",
    "WrongState",
    "can_change_need",
    "need_create",
    "need_transition",
    "need_transition_options",
    "need_update",
    "needs_follow_project",
    "product_create",
    "product_deactivate",
    "product_industries",
    "product_stages",
    "product_update",
]
