"""The annual plan's pages: who sees what, the unit's proposing page and task, the secretariat's
check with its decisions, publishing, the window and an adjustment, the difference; and the check
page's queries do not grow with the proposals."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from tests.cases.factories import KeyProjectFactory
from workflow.planning import adjustments, services
from workflow.planning.models import PlanProposal, PlanTarget

from .conftest import WAN, YEAR
from .helpers import open_compilation, open_task, propose, submit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def page(name, year):
    return f"{reverse(f'planning:{name}')}?year={year}"


def as_user(client, person):
    client.force_login(person.user)
    return client


def test_the_index_opens_a_compilation_with_targets_in_wan(client, org):
    as_user(client, org.secretariat)
    response = client.post(reverse("planning:index"), {
        "year": YEAR, "deadline": "2026-08-31", "target_total": "12,000", "group_territorial": "8000",
        "industry_new_materials": "5000",
    })
    assert response.status_code == 302
    compilation = services.PlanCompilation.objects.get(year=YEAR)
    assert compilation.target_total == Decimal(12000) * WAN
    assert compilation.targets.get(kind=PlanTarget.Kind.GROUP, key="territorial").amount == Decimal(8000) * WAN


def test_a_unit_head_may_not_open_a_compilation(client, org):
    as_user(client, org.head)
    assert client.post(reverse("planning:index"), {"year": YEAR, "target_total": "1"}).status_code == 403


def test_anonymous_is_sent_to_log_in(client, org):
    compilation = open_compilation(org)
    response = client.get(page("compilation", compilation.year))
    assert response.status_code == 302 and "login" in response["Location"]


def test_an_owner_may_not_read_the_plan(client, org):
    open_compilation(org)
    as_user(client, org.owner)
    assert client.get(page("compilation", YEAR)).status_code == 403


def test_a_unit_proposes_on_its_page_and_errors_name_the_field(client, org):
    compilation = open_compilation(org)
    as_user(client, org.head)
    url = page("propose", compilation.year)
    bad = client.post(url, {"project": org.project.pk, "planned_year": "3000", "planned_next": "0",
                            "planned_after": "0", "planned_start": "2028-02-01"})
    assert bad.status_code == 200
    assert "outside 2027" in bad.content.decode()
    assert not PlanProposal.objects.exists()
    good = client.post(url, {"project": org.project.pk, "planned_year": "3,000", "planned_next": "2000",
                             "planned_after": "1000", "planned_start": "2027-03-01"})
    assert good.status_code == 302
    assert PlanProposal.objects.get().planned_year == Decimal(3000) * WAN


def test_correcting_a_proposal_shows_its_amounts_in_wan_and_saving_it_unchanged_keeps_them(client, org):
    # Given the park's proposal of 3,000 万元 this year, 2,000 next and 1,000 after (stored in yuan)
    compilation = open_compilation(org)
    proposal = propose(org, compilation, org.project)
    as_user(client, org.head)
    url = page("propose", compilation.year) + f"&proposal={proposal.pk}"
    # When the head opens it to correct it
    form = client.get(url).context["form"]
    # Then the boxes read 万元, and saving them as they are changes nothing
    boxes = [str(form[name].field.prepare_value(form[name].value())) for name in ("planned_year", "planned_next", "planned_after")]
    assert boxes == ["3,000.00", "2,000.00", "1,000.00"]
    saved = client.post(url, {"project": org.project.pk, "planned_year": form["planned_year"].value(),
                              "planned_next": form["planned_next"].value(), "planned_after": form["planned_after"].value(),
                              "planned_start": "2027-03-01"})
    assert saved.status_code == 302
    proposal.refresh_from_db()
    assert (proposal.planned_year, proposal.planned_next, proposal.planned_after) == (
        Decimal(3000) * WAN, Decimal(2000) * WAN, Decimal(1000) * WAN
    )


def test_the_units_task_shows_its_proposals_and_submits_them(client, org):
    compilation = open_compilation(org)
    propose(org, compilation, org.project)
    task = open_task(compilation, org.park)
    as_user(client, org.head)
    url = task.flow_task.reverse("execute", args=[task.process_id, task.pk])
    services.engine_services.claim_task(task=task, user=org.head.user)
    page = client.get(url)
    assert page.status_code == 200 and org.project.code in page.content.decode()
    assert client.post(url, {"note": ""}).status_code == 302
    assert PlanProposal.objects.get().state == PlanProposal.State.SUBMITTED


def test_the_secretariat_sends_back_and_accepts_on_the_check_page(client, org):
    compilation = open_compilation(org)
    first = propose(org, compilation, org.project)
    second = propose(org, compilation, org.second, planned=1000)
    submit(org, compilation)
    as_user(client, org.secretariat)
    back = client.post(reverse("planning:decide"), {"proposal": second.pk, "decision": "return", "reason": ""}, follow=True)
    assert "Say why" in back.content.decode()
    client.post(reverse("planning:decide"), {"proposal": second.pk, "decision": "return", "reason": "前期不足"})
    client.post(reverse("planning:decide"), {"proposal": first.pk, "decision": "accept"})
    assert dict(PlanProposal.objects.values_list("pk", "state")) == {
        first.pk: PlanProposal.State.ACCEPTED, second.pk: PlanProposal.State.RETURNED}
    html = client.get(page("compilation", YEAR)).content.decode()
    assert "前期不足" in html
    assert client.post(page("publish", YEAR)).status_code == 302
    assert compilation.versions.count() == 1


def test_a_unit_may_not_decide(client, org):
    compilation = open_compilation(org)
    proposal = propose(org, compilation, org.project)
    as_user(client, org.head)
    assert client.post(reverse("planning:decide"), {"proposal": proposal.pk, "decision": "accept"}).status_code == 403


def test_an_adjustment_on_its_page_shows_the_difference(client, org):
    compilation = open_compilation(org)
    proposal = propose(org, compilation, org.project)
    submit(org, compilation)
    services.proposal_accept(actor=org.secretariat.user, proposal_id=proposal.pk)
    services.compilation_publish(actor=org.secretariat.user, compilation_id=compilation.pk)
    as_user(client, org.secretariat)
    client.post(page("window", YEAR), {"adjust_from": "2026-06-01", "adjust_to": "2026-06-30"})
    response = client.post(page("adjust", YEAR), {
        "change": "replanned", "project": org.project.pk, "planned_year": "2800", "planned_next": "2000",
        "planned_after": "1000", "planned_start": "2027-03-01", "reason": "资金调整"}, follow=True)
    html = response.content.decode()
    assert response.status_code == 200
    assert "3,000.00 → 2,800.00" in html


def test_outside_the_window_the_adjustment_is_refused_in_words(client, org):
    compilation = open_compilation(org)
    proposal = propose(org, compilation, org.project)
    submit(org, compilation)
    services.proposal_accept(actor=org.secretariat.user, proposal_id=proposal.pk)
    services.compilation_publish(actor=org.secretariat.user, compilation_id=compilation.pk)
    adjustments.adjustment_window_set(actor=org.secretariat.user, compilation_id=compilation.pk,
                                      start=datetime.date(2026, 7, 1), end=datetime.date(2026, 7, 2))
    as_user(client, org.secretariat)
    response = client.post(page("adjust", YEAR), {
        "change": "dropped", "project": org.project.pk, "reason": "x"})
    assert "outside the window" in response.content.decode()


def many_proposals(org, compilation, count):
    projects = KeyProjectFactory.create_batch(count, lead_unit=org.park)
    PlanProposal.objects.bulk_create([
        PlanProposal(compilation=compilation, project=p, unit=org.park, planned_year=WAN, planned_next=0,
                     planned_after=0, planned_start=datetime.date(YEAR, 5, 1), state=PlanProposal.State.SUBMITTED)
        for p in projects
    ])


def check_queries(client, org):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(page("compilation", YEAR))
    assert response.status_code == 200
    return len(queries)


def test_the_check_page_queries_do_not_grow_with_the_proposals(client, org):
    compilation = open_compilation(org)
    as_user(client, org.secretariat)
    many_proposals(org, compilation, 3)
    few = check_queries(client, org)
    many_proposals(org, compilation, 30)
    assert check_queries(client, org) == few
