"""The compilation from open to published: the units' tasks, proposing, submitting, sending back
and accepting, publishing version 1; each guard refuses in words."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from viewflow.workflow.status import STATUS

from cases.models import AuditEvent, Stage
from tests.cases.factories import KeyProjectFactory, set_stage
from workflow.engine.models import TaskClock
from workflow.planning import services
from workflow.planning.models import PlanCompilation, PlanEntry, PlanProposal, ProposeProcess

from .conftest import WAN, YEAR, figures
from .helpers import open_compilation, open_task, propose, submit

pytestmark = pytest.mark.django_db


def test_opening_gives_each_unit_leading_reserve_cases_a_task_due_at_the_deadline(org):
    compilation = open_compilation(org)
    assert compilation.deadline == datetime.date(2026, 8, 31)
    units = set(ProposeProcess.objects.filter(compilation=compilation).values_list("unit_id", flat=True))
    assert units == {org.park.pk, org.other_unit.pk}
    clock = TaskClock.objects.get(task=open_task(compilation, org.park))
    assert clock.unit_id == org.park.pk
    assert clock.due_at.date() == datetime.date(2026, 8, 31)
    assert "2027" in clock.title


def test_a_unit_without_reserve_cases_gets_no_task(org):
    set_stage(org.other_project, Stage.PREWORK)
    compilation = open_compilation(org)
    assert not ProposeProcess.objects.filter(compilation=compilation, unit=org.other_unit).exists()


def test_only_the_secretariat_opens_a_compilation(org):
    with pytest.raises(PermissionDenied):
        services.compilation_open(actor=org.head.user, year=YEAR, target_total=Decimal(1))


def test_a_year_is_opened_once(org):
    open_compilation(org)
    with pytest.raises(ValidationError, match="open already"):
        open_compilation(org)


def test_a_deadline_in_the_past_is_refused(org):
    with pytest.raises(ValidationError, match="has passed"):
        open_compilation(org, deadline=datetime.date(2026, 5, 1))


def test_a_unit_proposes_its_reserve_case_with_the_three_year_plan(org):
    compilation = open_compilation(org)
    proposal = propose(org, compilation, org.project)
    assert proposal.state == PlanProposal.State.DRAFT
    assert proposal.unit == org.park
    assert (proposal.planned_year, proposal.planned_next, proposal.planned_after) == (
        Decimal(3000) * WAN, Decimal(2000) * WAN, Decimal(1000) * WAN)
    assert AuditEvent.objects.filter(object_id=str(proposal.pk), project=org.project).exists()


def test_a_case_not_in_reserve_is_refused(org):
    compilation = open_compilation(org)
    set_stage(org.project, Stage.PREWORK)
    with pytest.raises(ValidationError, match="not in the reserve pool"):
        propose(org, compilation, org.project)


def test_a_case_of_another_unit_is_refused(org):
    compilation = open_compilation(org)
    with pytest.raises(ValidationError, match="Choose one of your unit's reserve cases"):
        propose(org, compilation, org.other_project)


def test_no_amount_for_the_year_is_refused(org):
    compilation = open_compilation(org)
    with pytest.raises(ValidationError, match="Give the planned investment of 2027"):
        propose(org, compilation, org.project, planned=0)


def test_a_start_outside_the_year_is_refused(org):
    compilation = open_compilation(org)
    with pytest.raises(ValidationError, match="outside 2027"):
        propose(org, compilation, org.project, start=datetime.date(2028, 1, 5))


def test_three_years_beyond_the_remaining_investment_are_refused(org):
    compilation = open_compilation(org)
    with pytest.raises(ValidationError, match="exceeds what remains"):
        propose(org, compilation, org.project, planned=9000)


def test_a_case_proposed_twice_is_refused(org):
    compilation = open_compilation(org)
    propose(org, compilation, org.project)
    with pytest.raises(ValidationError, match="proposed already"):
        propose(org, compilation, org.project, person=org.staff)


def test_a_proposal_past_the_deadline_is_refused(org, clock):
    compilation = open_compilation(org)
    clock.move_to(datetime.datetime(2026, 9, 1, 10, tzinfo=datetime.UTC))
    with pytest.raises(ValidationError, match="deadline for proposals was 2026-08-31"):
        propose(org, compilation, org.project)


def test_the_secretariat_does_not_propose(org):
    compilation = open_compilation(org)
    with pytest.raises(PermissionDenied):
        propose(org, compilation, org.project, person=org.secretariat)


def test_submitting_without_a_proposal_is_refused(org):
    compilation = open_compilation(org)
    with pytest.raises(ValidationError, match="at least one"):
        submit(org, compilation)


def test_submitting_sends_the_proposals_and_finishes_the_task(org):
    compilation = open_compilation(org)
    propose(org, compilation, org.project)
    task = open_task(compilation, org.park)
    submit(org, compilation)
    assert set(PlanProposal.objects.values_list("state", flat=True)) == {PlanProposal.State.SUBMITTED}
    task.refresh_from_db()
    assert task.status == STATUS.DONE


def test_a_submitted_proposal_can_be_corrected_until_decided(org):
    compilation = open_compilation(org)
    proposal = propose(org, compilation, org.project)
    submit(org, compilation)
    services.proposal_save(actor=org.head.user, compilation_id=compilation.pk, project_id=org.project.pk,
                           data=figures(planned=2500), proposal_id=proposal.pk)
    proposal.refresh_from_db()
    assert proposal.planned_year == Decimal(2500) * WAN
    services.proposal_accept(actor=org.secretariat.user, proposal_id=proposal.pk)
    with pytest.raises(ValidationError, match="accepted"):
        services.proposal_save(actor=org.head.user, compilation_id=compilation.pk, project_id=org.project.pk,
                               data=figures(planned=2000), proposal_id=proposal.pk)


def test_sending_back_needs_a_reason(org):
    compilation = open_compilation(org)
    proposal = propose(org, compilation, org.project)
    submit(org, compilation)
    with pytest.raises(ValidationError, match="Say why"):
        services.proposal_return(actor=org.secretariat.user, proposal_id=proposal.pk, reason=" ")


def test_sending_back_opens_the_units_task_again_with_the_reason(org):
    compilation = open_compilation(org)
    proposal = propose(org, compilation, org.project)
    submit(org, compilation)
    services.proposal_return(actor=org.secretariat.user, proposal_id=proposal.pk, reason="用地手续未明确")
    proposal.refresh_from_db()
    assert proposal.state == PlanProposal.State.RETURNED
    assert proposal.return_reason == "用地手续未明确"
    assert open_task(compilation, org.park).status == STATUS.NEW


def test_a_corrected_proposal_sent_back_is_submitted_again(org, clock):
    compilation = open_compilation(org)
    proposal = propose(org, compilation, org.project)
    submit(org, compilation)
    services.proposal_return(actor=org.secretariat.user, proposal_id=proposal.pk, reason="金额过高")
    clock.move_to(datetime.datetime(2026, 9, 2, 10, tzinfo=datetime.UTC))  # past the deadline: still correctable
    services.proposal_save(actor=org.head.user, compilation_id=compilation.pk, project_id=org.project.pk,
                           data=figures(planned=2000), proposal_id=proposal.pk)
    submit(org, compilation)
    proposal.refresh_from_db()
    assert proposal.state == PlanProposal.State.SUBMITTED


def test_only_a_submitted_proposal_is_decided(org):
    compilation = open_compilation(org)
    proposal = propose(org, compilation, org.project)
    with pytest.raises(ValidationError, match="Only a submitted proposal"):
        services.proposal_accept(actor=org.secretariat.user, proposal_id=proposal.pk)


def test_publishing_waits_for_every_submitted_proposal_to_be_decided(org):
    compilation = open_compilation(org)
    propose(org, compilation, org.project)
    submit(org, compilation)
    with pytest.raises(ValidationError, match="wait for your decision"):
        services.compilation_publish(actor=org.secretariat.user, compilation_id=compilation.pk)


def test_publishing_nothing_accepted_is_refused(org):
    compilation = open_compilation(org)
    with pytest.raises(ValidationError, match="nothing to publish"):
        services.compilation_publish(actor=org.secretariat.user, compilation_id=compilation.pk)


def test_from_open_to_published(org):
    compilation = open_compilation(org)
    first = propose(org, compilation, org.project)
    second = propose(org, compilation, org.second, planned=1000)
    submit(org, compilation)
    services.proposal_accept(actor=org.secretariat.user, proposal_id=first.pk)
    services.proposal_return(actor=org.secretariat.user, proposal_id=second.pk, reason="前期不足")
    version = services.compilation_publish(actor=org.secretariat.user, compilation_id=compilation.pk)
    compilation.refresh_from_db()
    assert compilation.state == PlanCompilation.State.PUBLISHED
    assert version.number == 1
    entry = PlanEntry.objects.get(version=version)
    assert (entry.project_id, entry.planned_year, entry.planned_start) == (org.project.pk, Decimal(3000) * WAN, datetime.date(2027, 3, 1))
    # The units' open tasks close with the publication; the cases stay in the reserve pool.
    assert not ProposeProcess.objects.filter(compilation=compilation, finished__isnull=True).exists()
    assert not TaskClock.objects.filter(task__process__in=ProposeProcess.objects.filter(compilation=compilation),
                                        closed_at__isnull=True).exists()
    org.project.refresh_from_db()
    assert org.project.stage == Stage.RESERVE


def test_after_publishing_proposals_are_closed(org):
    compilation = open_compilation(org)
    proposal = propose(org, compilation, org.project)
    submit(org, compilation)
    services.proposal_accept(actor=org.secretariat.user, proposal_id=proposal.pk)
    services.compilation_publish(actor=org.secretariat.user, compilation_id=compilation.pk)
    with pytest.raises(ValidationError, match="published"):
        propose(org, compilation, org.second)


def test_a_new_reserve_case_of_a_unit_without_task_still_shows_nothing_else(org):
    KeyProjectFactory(code="2026-GX-0099", lead_unit=org.department)
    compilation = open_compilation(org)
    assert ProposeProcess.objects.filter(compilation=compilation, unit=org.department).exists()
