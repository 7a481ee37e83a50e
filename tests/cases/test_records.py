"""The records about a case: pre-work items, blockers and dockings, through their services."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from cases import permissions, services
from cases.financing import services as financing_services
from cases.financing.models import Docking
from cases.models import AuditAction, AuditEvent, Blocker, PreworkItem, Stage
from tests.cases.factories import (
    BlockerFactory,
    DockingFactory,
    PreworkItemFactory,
    set_stage,
    set_state,
)

DONE_ON = datetime.date(2026, 5, 8)


@pytest.fixture
def project(org):
    return set_stage(org.project, Stage.PREWORK)


def user(org, role):
    return getattr(org, role).user


def fresh(record):
    """The record as the database has it, with its project, as a service receives it."""
    return type(record).objects.select_related("project").get(pk=record.pk)


def row(record):
    """Every stored value of a record, its cooperating units included."""
    stored = fresh(record)
    values = {f.attname: getattr(stored, f.attname) for f in stored._meta.concrete_fields}
    if hasattr(stored, "cooperating_units"):
        values["cooperating_units"] = sorted(stored.cooperating_units.values_list("pk", flat=True))
    return values


def events_of(record):
    return AuditEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(type(record)), object_id=str(record.pk)
    ).order_by("id")


def item_data(org, **overrides):
    return {"kind": "eia", "approving_unit": org.department, "statutory_days": 20, **overrides}


# Pre-work items: adding


def test_adding_a_prework_item_writes_it_pending_with_one_audit_event(org, project):
    item = services.prework_item_create(
        project=project, actor=user(org, "secretariat"), data=item_data(org)
    )

    stored = fresh(item)
    assert (stored.state, stored.version, stored.approving_unit) == ("pending", 1, org.department)
    [event] = events_of(item)
    assert (event.action, event.actor, event.project, event.to_state) == (
        AuditAction.CREATED,
        org.secretariat.user,
        project,
        "pending",
    )
    assert event.changes["kind"] == [None, "eia"]
    assert event.changes["approving_unit"] == [None, org.department.pk]
    assert event.changes["statutory_days"] == [None, 20]


@pytest.mark.parametrize("role", ["secretariat", "head", "staff"])
def test_the_secretariat_and_the_lead_units_people_may_add_prework_items(org, project, role):
    services.prework_item_create(project=project, actor=user(org, role), data=item_data(org))

    assert PreworkItem.objects.filter(project=project).count() == 1


@pytest.mark.parametrize(
    "role", ["supervisor", "leader", "other_leader", "dept_head", "other_head", "bank", "owner"]
)
def test_who_is_not_the_lead_unit_may_not_add_prework_items(org, project, role):
    with pytest.raises(PermissionDenied):
        services.prework_item_create(project=project, actor=user(org, role), data=item_data(org))

    assert not PreworkItem.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("stage", [Stage.COMPLETED, Stage.WITHDRAWN])
def test_only_the_secretariat_adds_prework_items_to_a_finished_case(org, project, stage):
    set_stage(project, stage)

    with pytest.raises(PermissionDenied):
        services.prework_item_create(project=project, actor=user(org, "head"), data=item_data(org))
    services.prework_item_create(
        project=project, actor=user(org, "secretariat"), data=item_data(org)
    )

    assert PreworkItem.objects.filter(project=project).count() == 1


@pytest.mark.parametrize("days", [0, 366])
def test_a_statutory_time_limit_outside_one_to_365_working_days_is_refused(org, project, days):
    with pytest.raises(ValidationError) as refused:
        services.prework_item_create(
            project=project,
            actor=user(org, "secretariat"),
            data=item_data(org, statutory_days=days),
        )

    assert list(refused.value.message_dict) == ["statutory_days"]
    assert not PreworkItem.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_prework_item_of_kind_other_needs_a_title(org, project):
    """The model's help text: the title is "Needed when the kind is Other."."""
    with pytest.raises(ValidationError) as refused:
        services.prework_item_create(
            project=project,
            actor=user(org, "secretariat"),
            data=item_data(org, kind="other", title=""),
        )

    assert "title" in refused.value.message_dict
    assert not PreworkItem.objects.exists()


@pytest.mark.parametrize("unit", ["bank_unit", "enterprise"])
def test_a_prework_item_is_approved_by_a_government_unit_not_a_bank_or_an_enterprise(
    org, project, unit
):
    """The page's form offers departments, districts and parks; the service must agree."""
    with pytest.raises(ValidationError) as refused:
        services.prework_item_create(
            project=project,
            actor=user(org, "secretariat"),
            data=item_data(org, approving_unit=getattr(org, unit)),
        )

    assert "approving_unit" in refused.value.message_dict
    assert not PreworkItem.objects.exists()


# Pre-work items: changing


@pytest.fixture
def item(org, project):
    return fresh(PreworkItemFactory(project=project, approving_unit=org.department, kind="land"))


def test_changing_a_prework_item_audits_the_changed_fields_only(org, item):
    services.prework_item_update(
        item=item, actor=user(org, "staff"), data={"note": "已提交材料", "statutory_days": 20}
    )

    assert (fresh(item).note, fresh(item).version) == ("已提交材料", 2)
    [event] = events_of(item)
    assert (event.action, event.actor) == (AuditAction.UPDATED, org.staff.user)
    assert event.changes == {"note": ["", "已提交材料"]}


def test_a_change_that_changes_nothing_writes_no_audit_event(org, item):
    services.prework_item_update(item=item, actor=user(org, "secretariat"), data={"note": ""})

    assert not events_of(item).exists()


def test_a_prework_change_from_a_stale_version_is_refused_and_writes_nothing(org, item):
    stale = fresh(item)
    services.prework_item_update(
        item=fresh(item), actor=user(org, "secretariat"), data={"note": "第一次"}
    )
    before = row(item)

    with pytest.raises(services.Conflict):
        services.prework_item_update(
            item=stale,
            actor=user(org, "secretariat"),
            data={"note": "第二次"},
            expected_version=stale.version,
        )

    assert row(item) == before
    assert events_of(item).count() == 1


def test_the_approving_unit_may_work_an_item_but_not_change_it(org, item):
    with pytest.raises(PermissionDenied):
        services.prework_item_update(item=item, actor=user(org, "dept_head"), data={"note": "改"})

    assert fresh(item).note == ""


def test_the_state_of_a_prework_item_cannot_be_set_by_a_change(org, item):
    with pytest.raises(ValidationError) as refused:
        services.prework_item_update(
            item=item, actor=user(org, "secretariat"), data={"state": "done"}
        )

    assert list(refused.value.message_dict) == ["state"]
    assert fresh(item).state == "pending"


@pytest.mark.parametrize("role", ["head", "staff"])
def test_the_lead_unit_may_not_make_a_required_item_optional(org, item, role):
    """Waiving a required item is the secretariat's, with a reason; dropping "required" would
    let the lead unit do the same silently and lift the stage guards."""
    with pytest.raises((PermissionDenied, ValidationError)):
        services.prework_item_update(item=item, actor=user(org, role), data={"required": False})

    assert fresh(item).required is True


# Pre-work items: transitions


def test_starting_a_prework_item_dates_it_today_unless_told(org, item):
    services.prework_item_transition(item=item, transition="start", actor=user(org, "dept_head"))

    stored = fresh(item)
    assert (stored.state, stored.started_on, stored.version) == (
        "in_progress",
        timezone.localdate(),
        2,
    )
    [event] = events_of(item)
    assert (event.transition, event.from_state, event.to_state, event.actor) == (
        "start",
        "pending",
        "in_progress",
        org.dept_head.user,
    )


def test_starting_a_prework_item_keeps_the_date_given(org, item):
    services.prework_item_transition(
        item=item,
        transition="start",
        actor=user(org, "head"),
        fields={"started_on": datetime.date(2026, 4, 2)},
    )

    assert fresh(item).started_on == datetime.date(2026, 4, 2)
    assert events_of(item).get().changes == {"started_on": [None, "2026-04-02"]}


def test_marking_a_prework_item_done_needs_the_date_of_the_approval(org, item):
    with pytest.raises(services.TransitionBlocked) as blocked:
        services.prework_item_transition(
            item=item, transition="complete", actor=user(org, "dept_head")
        )

    assert blocked.value.reasons == ["The date of the approval is not given."]
    assert fresh(item).state == "pending"


def test_marking_a_prework_item_done_records_the_date_and_document_in_one_event(org, item):
    services.prework_item_transition(
        item=item,
        transition="complete",
        actor=user(org, "dept_head"),
        fields={"done_on": DONE_ON, "document_number": "江自然资规〔2026〕18号"},
    )

    stored = fresh(item)
    assert (stored.state, stored.done_on, stored.document_number) == (
        "done",
        DONE_ON,
        "江自然资规〔2026〕18号",
    )
    [event] = events_of(item)
    assert (event.transition, event.from_state, event.to_state) == ("complete", "pending", "done")
    assert event.changes == {
        "done_on": [None, "2026-05-08"],
        "document_number": ["", "江自然资规〔2026〕18号"],
    }


def test_waiving_a_prework_item_needs_a_reason(org, item):
    with pytest.raises(ValidationError) as refused:
        services.prework_item_transition(
            item=item, transition="waive", actor=user(org, "secretariat")
        )

    assert list(refused.value.message_dict) == ["reason"]
    assert fresh(item).state == "pending"


def test_waiving_a_prework_item_keeps_the_reason_on_it_and_in_the_trail(org, item):
    services.prework_item_transition(
        item=item, transition="waive", actor=user(org, "secretariat"), reason="利用存量建设用地"
    )

    stored = fresh(item)
    assert (stored.state, stored.waiver_reason) == ("waived", "利用存量建设用地")
    assert events_of(item).get().reason == "利用存量建设用地"


def test_reopening_a_done_item_needs_a_reason_and_clears_its_date(org, item):
    services.prework_item_transition(
        item=item,
        transition="complete",
        actor=user(org, "secretariat"),
        fields={"done_on": DONE_ON},
    )
    with pytest.raises(ValidationError):
        services.prework_item_transition(
            item=fresh(item), transition="reopen", actor=user(org, "secretariat")
        )

    services.prework_item_transition(
        item=fresh(item), transition="reopen", actor=user(org, "secretariat"), reason="批复被撤销"
    )

    stored = fresh(item)
    assert (stored.state, stored.done_on) == ("in_progress", None)


def test_a_waived_item_cannot_be_marked_done(org, item):
    set_state(item, "waived")

    with pytest.raises(services.TransitionNotAvailable):
        services.prework_item_transition(
            item=fresh(item),
            transition="complete",
            actor=user(org, "secretariat"),
            fields={"done_on": DONE_ON},
        )

    assert fresh(item).state == "waived"


PREWORK_TRANSITIONS = ["start", "complete", "waive", "reopen"]
# The item is on org.project (led by the park) and approved by the department.
MAY_WORK_ITEM = {
    "secretariat": {"start", "complete", "waive", "reopen"},
    "head": {"start", "complete"},
    "staff": {"start", "complete"},
    "dept_head": {"start", "complete"},
    "supervisor": set(),
    "leader": set(),
    "other_leader": set(),
    "other_head": set(),
    "bank": set(),
    "owner": set(),
}


@pytest.mark.parametrize("role", MAY_WORK_ITEM)
def test_who_may_take_which_prework_transition(org, item, role):
    allowed = {
        name
        for name in PREWORK_TRANSITIONS
        if permissions.can_transition(user(org, role), item, name)
    }

    assert allowed == MAY_WORK_ITEM[role]


# Blockers: reporting and changing


def blocker_data(**overrides):
    return {"title": "用地指标不足", "category": "land", **overrides}


def test_a_reported_blocker_names_its_reporter_and_unit_and_is_audited(org, project):
    blocker = services.blocker_report(
        project=project, actor=user(org, "staff"), data=blocker_data()
    )

    stored = fresh(blocker)
    assert (stored.state, stored.reported_by, stored.reporting_unit) == (
        "reported",
        org.staff.user,
        org.park,
    )
    [event] = events_of(blocker)
    assert (event.action, event.to_state, event.project) == (
        AuditAction.CREATED,
        "reported",
        project,
    )
    assert event.changes["title"] == [None, "用地指标不足"]


@pytest.mark.parametrize("role", ["secretariat", "head", "staff", "owner"])
def test_the_secretariat_the_lead_unit_and_the_owner_may_report_a_blocker(org, project, role):
    services.blocker_report(project=project, actor=user(org, role), data=blocker_data())

    assert Blocker.objects.filter(project=project).count() == 1


@pytest.mark.parametrize(
    "role", ["supervisor", "leader", "other_leader", "dept_head", "other_head", "bank"]
)
def test_others_may_not_report_a_blocker_and_nothing_is_written(org, project, role):
    with pytest.raises(PermissionDenied):
        services.blocker_report(project=project, actor=user(org, role), data=blocker_data())

    assert not Blocker.objects.exists()
    assert not AuditEvent.objects.exists()


def test_no_blocker_is_reported_on_a_completed_case(org, project):
    set_stage(project, Stage.COMPLETED)

    with pytest.raises(PermissionDenied):
        services.blocker_report(project=project, actor=user(org, "head"), data=blocker_data())

    assert not Blocker.objects.exists()


@pytest.fixture
def reported(org, project):
    return fresh(
        services.blocker_report(project=project, actor=user(org, "staff"), data=blocker_data())
    )


def test_the_reporter_may_change_a_blocker_while_it_is_reported(org, reported):
    services.blocker_update(
        blocker=reported,
        actor=user(org, "staff"),
        data={"description": "缺少新增建设用地指标30亩", "category": "land"},
    )

    assert fresh(reported).description == "缺少新增建设用地指标30亩"
    event = events_of(reported).last()
    assert event.action == AuditAction.UPDATED
    assert event.changes == {"description": ["", "缺少新增建设用地指标30亩"]}


@pytest.mark.parametrize(
    "data",
    [{"lead_unit": "department"}, {"cooperating_units": ["department"]}, {"due_on": "2026-12-31"}],
)
def test_who_leads_a_blocker_is_the_secretariats_triage_not_the_reporters(org, reported, data):
    values = {
        key: (
            [getattr(org, v) for v in value]
            if isinstance(value, list)
            else getattr(org, value, value)
        )
        for key, value in data.items()
    }
    before = events_of(reported).count()
    with pytest.raises(ValidationError):
        services.blocker_update(blocker=reported, actor=user(org, "staff"), data=values)
    with pytest.raises(ValidationError):
        services.blocker_report(project=org.project, actor=user(org, "staff"), data={"title": "新问题", "category": "land", **values})
    assert events_of(reported).count() == before
    services.blocker_update(blocker=fresh(reported), actor=user(org, "secretariat"), data=values)


def test_a_colleague_of_the_reporter_may_not_change_the_blocker(org, reported):
    with pytest.raises(PermissionDenied):
        services.blocker_update(
            blocker=reported, actor=user(org, "head"), data={"description": "改"}
        )

    assert fresh(reported).description == ""


def test_the_reporter_may_not_change_a_blocker_once_it_is_assigned(org, reported):
    set_state(reported, "assigned")

    with pytest.raises(PermissionDenied):
        services.blocker_update(
            blocker=fresh(reported), actor=user(org, "staff"), data={"description": "改"}
        )
    services.blocker_update(
        blocker=fresh(reported), actor=user(org, "secretariat"), data={"description": "秘书处补充"}
    )

    assert fresh(reported).description == "秘书处补充"


def test_a_blocker_change_from_a_stale_version_is_refused_and_writes_nothing(org, reported):
    stale = fresh(reported)
    services.blocker_update(
        blocker=fresh(reported), actor=user(org, "staff"), data={"title": "第一次"}
    )
    before = row(reported)

    with pytest.raises(services.Conflict):
        services.blocker_update(blocker=stale, actor=user(org, "staff"), data={"title": "第二次"})

    assert row(reported) == before


@pytest.mark.parametrize("unit", ["bank_unit", "enterprise"])
def test_a_blocker_is_led_by_a_government_unit_not_a_bank_or_an_enterprise(org, project, unit):
    """The page's form offers only government units as a blocker's lead; the service must agree."""
    with pytest.raises(ValidationError) as refused:
        services.blocker_report(
            project=project,
            actor=user(org, "secretariat"),
            data=blocker_data(lead_unit=getattr(org, unit)),
        )

    assert "lead_unit" in refused.value.message_dict
    assert not Blocker.objects.exists()


# Blockers: transitions


def test_assigning_a_blocker_needs_a_lead_unit(org, reported):
    with pytest.raises(services.TransitionBlocked) as blocked:
        services.blocker_transition(
            blocker=reported, transition="assign", actor=user(org, "secretariat")
        )

    assert blocked.value.reasons == ["No lead unit is chosen."]
    assert fresh(reported).state == "reported"


def test_assigning_a_blocker_records_its_units_and_due_date_in_one_event(org, reported):
    services.blocker_transition(
        blocker=reported,
        transition="assign",
        actor=user(org, "secretariat"),
        fields={
            "lead_unit": org.department,
            "cooperating_units": [org.park],
            "due_on": datetime.date(2026, 6, 30),
        },
    )

    stored = row(reported)
    assert (stored["state"], stored["lead_unit_id"], stored["cooperating_units"]) == (
        "assigned",
        org.department.pk,
        [org.park.pk],
    )
    event = events_of(reported).last()
    assert (event.transition, event.from_state, event.to_state) == (
        "assign",
        "reported",
        "assigned",
    )
    assert event.changes == {
        "lead_unit": [None, org.department.pk],
        "due_on": [None, "2026-06-30"],
        "cooperating_units": [[], [org.park.pk]],
    }


@pytest.fixture
def assigned(org, reported):
    return fresh(
        services.blocker_transition(
            blocker=reported,
            transition="assign",
            actor=user(org, "secretariat"),
            fields={"lead_unit": org.department},
        )
    )


@pytest.mark.parametrize("resolution", ["", "   "])
def test_resolving_a_blocker_needs_the_resolution_described(org, assigned, resolution):
    with pytest.raises(services.TransitionBlocked) as blocked:
        services.blocker_transition(
            blocker=assigned,
            transition="resolve",
            actor=user(org, "dept_head"),
            fields={"resolution": resolution},
        )

    assert blocked.value.reasons == ["The resolution is not described."]
    assert fresh(assigned).state == "assigned"


def test_the_blockers_lead_unit_resolves_it_with_a_time_and_a_description(org, assigned):
    services.blocker_transition(
        blocker=assigned,
        transition="resolve",
        actor=user(org, "dept_head"),
        fields={"resolution": "调剂新增建设用地指标30亩"},
    )

    stored = fresh(assigned)
    assert (stored.state, stored.resolution) == ("resolved", "调剂新增建设用地指标30亩")
    assert stored.resolved_at is not None


@pytest.fixture
def resolved(org, assigned):
    return fresh(
        services.blocker_transition(
            blocker=assigned,
            transition="resolve",
            actor=user(org, "dept_head"),
            fields={"resolution": "已协调"},
        )
    )


def test_closing_out_a_resolved_blocker_stamps_the_time(org, resolved):
    services.blocker_transition(
        blocker=resolved, transition="close_out", actor=user(org, "secretariat")
    )

    stored = fresh(resolved)
    assert stored.state == "closed_out"
    assert stored.closed_at is not None


def test_sending_a_resolved_blocker_back_needs_a_reason_and_clears_the_resolution_time(
    org, resolved
):
    with pytest.raises(ValidationError):
        services.blocker_transition(
            blocker=resolved, transition="send_back", actor=user(org, "secretariat")
        )
    assert fresh(resolved).state == "resolved"

    services.blocker_transition(
        blocker=fresh(resolved),
        transition="send_back",
        actor=user(org, "secretariat"),
        reason="指标尚未下达",
    )

    stored = fresh(resolved)
    assert (stored.state, stored.resolved_at) == ("assigned", None)
    assert events_of(resolved).last().reason == "指标尚未下达"


@pytest.mark.parametrize("state", ["reported", "assigned"])
def test_rejecting_a_blocker_needs_a_reason_and_keeps_it(org, reported, state):
    set_state(reported, state)
    with pytest.raises(ValidationError):
        services.blocker_transition(
            blocker=fresh(reported), transition="reject", actor=user(org, "secretariat")
        )

    services.blocker_transition(
        blocker=fresh(reported),
        transition="reject",
        actor=user(org, "secretariat"),
        reason="不属于项目问题",
    )

    stored = fresh(reported)
    assert (stored.state, stored.rejection_reason) == ("rejected", "不属于项目问题")


BLOCKER_TRANSITIONS = ["assign", "resolve", "close_out", "send_back", "reject"]
# The blocker is on org.project (led by the park) and its own lead unit is the department.
MAY_WORK_BLOCKER = {
    "secretariat": set(BLOCKER_TRANSITIONS),
    "dept_head": {"resolve"},
    "head": set(),
    "staff": set(),
    "supervisor": set(),
    "leader": set(),
    "other_leader": set(),
    "other_head": set(),
    "bank": set(),
    "owner": set(),
}


@pytest.mark.parametrize("role", MAY_WORK_BLOCKER)
def test_who_may_take_which_blocker_transition(org, project, role):
    blocker = BlockerFactory(project=project, lead_unit=org.department)

    allowed = {
        name
        for name in BLOCKER_TRANSITIONS
        if permissions.can_transition(user(org, role), blocker, name)
    }

    assert allowed == MAY_WORK_BLOCKER[role]


# Dockings


def test_recommending_a_case_to_an_institution_starts_a_docking_with_an_audit_event(org, project):
    docking = financing_services.docking_create(
        project=project, institution=org.bank_unit, actor=user(org, "secretariat")
    )

    assert fresh(docking).state == "recommended"
    [event] = events_of(docking)
    assert (event.action, event.project, event.changes) == (
        AuditAction.CREATED,
        project,
        {"institution": [None, org.bank_unit.pk]},
    )


@pytest.mark.parametrize("role", ["head", "supervisor", "bank"])
def test_only_the_secretariat_starts_dockings(org, project, role):
    with pytest.raises(PermissionDenied):
        financing_services.docking_create(project=project, institution=org.bank_unit, actor=user(org, role))

    assert not Docking.objects.exists()


def test_a_second_docking_with_the_same_institution_is_refused(org, project):
    financing_services.docking_create(
        project=project, institution=org.bank_unit, actor=user(org, "secretariat")
    )

    with pytest.raises(ValidationError) as refused:
        financing_services.docking_create(
            project=project, institution=org.bank_unit, actor=user(org, "secretariat")
        )

    assert list(refused.value.message_dict) == ["institution"]
    assert Docking.objects.count() == 1


def test_a_docking_goes_from_recommended_to_disbursed_one_audited_step_at_a_time(org, project):
    docking = DockingFactory(project=project, institution=org.bank_unit)
    steps = [
        ("contact", {}),
        ("start_due_diligence", {}),
        ("sign_intent", {"intent_amount": Decimal("30000000")}),
        ("approve_credit", {"credit_approved_amount": Decimal("28000000")}),
        ("disburse", {"disbursed_amount": Decimal("10000000"), "disbursed_on": DONE_ON}),
    ]

    for name, fields in steps:
        financing_services.docking_transition(
            docking=fresh(docking), transition=name, actor=user(org, "secretariat"), fields=fields
        )

    stored = fresh(docking)
    assert (
        stored.state,
        stored.credit_approved_amount,
        stored.disbursed_amount,
        stored.disbursed_on,
    ) == (
        "disbursed",
        Decimal("28000000.00"),
        Decimal("10000000.00"),
        DONE_ON,
    )
    assert [(e.transition, e.to_state) for e in events_of(docking)] == [
        ("contact", "contacted"),
        ("start_due_diligence", "due_diligence"),
        ("sign_intent", "intent_signed"),
        ("approve_credit", "credit_approved"),
        ("disburse", "disbursed"),
    ]


DOCKING_GUARDS = {
    "credit without an amount": (
        "intent_signed",
        "approve_credit",
        {},
        ["The approved credit amount is not given."],
    ),
    "disbursement without amount or date": (
        "credit_approved",
        "disburse",
        {},
        ["The disbursed amount is not given.", "The disbursement date is not given."],
    ),
    "disbursement above the credit": (
        "credit_approved",
        "disburse",
        {"disbursed_amount": Decimal("40000000"), "disbursed_on": DONE_ON},
        ["The disbursed amount exceeds the approved credit."],
    ),
}


@pytest.mark.parametrize("case", DOCKING_GUARDS)
def test_a_docking_step_is_blocked_until_its_amounts_are_given(org, project, case):
    state, name, fields, reasons = DOCKING_GUARDS[case]
    docking = set_state(
        DockingFactory(project=project, institution=org.bank_unit, credit_approved_amount=None),
        state,
    )
    if state == "credit_approved":
        Docking.objects.filter(pk=docking.pk).update(credit_approved_amount=Decimal("28000000"))

    with pytest.raises(services.TransitionBlocked) as blocked:
        financing_services.docking_transition(
            docking=fresh(docking), transition=name, actor=user(org, "secretariat"), fields=fields
        )

    assert blocked.value.reasons == reasons
    assert fresh(docking).state == state


def test_declining_a_docking_needs_a_reason_and_keeps_it(org, project):
    docking = DockingFactory(project=project, institution=org.bank_unit)
    with pytest.raises(ValidationError):
        financing_services.docking_transition(
            docking=fresh(docking), transition="decline", actor=user(org, "secretariat")
        )

    financing_services.docking_transition(
        docking=fresh(docking),
        transition="decline",
        actor=user(org, "secretariat"),
        reason="不符合授信条件",
    )

    stored = fresh(docking)
    assert (stored.state, stored.decline_reason) == ("declined", "不符合授信条件")


@pytest.mark.parametrize(
    "role", ["secretariat", "supervisor", "head", "staff", "leader", "bank", "owner"]
)
def test_the_secretariat_and_the_institution_itself_move_a_docking(org, project, role):
    docking = DockingFactory(project=project, institution=org.bank_unit)

    allowed = permissions.can_transition(user(org, role), docking, "contact")

    assert allowed is (role in ("secretariat", "bank"))


def test_another_institution_may_not_move_the_docking(org, project):
    from tests.cases.factories import PersonFactory, UnitFactory

    other_bank = UnitFactory(name="另一家银行", kind="institution")
    banker = PersonFactory(user__username="other_bank", unit=other_bank, role="institution")
    docking = DockingFactory(project=project, institution=org.bank_unit)

    assert not permissions.can_transition(banker.user, docking, "contact")


# A refused transition changes nothing


def _item(org, project):
    return PreworkItemFactory(project=project, approving_unit=org.department)


def _blocker(org, project, state="reported", lead_unit=None):
    return set_state(BlockerFactory(project=project, lead_unit=lead_unit), state)


def _docking(org, project, state="recommended"):
    return set_state(DockingFactory(project=project, institution=org.bank_unit), state)


REFUSALS = {
    "item done without a date": (
        _item,
        services.prework_item_transition,
        "item",
        dict(transition="complete", role="dept_head", fields={"document_number": "文号"}),
        services.TransitionBlocked,
    ),
    "item waived by the lead unit": (
        _item,
        services.prework_item_transition,
        "item",
        dict(transition="waive", role="head", reason="不需要"),
        PermissionDenied,
    ),
    "item waived without a reason": (
        _item,
        services.prework_item_transition,
        "item",
        dict(transition="waive", role="secretariat"),
        ValidationError,
    ),
    "item reopened while pending": (
        _item,
        services.prework_item_transition,
        "item",
        dict(transition="reopen", role="secretariat", reason="重新办理"),
        services.TransitionNotAvailable,
    ),
    "item started from a stale version": (
        _item,
        services.prework_item_transition,
        "item",
        dict(transition="start", role="secretariat", expected_version=0),
        services.Conflict,
    ),
    "blocker assigned with helpers but no lead unit": (
        _blocker,
        services.blocker_transition,
        "blocker",
        dict(transition="assign", role="secretariat", fields={"cooperating_units": ["department"]}),
        services.TransitionBlocked,
    ),
    "blocker assigned by the case's lead unit": (
        _blocker,
        services.blocker_transition,
        "blocker",
        dict(transition="assign", role="head", fields={"lead_unit": "park"}),
        PermissionDenied,
    ),
    "blocker rejected without a reason": (
        _blocker,
        services.blocker_transition,
        "blocker",
        dict(transition="reject", role="secretariat"),
        ValidationError,
    ),
    "blocker closed out before it is resolved": (
        _blocker,
        services.blocker_transition,
        "blocker",
        dict(transition="close_out", role="secretariat"),
        services.TransitionNotAvailable,
    ),
    "docking moved by a unit head": (
        _docking,
        financing_services.docking_transition,
        "docking",
        dict(transition="contact", role="head"),
        PermissionDenied,
    ),
    "docking declined without a reason": (
        _docking,
        financing_services.docking_transition,
        "docking",
        dict(transition="decline", role="secretariat"),
        ValidationError,
    ),
    "docking intent signed before contact": (
        _docking,
        financing_services.docking_transition,
        "docking",
        dict(
            transition="sign_intent", role="secretariat", fields={"intent_amount": Decimal("1000")}
        ),
        services.TransitionNotAvailable,
    ),
}


def _resolve_units(org, fields):
    resolved = {}
    for name, value in (fields or {}).items():
        if name == "lead_unit":
            value = getattr(org, value)
        elif name == "cooperating_units":
            value = [getattr(org, unit) for unit in value]
        resolved[name] = value
    return resolved


@pytest.mark.parametrize("case", REFUSALS)
def test_a_refused_transition_changes_no_state_no_version_and_writes_no_audit_event(
    org, project, case
):
    make, service, keyword, call, error = REFUSALS[case]
    record = make(org, project)
    before = row(record)

    with pytest.raises(error):
        service(
            **{keyword: fresh(record)},
            transition=call["transition"],
            actor=user(org, call["role"]),
            reason=call.get("reason", ""),
            fields=_resolve_units(org, call.get("fields")),
            expected_version=call.get("expected_version"),
        )

    assert row(record) == before
    assert not events_of(record).exists()


@pytest.mark.parametrize(
    "make,service,keyword",
    [
        (_item, services.prework_item_transition, "item"),
        (
            lambda org, project: _blocker(org, project, "assigned", lead_unit=org.park),
            services.blocker_transition,
            "blocker",
        ),
        (_docking, financing_services.docking_transition, "docking"),
    ],
    ids=["prework item", "blocker", "docking"],
)
def test_a_transition_on_a_copy_read_before_someone_elses_change_is_a_conflict(
    org, project, make, service, keyword
):
    record = make(org, project)
    stale = fresh(record)
    type(record).objects.filter(pk=record.pk).update(version=stale.version + 1)
    before = row(record)
    transition = {"item": "waive", "blocker": "reject", "docking": "decline"}[keyword]

    with pytest.raises(services.Conflict):
        service(
            **{keyword: stale}, transition=transition, actor=user(org, "secretariat"), reason="撤回"
        )

    assert row(record) == before
    assert not events_of(record).exists()


@pytest.mark.parametrize("stage", [Stage.COMPLETED, Stage.WITHDRAWN])
@pytest.mark.parametrize(("role", "record", "name"), [("head", "item", "complete"), ("staff", "item", "start")])
def test_on_a_finished_case_only_the_secretariat_moves_its_records(org, item, stage, role, record, name):
    set_stage(org.project, stage)
    finished_item = fresh(item)
    assert not permissions.can_transition(user(org, role), finished_item, name)
    assert permissions.can_transition(user(org, "secretariat"), finished_item, name)
    with pytest.raises(PermissionDenied):
        services.prework_item_transition(
            item=finished_item,
            transition=name,
            actor=user(org, role),
            fields={"done_on": datetime.date(2026, 5, 1)} if name == "complete" else None,
        )
    assert fresh(item).state == "pending"
