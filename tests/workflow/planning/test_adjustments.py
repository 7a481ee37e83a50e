"""Adjusting a published plan: the window, an added, dropped and re-planned case each with a
reason making the next version, audited, and the difference between two versions; and what the
monthly cycle reads of the published plan."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models import OuterRef

from cases.models import AnnualPlan, AuditEvent, KeyProject, Stage
from tests.cases.factories import KeyProjectFactory
from workflow.monthly import dashboard
from workflow.planning import adjustments, figures, selectors, services
from workflow.planning.models import PlanVersion

from .conftest import WAN, YEAR
from .conftest import figures as plan_figures
from .helpers import open_compilation, propose, submit

pytestmark = pytest.mark.django_db
C = PlanVersion.Change


@pytest.fixture
def published(org):
    compilation = open_compilation(org)
    proposal = propose(org, compilation, org.project)
    submit(org, compilation)
    services.proposal_accept(actor=org.secretariat.user, proposal_id=proposal.pk)
    services.compilation_publish(actor=org.secretariat.user, compilation_id=compilation.pk)
    compilation.refresh_from_db()
    return compilation


@pytest.fixture
def window(org, published):
    return adjustments.adjustment_window_set(
        actor=org.secretariat.user, compilation_id=published.pk,
        start=datetime.date(2026, 6, 1), end=datetime.date(2026, 6, 30),
    )


def adjust(org, compilation, change, project, reason="市政府调整", **kwargs):
    return adjustments.plan_adjust(actor=org.secretariat.user, compilation_id=compilation.pk, change=change,
                                   project_id=project.pk, data=plan_figures(**kwargs), reason=reason)


def test_without_a_window_a_change_is_refused(org, published):
    with pytest.raises(ValidationError, match="No adjustment window"):
        adjust(org, published, C.ADDED, org.second)


def test_outside_the_window_a_change_is_refused(org, published):
    adjustments.adjustment_window_set(actor=org.secretariat.user, compilation_id=published.pk,
                                      start=datetime.date(2026, 7, 1), end=datetime.date(2026, 7, 31))
    with pytest.raises(ValidationError, match="from 2026-07-01 to 2026-07-31"):
        adjust(org, published, C.ADDED, org.second)


def test_a_window_ending_before_it_starts_is_refused(org, published):
    with pytest.raises(ValidationError, match="ends before it starts"):
        adjustments.adjustment_window_set(actor=org.secretariat.user, compilation_id=published.pk,
                                          start=datetime.date(2026, 7, 2), end=datetime.date(2026, 7, 1))


def test_a_change_needs_a_reason(org, window):
    with pytest.raises(ValidationError, match="Say why"):
        adjust(org, window, C.ADDED, org.second, reason="")


def test_adding_a_case_makes_version_two_audited(org, window):
    version = adjust(org, window, C.ADDED, org.second, planned=500)
    assert version.number == 2
    assert set(version.entries.values_list("project_id", flat=True)) == {org.project.pk, org.second.pk}
    event = AuditEvent.objects.get(object_id=str(version.pk), project=org.second)
    assert event.reason == "市政府调整"


def test_adding_a_case_on_the_plan_is_refused(org, window):
    with pytest.raises(ValidationError, match="on the plan already"):
        adjust(org, window, C.ADDED, org.project)


def test_dropping_a_case_not_on_the_plan_is_refused(org, window):
    with pytest.raises(ValidationError, match="not on the plan"):
        adjust(org, window, C.DROPPED, org.second)


def test_replanning_nothing_is_refused(org, window):
    with pytest.raises(ValidationError, match="Nothing changes"):
        adjust(org, window, C.REPLANNED, org.project)


def test_the_difference_shows_added_dropped_and_changed_old_to_new(org, window):
    adjust(org, window, C.ADDED, org.second, planned=500)
    adjust(org, window, C.REPLANNED, org.project, planned=2800, start=datetime.date(2027, 5, 1))
    third = KeyProjectFactory(code="2026-GX-0010", lead_unit=org.park)
    adjust(org, window, C.ADDED, third, planned=100)
    adjust(org, window, C.DROPPED, third)
    versions = {v.number: v for v in window.versions.all()}
    diff = selectors.difference(versions[1], versions[5])
    assert [e.project_id for e in diff["added"]] == [org.second.pk]
    assert diff["dropped"] == []
    [changed] = diff["changed"]
    assert changed["fields"] == [
        ("planned_year", Decimal(3000) * WAN, Decimal(2800) * WAN),
        ("planned_start", datetime.date(2027, 3, 1), datetime.date(2027, 5, 1)),
    ]
    assert [e.project_id for e in selectors.difference(versions[4], versions[5])["dropped"]] == [third.pk]


def planned_of(project, year):
    return KeyProject.objects.annotate(p=figures.planned_investment(year, OuterRef("pk"))).get(pk=project.pk).p


def test_the_monthly_cycle_reads_the_latest_published_figure(org, window):
    AnnualPlan.objects.create(project=org.project, year=YEAR, planned_investment=Decimal("1"))
    assert planned_of(org.project, YEAR) == Decimal(3000) * WAN
    adjust(org, window, C.REPLANNED, org.project, planned=2800)
    assert planned_of(org.project, YEAR) == Decimal(2800) * WAN
    # A case off the published plan has no plan for the year, whatever its own annual plan says.
    AnnualPlan.objects.create(project=org.second, year=YEAR, planned_investment=Decimal("5"))
    assert planned_of(org.second, YEAR) is None


def test_a_year_without_a_published_plan_reads_the_cases_annual_plan(org):
    AnnualPlan.objects.create(project=org.project, year=2026, planned_investment=Decimal("123.00"))
    assert planned_of(org.project, 2026) == Decimal("123.00")


def test_the_dashboard_plans_the_year_with_the_published_plan(org, published):
    # Given the published plan of 2027 with the case at 3,000 万元, its own annual plan saying 1 yuan,
    # and a case off the plan whose annual plan says 5 yuan, both under construction
    KeyProject.objects.filter(pk__in=[org.project.pk, org.second.pk]).update(stage=Stage.CONSTRUCTION)
    AnnualPlan.objects.create(project=org.project, year=YEAR, planned_investment=Decimal("1"), completed_investment=Decimal("7"))
    AnnualPlan.objects.create(project=org.second, year=YEAR, planned_investment=Decimal("5"), completed_investment=Decimal("2"))
    # When the dashboard counts the year's investment in June
    figures_ = dashboard.investment_by_month(datetime.date(YEAR, 6, 30))
    # Then the plan is the published one, and the completion the cases' own
    assert figures_["planned"] == Decimal(3000) * WAN
    assert figures_["completed"] == Decimal("9")
