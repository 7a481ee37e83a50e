"""The stage guards of DESIGN section 4: what blocks each transition, said in words, and that
fixing the cause lets the transition through."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from cases import services
from cases.models import (
    ACTIVE_STAGES,
    AnnualPlan,
    AuditEvent,
    KeyProject,
    PreworkKind,
    PreworkState,
    Stage,
)
from tests.cases.factories import (
    AnnualPlanFactory,
    DockingFactory,
    PreworkItemFactory,
    ready_to_select,
    set_stage,
    set_state,
)

GAP = Decimal("30000000.00")  # 3,000 ten-thousand yuan, the factory's capital gap
STARTED = datetime.date(2026, 4, 1)


def update(project, **fields):
    KeyProject.objects.filter(pk=project.pk).update(**fields)


def take(org, project, name, reason=""):
    return services.project_transition(
        project_id=project.pk, transition=name, actor=org.secretariat.user, reason=reason
    )


def this_year():
    return timezone.localdate().year


def assert_blocked_with(org, project, name, reasons):
    """The transition is refused with exactly ``reasons``, and the case is as it was."""
    before = KeyProject.objects.get(pk=project.pk)
    with pytest.raises(services.TransitionBlocked) as blocked:
        take(org, project, name)
    assert blocked.value.reasons == reasons
    after = KeyProject.objects.get(pk=project.pk)
    assert (after.stage, after.version) == (before.stage, before.version)
    assert not AuditEvent.objects.filter(project=project, transition=name).exists()


def assert_goes_through(org, project, name, target):
    moved = take(org, project, name)
    assert moved.stage == target
    assert KeyProject.objects.get(pk=project.pk).stage == target
    assert AuditEvent.objects.filter(project=project, transition=name).count() == 1


def permit(project, state=PreworkState.DONE):
    item = PreworkItemFactory(project=project, kind=PreworkKind.CONSTRUCTION_PERMIT)
    return set_state(item, state)


# reserve -> prework (select)


def _no_plan(org, project):
    AnnualPlan.objects.filter(project=project).delete()


def _plan_for_last_year(org, project):
    AnnualPlan.objects.filter(project=project).update(year=this_year() - 1)


SELECT_CAUSES = {
    "no lead unit": (
        lambda org, p: update(p, lead_unit=None),
        lambda org, p: update(p, lead_unit=org.park),
        "No lead unit is set.",
    ),
    "no responsible leader": (
        lambda org, p: update(p, responsible_leader=None),
        lambda org, p: update(p, responsible_leader=org.leader),
        "No responsible leader is set.",
    ),
    "no total investment": (
        lambda org, p: update(p, total_investment=0, capital_gap=0),
        lambda org, p: update(p, total_investment=Decimal("80000000")),
        "The total investment is not set.",
    ),
    "no annual plan": (
        _no_plan,
        lambda org, p: AnnualPlanFactory(project=p),
        "No planned investment is set for {year}.",
    ),
    "an annual plan for another year only": (
        _plan_for_last_year,
        lambda org, p: AnnualPlanFactory(project=p),
        "No planned investment is set for {year}.",
    ),
    "a planned investment of zero this year": (
        lambda org, p: AnnualPlan.objects.filter(project=p).update(planned_investment=0),
        lambda org, p: AnnualPlan.objects.filter(project=p).update(
            planned_investment=Decimal("1000000")
        ),
        "No planned investment is set for {year}.",
    ),
    "no planned start": (
        lambda org, p: update(p, planned_start=None),
        lambda org, p: update(p, planned_start=datetime.date(2026, 3, 1)),
        "The planned start date is not set.",
    ),
    "no planned finish": (
        lambda org, p: update(p, planned_finish=None),
        lambda org, p: update(p, planned_finish=datetime.date(2028, 12, 31)),
        "The planned finish date is not set.",
    ),
}


@pytest.mark.parametrize("cause", SELECT_CAUSES)
def test_selecting_a_case_is_blocked_until_the_missing_fact_is_given(org, cause):
    breaks, fixes, reason = SELECT_CAUSES[cause]
    project = ready_to_select(org.project, leader=org.leader)
    breaks(org, project)

    assert_blocked_with(org, project, "select", [reason.format(year=this_year())])

    fixes(org, project)
    assert_goes_through(org, project, "select", Stage.PREWORK)


def test_selecting_an_empty_case_names_everything_that_is_missing(org):
    update(org.project, lead_unit=None, responsible_leader=None, total_investment=0, capital_gap=0)

    assert_blocked_with(
        org,
        org.project,
        "select",
        [
            "No lead unit is set.",
            "No responsible leader is set.",
            "The total investment is not set.",
            f"No planned investment is set for {this_year()}.",
            "The planned start date is not set.",
            "The planned finish date is not set.",
        ],
    )


# prework -> docking (open_docking)


@pytest.fixture
def docking_ready(org):
    """In pre-work with a capital gap and its one required item done."""
    project = set_stage(org.project, Stage.PREWORK)
    set_state(PreworkItemFactory(project=project, kind=PreworkKind.LAND), PreworkState.DONE)
    return project


def _unsettled(state):
    def breaks(org, project):
        project._item = set_state(
            PreworkItemFactory(project=project, kind=PreworkKind.ENERGY), state
        )

    return breaks


OPEN_DOCKING_CAUSES = {
    "a required item pending": (
        _unsettled(PreworkState.PENDING),
        lambda org, p: set_state(p._item, PreworkState.DONE),
        ["Required pre-work items are neither done nor waived: Energy review."],
    ),
    "a required item in progress": (
        _unsettled(PreworkState.IN_PROGRESS),
        lambda org, p: set_state(p._item, PreworkState.WAIVED),
        ["Required pre-work items are neither done nor waived: Energy review."],
    ),
    "no capital gap": (
        lambda org, p: update(p, capital_gap=0),
        lambda org, p: update(p, capital_gap=GAP),
        ["The capital gap is zero: a fully funded project starts construction instead."],
    ),
}


@pytest.mark.parametrize("cause", OPEN_DOCKING_CAUSES)
def test_opening_docking_is_blocked_until_the_cause_is_fixed(org, docking_ready, cause):
    breaks, fixes, reasons = OPEN_DOCKING_CAUSES[cause]
    breaks(org, docking_ready)

    assert_blocked_with(org, docking_ready, "open_docking", reasons)

    fixes(org, docking_ready)
    assert_goes_through(org, docking_ready, "open_docking", Stage.DOCKING)


def test_in_chinese_the_reason_names_the_items_with_the_enumeration_comma(org, docking_ready):
    set_state(PreworkItemFactory(project=docking_ready, kind=PreworkKind.EIA), PreworkState.IN_PROGRESS)
    PreworkItemFactory(project=docking_ready, kind=PreworkKind.OTHER, title="水土保持方案")
    with translation.override("zh-hans"), pytest.raises(services.TransitionBlocked) as blocked:
        take(org, docking_ready, "open_docking")
    assert blocked.value.reasons == ["以下必办前期手续尚未办结或免办：环境影响评价、水土保持方案。"]


def test_the_reason_lists_every_unsettled_required_item(org, docking_ready):
    set_state(
        PreworkItemFactory(project=docking_ready, kind=PreworkKind.EIA), PreworkState.IN_PROGRESS
    )
    PreworkItemFactory(project=docking_ready, kind=PreworkKind.OTHER, title="水土保持方案")

    assert_blocked_with(
        org,
        docking_ready,
        "open_docking",
        [
            "Required pre-work items are neither done nor waived: Environmental impact assessment, 水土保持方案."
        ],
    )


def test_an_item_that_is_not_required_does_not_hold_a_case_back(org, docking_ready):
    PreworkItemFactory(project=docking_ready, kind=PreworkKind.ENERGY, required=False)

    assert_goes_through(org, docking_ready, "open_docking", Stage.DOCKING)


# prework -> construction (start_construction, fully funded)


@pytest.fixture
def funded_ready(org):
    """In pre-work, nothing to finance, the permit done and work begun."""
    project = set_stage(org.project, Stage.PREWORK, capital_gap=0, actual_start=STARTED)
    project._permit = permit(project)
    set_state(PreworkItemFactory(project=project, kind=PreworkKind.LAND), PreworkState.WAIVED)
    return project


FUNDED_CAUSES = {
    "a capital gap": (
        lambda org, p: update(p, capital_gap=GAP),
        lambda org, p: update(p, capital_gap=0),
        ["The capital gap is 3,000.00 ten-thousand yuan: financing must be secured first."],
    ),
    "a required item pending": (
        _unsettled(PreworkState.PENDING),
        lambda org, p: set_state(p._item, PreworkState.DONE),
        ["Required pre-work items are neither done nor waived: Energy review."],
    ),
    "no construction permit": (
        lambda org, p: p._permit.delete(),
        lambda org, p: permit(p),
        ["The construction permit is not done."],
    ),
    "a construction permit that was waived": (
        lambda org, p: set_state(p._permit, PreworkState.WAIVED),
        lambda org, p: set_state(p._permit, PreworkState.DONE),
        ["The construction permit is not done."],
    ),
    "a construction permit in progress": (
        lambda org, p: set_state(p._permit, PreworkState.IN_PROGRESS),
        lambda org, p: set_state(p._permit, PreworkState.DONE),
        [
            "Required pre-work items are neither done nor waived: Construction permit.",
            "The construction permit is not done.",
        ],
    ),
    "no actual start": (
        lambda org, p: update(p, actual_start=None),
        lambda org, p: update(p, actual_start=STARTED),
        ["The actual start date is not recorded."],
    ),
}


@pytest.mark.parametrize("cause", FUNDED_CAUSES)
def test_starting_a_funded_case_from_prework_is_blocked_until_the_cause_is_fixed(
    org, funded_ready, cause
):
    breaks, fixes, reasons = FUNDED_CAUSES[cause]
    breaks(org, funded_ready)

    assert_blocked_with(org, funded_ready, "start_construction", reasons)

    fixes(org, funded_ready)
    assert_goes_through(org, funded_ready, "start_construction", Stage.CONSTRUCTION)


# docking -> financing (secure_financing)


@pytest.fixture
def in_docking(org):
    return set_stage(org.project, Stage.DOCKING)


def _docking(org, project, state):
    project._docking = set_state(DockingFactory(project=project, institution=org.bank_unit), state)


def _second_docking(org, project, state, **amounts):
    docking = DockingFactory(project=project, **amounts)
    return set_state(docking, state)


SECURE_CAUSES = {
    "no docking at all": (
        lambda org, p: None,
        lambda org, p: _docking(org, p, "intent_signed"),
    ),
    "a docking only contacted": (
        lambda org, p: _docking(org, p, "contacted"),
        lambda org, p: set_state(p._docking, "intent_signed"),
    ),
    "a docking in due diligence": (
        lambda org, p: _docking(org, p, "due_diligence"),
        lambda org, p: _second_docking(org, p, "credit_approved", credit_approved_amount=GAP),
    ),
    "a declined docking": (
        lambda org, p: _docking(org, p, "declined"),
        lambda org, p: _second_docking(org, p, "disbursed"),
    ),
}


@pytest.mark.parametrize("cause", SECURE_CAUSES)
def test_moving_to_financing_is_blocked_until_an_intent_is_signed(org, in_docking, cause):
    breaks, fixes = SECURE_CAUSES[cause]
    breaks(org, in_docking)

    assert_blocked_with(
        org,
        in_docking,
        "secure_financing",
        ["No docking with a financial institution has a signed intent yet."],
    )

    fixes(org, in_docking)
    assert_goes_through(org, in_docking, "secure_financing", Stage.FINANCING)


# financing -> construction (start_construction, financed)


@pytest.fixture
def financed_ready(org):
    """In financing, credit approved for the whole gap, the permit done and work begun."""
    project = set_stage(org.project, Stage.FINANCING, actual_start=STARTED)
    project._permit = permit(project)
    project._docking = set_state(
        DockingFactory(project=project, institution=org.bank_unit, credit_approved_amount=GAP),
        "credit_approved",
    )
    return project


def _credit(amount):
    def breaks(org, project):
        type(project._docking).objects.filter(pk=project._docking.pk).update(
            credit_approved_amount=amount
        )

    return breaks


FINANCED_CAUSES = {
    "credit short of the gap, then waived by the secretariat": (
        _credit(Decimal("20000000")),
        lambda org, p: update(p, financing_waiver_reason="市政府专题会议同意先行开工"),
        [
            "Approved credit of 2,000.00 ten-thousand yuan does not cover the capital gap of "
            "3,000.00 ten-thousand yuan, and the secretariat has not waived it."
        ],
    ),
    "credit short of the gap, then topped up by a second institution": (
        _credit(Decimal("20000000")),
        lambda org, p: _second_docking(
            org, p, "disbursed", credit_approved_amount=Decimal("10000000")
        ),
        [
            "Approved credit of 2,000.00 ten-thousand yuan does not cover the capital gap of "
            "3,000.00 ten-thousand yuan, and the secretariat has not waived it."
        ],
    ),
    "credit amount given but not yet approved": (
        lambda org, p: set_state(p._docking, "intent_signed"),
        lambda org, p: set_state(p._docking, "credit_approved"),
        [
            "Approved credit of 0.00 ten-thousand yuan does not cover the capital gap of "
            "3,000.00 ten-thousand yuan, and the secretariat has not waived it."
        ],
    ),
    "no construction permit": (
        lambda org, p: p._permit.delete(),
        lambda org, p: permit(p),
        ["The construction permit is not done."],
    ),
    "no actual start": (
        lambda org, p: update(p, actual_start=None),
        lambda org, p: update(p, actual_start=STARTED),
        ["The actual start date is not recorded."],
    ),
}


@pytest.mark.parametrize("cause", FINANCED_CAUSES)
def test_starting_a_financed_case_is_blocked_until_the_cause_is_fixed(org, financed_ready, cause):
    breaks, fixes, reasons = FINANCED_CAUSES[cause]
    breaks(org, financed_ready)

    assert_blocked_with(org, financed_ready, "start_construction", reasons)

    fixes(org, financed_ready)
    assert_goes_through(org, financed_ready, "start_construction", Stage.CONSTRUCTION)


# construction -> completed (complete)


@pytest.fixture
def built(org):
    return set_stage(
        org.project,
        Stage.CONSTRUCTION,
        actual_start=STARTED,
        actual_finish=datetime.date(2027, 10, 1),
        completion_accepted_on=datetime.date(2027, 10, 20),
    )


COMPLETE_CAUSES = {
    "no completion acceptance": (
        lambda org, p: update(p, completion_accepted_on=None),
        lambda org, p: update(p, completion_accepted_on=datetime.date(2027, 10, 20)),
        ["The completion acceptance is not recorded."],
    ),
    "no actual finish": (
        lambda org, p: update(p, actual_finish=None),
        lambda org, p: update(p, actual_finish=datetime.date(2027, 10, 1)),
        ["The actual finish date is not recorded."],
    ),
    "neither": (
        lambda org, p: update(p, actual_finish=None, completion_accepted_on=None),
        lambda org, p: update(
            p,
            actual_finish=datetime.date(2027, 10, 1),
            completion_accepted_on=datetime.date(2027, 10, 20),
        ),
        ["The completion acceptance is not recorded.", "The actual finish date is not recorded."],
    ),
}


@pytest.mark.parametrize("cause", COMPLETE_CAUSES)
def test_completing_a_case_is_blocked_until_the_acceptance_is_recorded(org, built, cause):
    breaks, fixes, reasons = COMPLETE_CAUSES[cause]
    breaks(org, built)

    assert_blocked_with(org, built, "complete", reasons)

    fixes(org, built)
    assert_goes_through(org, built, "complete", Stage.COMPLETED)


# Suspension


def test_suspending_a_case_needs_a_reason_and_changes_nothing_without_one(org):
    project = set_stage(org.project, Stage.DOCKING)

    with pytest.raises(ValidationError) as refused:
        take(org, project, "suspend", reason="   ")

    assert refused.value.message_dict == {"reason": ["Give a reason for this step."]}
    after = KeyProject.objects.get(pk=project.pk)
    assert (after.stage, after.version, after.stage_before_suspension) == (
        Stage.DOCKING,
        project.version,
        "",
    )
    assert not AuditEvent.objects.filter(project=project).exists()


@pytest.mark.parametrize("stage", ACTIVE_STAGES)
def test_resuming_returns_a_case_to_the_stage_it_left(org, stage):
    project = set_stage(org.project, stage)
    suspended = take(org, project, "suspend", reason="企业资金链紧张")
    assert (suspended.stage, suspended.stage_before_suspension) == (Stage.SUSPENDED, stage)

    resumed = take(org, project, "resume")

    assert resumed.stage == stage
    events = AuditEvent.objects.filter(project=project).order_by("id")
    assert [(e.transition, e.from_state, e.to_state) for e in events] == [
        ("suspend", stage, Stage.SUSPENDED),
        ("resume", Stage.SUSPENDED, stage),
    ]
    assert events[0].reason == "企业资金链紧张"


def test_the_resume_option_names_the_stage_the_case_left(org):
    project = set_stage(org.project, Stage.FINANCING)
    take(org, project, "suspend", reason="停工整改")

    options = services.transition_options(
        KeyProject.objects.get(pk=project.pk), org.secretariat.user
    )

    assert [(o.name, o.target, o.target_label) for o in options] == [
        ("resume", "financing", "Financing")
    ]


@pytest.mark.parametrize(
    "stage", [Stage.RESERVE, Stage.COMPLETED, Stage.WITHDRAWN, Stage.SUSPENDED]
)
def test_a_case_that_is_not_active_cannot_be_suspended(org, stage):
    project = set_stage(org.project, stage)

    with pytest.raises(services.TransitionNotAvailable):
        take(org, project, "suspend", reason="暂停")

    assert KeyProject.objects.get(pk=project.pk).stage == stage


# Withdrawal


@pytest.mark.parametrize("stage", [Stage.RESERVE, Stage.PREWORK, Stage.DOCKING])
def test_a_case_can_be_withdrawn_from_reserve_prework_or_docking(org, stage):
    project = set_stage(org.project, stage)

    withdrawn = take(org, project, "withdraw", reason="企业放弃投资")

    assert withdrawn.stage == Stage.WITHDRAWN
    event = AuditEvent.objects.get(project=project, transition="withdraw")
    assert (event.from_state, event.to_state, event.reason) == (
        stage,
        Stage.WITHDRAWN,
        "企业放弃投资",
    )


@pytest.mark.parametrize(
    "stage,label",
    [
        (Stage.FINANCING, "Financing"),
        (Stage.CONSTRUCTION, "Under construction"),
        (Stage.COMPLETED, "Completed"),
        (Stage.SUSPENDED, "Suspended"),
        (Stage.WITHDRAWN, "Withdrawn"),
    ],
)
def test_a_case_cannot_be_withdrawn_from_later_stages(org, stage, label):
    project = set_stage(org.project, stage)

    with pytest.raises(services.TransitionNotAvailable) as refused:
        take(org, project, "withdraw", reason="企业放弃投资")

    assert str(refused.value) == f"“withdraw” is not possible from the current state ({label})."
    assert KeyProject.objects.get(pk=project.pk).stage == stage
    assert not AuditEvent.objects.filter(project=project).exists()


def test_withdrawing_a_case_needs_a_reason(org):
    with pytest.raises(ValidationError) as refused:
        take(org, org.project, "withdraw")

    assert "reason" in refused.value.message_dict
    assert KeyProject.objects.get(pk=org.project.pk).stage == Stage.RESERVE
