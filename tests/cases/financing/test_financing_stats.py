"""Financing statistics against figures computed by hand.

The world, on 15 June 2026 (this year's period: 1 January to 15 June 2026; last year's same
period: 1 January to 15 June 2025). Amounts in million yuan (M).

Cases: P1 = ``org.project`` (new materials, in the district, led by the park, stage docking);
P2 = ``org.other_project`` (biotech, in the other district, stage financing).
Institutions: bank A (``org.bank_unit``) with its branch A1, and bank B.

Needs                                   Dockings (steps taken through the services, on their days)
N1 P1 10M published 2026-02-10          D1 N1 A  opened 02-12, contacted 02-20, due diligence 03-01, intent 6M 03-10,
N2 P1  5M published 2026-03-05, closed           credit 5M 04-15, disbursed 4M 05-20
N3 P2  8M published 2026-03-20          D2 N1 B  opened 02-15, contacted 02-25, declined 03-02
N4 P2  3M published 2025-03-01          D3 N3 A1 opened 03-22, contacted 03-25, intent 8M 04-10
N5 P1  4M published 2025-08-01          D4 N4 B  opened 2025-03-05, contacted 03-06, intent 2M 2025-04-01,
N6 P2  7M a draft, never published               credit 2M 2025-05-10, disbursed 1.5M 2025-06-01
N7 P1  2M published 2026-01-15,         D5 N4 A  opened 2025-03-10, contacted 03-11, intent 1M 2025-12-01,
   then withdrawn                                credit 1M 2026-01-20
                                        D6 N2 B  opened 03-06, contacted 03-07, due diligence 03-08, intent 3M 03-15,
                                                 declined 04-01
                                        D7 N3 B  opened 04-01 (recommended)
                                        D8 N3 A  opened 05-01 (recommended)

By hand, this period against last year's:
  needed    N1+N2+N3 = 23M (3)  against N4 = 3M (1): +666.7 %
  intended  D1+D3 = 14M (2)     against D4 = 2M (1): +600.0 %   (D6 declined; D5's intent fell in December)
  approved  D1+D5 = 6M (2)      against D4 = 2M (1): +200.0 %
  disbursed D1 = 4M (1)         against D4 = 1.5M (1): +166.7 %
Funnel of the dockings opened this period (D1 D2 D3 D6 D7 D8): 6 recommended, 4 contacted (66.7 %),
3 at due diligence or beyond (75.0 %), 3 intents (100.0 %), 1 credit (33.3 %), 1 disbursed (100.0 %);
2 declined. Institutions per project: P1 has A and B (2), P2 has A1, B and A (3): average 2.50.
"""

import datetime
import io
from decimal import Decimal
from types import SimpleNamespace

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from cases.financing.models import Docking, FinancingNeed, NeedState
from cases.financing.services.dockings import docking_transition
from cases.financing.stats import statistics, statistics_workbook
from cases.models import KeyProject, Stage, UnitKind
from tests.cases.factories import DockingFactory, OrgFactory, UnitFactory, set_stage

M = Decimal("1000000")
TODAY = datetime.date(2026, 6, 15)
ZERO = Decimal("0")

pytestmark = pytest.mark.django_db


def at(year, month, day, hour=10):
    return timezone.make_aware(datetime.datetime(year, month, day, hour))


def need(project, millions, *, published=None, state=NeedState.PUBLISHED):
    return FinancingNeed.objects.create(
        project=project,
        amount=Decimal(millions) * M,
        financing_type="loan",
        purpose="设备购置",
        term_months=36,
        deadline=datetime.date(2027, 12, 31),
        state=state,
        industry=project.industry,
        stage=project.stage,
        region_id=project.region_id,
        published_at=published,
    )


def open_docking(need, institution, when):
    with time_machine.travel(when, tick=False):
        return DockingFactory(project=need.project, need=need, institution=institution, last_step_at=when)


def step(world, docking, name, when, **fields):
    with time_machine.travel(when, tick=False):
        return docking_transition(
            docking=Docking.objects.select_related("project", "need", "institution").get(pk=docking.pk),
            transition=name,
            actor=world.org.secretariat.user,
            reason="不符合授信条件" if name == "decline" else "",
            fields=fields,
        )


def build_world():
    org = OrgFactory.create()
    w = SimpleNamespace(org=org)
    w.p1 = set_stage(org.project, Stage.DOCKING)
    KeyProject.objects.filter(pk=org.other_project.pk).update(industry="biotech")
    w.p2 = set_stage(org.other_project, Stage.FINANCING)
    w.bank_a = org.bank_unit
    w.branch_a1 = UnitFactory(name="开发银行江城支行", kind=UnitKind.INSTITUTION, parent=w.bank_a)
    w.bank_b = UnitFactory(name="城市商业银行", kind=UnitKind.INSTITUTION)

    w.n1 = need(w.p1, 10, published=at(2026, 2, 10))
    w.n2 = need(w.p1, 5, published=at(2026, 3, 5))
    w.n3 = need(w.p2, 8, published=at(2026, 3, 20))
    w.n4 = need(w.p2, 3, published=at(2025, 3, 1))
    w.n5 = need(w.p1, 4, published=at(2025, 8, 1))
    w.n6 = need(w.p2, 7, state=NeedState.DRAFT)
    w.n7 = need(w.p1, 2, published=at(2026, 1, 15), state=NeedState.WITHDRAWN)

    w.d1 = open_docking(w.n1, w.bank_a, at(2026, 2, 12))
    step(w, w.d1, "contact", at(2026, 2, 20))
    step(w, w.d1, "start_due_diligence", at(2026, 3, 1))
    step(w, w.d1, "sign_intent", at(2026, 3, 10), intent_amount=6 * M)
    step(w, w.d1, "approve_credit", at(2026, 4, 15), credit_approved_amount=5 * M)
    step(w, w.d1, "disburse", at(2026, 5, 20), disbursed_amount=4 * M, disbursed_on=datetime.date(2026, 5, 20))

    w.d2 = open_docking(w.n1, w.bank_b, at(2026, 2, 15))
    step(w, w.d2, "contact", at(2026, 2, 25))
    step(w, w.d2, "decline", at(2026, 3, 2))

    w.d3 = open_docking(w.n3, w.branch_a1, at(2026, 3, 22))
    step(w, w.d3, "contact", at(2026, 3, 25))
    step(w, w.d3, "sign_intent", at(2026, 4, 10), intent_amount=8 * M)

    w.d4 = open_docking(w.n4, w.bank_b, at(2025, 3, 5))
    step(w, w.d4, "contact", at(2025, 3, 6))
    step(w, w.d4, "sign_intent", at(2025, 4, 1), intent_amount=2 * M)
    step(w, w.d4, "approve_credit", at(2025, 5, 10), credit_approved_amount=2 * M)
    step(w, w.d4, "disburse", at(2025, 6, 1), disbursed_amount=Decimal("1.5") * M, disbursed_on=datetime.date(2025, 6, 1))

    w.d5 = open_docking(w.n4, w.bank_a, at(2025, 3, 10))
    step(w, w.d5, "contact", at(2025, 3, 11))
    step(w, w.d5, "sign_intent", at(2025, 12, 1), intent_amount=1 * M)
    step(w, w.d5, "approve_credit", at(2026, 1, 20), credit_approved_amount=1 * M)

    w.d6 = open_docking(w.n2, w.bank_b, at(2026, 3, 6))
    step(w, w.d6, "contact", at(2026, 3, 7))
    step(w, w.d6, "start_due_diligence", at(2026, 3, 8))
    step(w, w.d6, "sign_intent", at(2026, 3, 15), intent_amount=3 * M)
    step(w, w.d6, "decline", at(2026, 4, 1))

    w.d7 = open_docking(w.n3, w.bank_b, at(2026, 4, 1))
    w.d8 = open_docking(w.n3, w.bank_a, at(2026, 5, 1))
    # the closed need was closed after its docking opened, as the services would have it
    FinancingNeed.objects.filter(pk=w.n2.pk).update(state=NeedState.CLOSED)
    w.no_person = User.objects.create_user("no_person_stats", password="x")
    return w


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once inside a transaction rolled back at the end; each test runs in a savepoint."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def figures(row):
    """A row's amounts in millions and counts, for comparing with the table above."""
    return {
        measure: (row[measure] / M, row[f"{measure}_count"]) for measure in ("needed", "intended", "approved", "disbursed")
    }


def millions(needed=(0, 0), intended=(0, 0), approved=(0, 0), disbursed=(0, 0)):
    return {
        "needed": (Decimal(needed[0]), needed[1]),
        "intended": (Decimal(intended[0]), intended[1]),
        "approved": (Decimal(approved[0]), approved[1]),
        "disbursed": (Decimal(disbursed[0]), disbursed[1]),
    }


P1_FIGURES = millions(needed=(15, 2), intended=(6, 1), approved=(5, 1), disbursed=(4, 1))
P2_FIGURES = millions(needed=(8, 1), intended=(8, 1), approved=(1, 1))


def test_the_totals_count_each_measure_in_its_own_period(world):
    # Given the world above, when the secretariat reads 2026 on 15 June
    data = statistics(world.org.secretariat.user, year=2026, today=TODAY)

    # Then each measure counts what reached it this period, and last year's same period beside it
    assert figures(data["totals"]) == millions(needed=(23, 3), intended=(14, 2), approved=(6, 2), disbursed=(4, 1))
    assert figures(data["previous_totals"]) == millions(
        needed=(3, 1), intended=(2, 1), approved=(2, 1), disbursed=(Decimal("1.5"), 1)
    )
    assert data["period"] == {"start": datetime.date(2026, 1, 1), "end": TODAY}
    assert data["previous_period"] == {"start": datetime.date(2025, 1, 1), "end": datetime.date(2025, 6, 15)}


def test_year_on_year_growth_compares_the_same_period(world):
    data = statistics(world.org.secretariat.user, year=2026, today=TODAY)

    assert data["growth"] == {
        "needed": Decimal("666.7"),
        "intended": Decimal("600.0"),
        "approved": Decimal("200.0"),
        "disbursed": Decimal("166.7"),
    }


def test_a_past_year_is_counted_whole_against_the_year_before(world):
    # When 2025 is read: N4 and N5 were published in 2025, D5's intent was signed in December
    data = statistics(world.org.secretariat.user, year=2025, today=TODAY)

    assert data["period"] == {"start": datetime.date(2025, 1, 1), "end": datetime.date(2025, 12, 31)}
    assert figures(data["totals"]) == millions(
        needed=(7, 2), intended=(3, 2), approved=(2, 1), disbursed=(Decimal("1.5"), 1)
    )
    # nothing happened in 2024: no growth can be said
    assert data["growth"] == {"needed": None, "intended": None, "approved": None, "disbursed": None}
    assert len(data["by_month"]) == 12


def test_by_month_each_amount_falls_in_the_month_its_step_was_taken(world):
    data = statistics(world.org.secretariat.user, year=2026, today=TODAY)

    months = {row["label"]: figures(row) for row in data["by_month"]}
    assert list(months) == ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
    assert months == {
        "2026-01": millions(approved=(1, 1)),
        "2026-02": millions(needed=(10, 1)),
        "2026-03": millions(needed=(13, 2), intended=(6, 1)),
        "2026-04": millions(intended=(8, 1), approved=(5, 1)),
        "2026-05": millions(disbursed=(4, 1)),
        "2026-06": millions(),
    }
    # and last year's same months beside them
    previous = {row["label"]: figures(row["previous"]) for row in data["by_month"]}
    assert previous["2026-03"] == millions(needed=(3, 1))
    assert previous["2026-04"] == millions(intended=(2, 1))
    assert previous["2026-05"] == millions(approved=(2, 1))
    assert previous["2026-06"] == millions(disbursed=(Decimal("1.5"), 1))
    assert previous["2026-01"] == previous["2026-02"] == millions()


def test_by_industry_region_and_stage_follow_the_case(world):
    data = statistics(world.org.secretariat.user, year=2026, today=TODAY)

    assert {row["key"]: figures(row) for row in data["by_industry"]} == {
        "new_materials": P1_FIGURES,
        "biotech": P2_FIGURES,
    }
    assert [row["key"] for row in data["by_industry"]] == ["new_materials", "biotech"]  # the most needed first
    assert {row["label"]: figures(row) for row in data["by_region"]} == {"江城区": P1_FIGURES, "东湖区": P2_FIGURES}
    assert [(row["key"], figures(row)) for row in data["by_stage"]] == [
        ("docking", P1_FIGURES),
        ("financing", P2_FIGURES),
    ]


def test_by_institution_counts_each_branch_as_itself(world):
    data = statistics(world.org.secretariat.user, year=2026, today=TODAY)

    assert [(row["label"], figures(row)) for row in data["by_institution"]] == [
        ("开发银行", millions(intended=(6, 1), approved=(6, 2), disbursed=(4, 1))),
        ("开发银行江城支行", millions(intended=(8, 1))),
    ]


def test_the_funnel_counts_dockings_reaching_each_step_and_the_share_of_the_step_before(world):
    data = statistics(world.org.secretariat.user, year=2026, today=TODAY)

    steps = [(s["state"], s["count"], s["conversion"], s["share_of_first"]) for s in data["funnel"]["steps"]]
    assert steps == [
        ("recommended", 6, None, Decimal("100.0")),
        ("contacted", 4, Decimal("66.7"), Decimal("66.7")),
        ("due_diligence", 3, Decimal("75.0"), Decimal("50.0")),
        ("intent_signed", 3, Decimal("100.0"), Decimal("50.0")),
        ("credit_approved", 1, Decimal("33.3"), Decimal("16.7")),
        ("disbursed", 1, Decimal("100.0"), Decimal("16.7")),
    ]
    assert data["funnel"]["declined"] == 2


def test_institutions_per_project_average_and_distribution(world):
    data = statistics(world.org.secretariat.user, year=2026, today=TODAY)

    assert data["institutions_per_project"] == {
        "projects": 2,
        "dockings": 5,
        "average": Decimal("2.50"),
        "distribution": [{"institutions": 2, "projects": 1}, {"institutions": 3, "projects": 1}],
    }


def test_an_institution_sees_only_its_own_figures_with_its_branches(world):
    # bank A's people act for A and its branch A1: D1, D3, D5, D8; the needs they dock on: N1, N3 (and N4 last year)
    data = statistics(world.org.bank.user, year=2026, today=TODAY)

    assert figures(data["totals"]) == millions(needed=(18, 2), intended=(14, 2), approved=(6, 2), disbursed=(4, 1))
    assert figures(data["previous_totals"]) == millions(needed=(3, 1))
    assert data["growth"] == {"needed": Decimal("500.0"), "intended": None, "approved": None, "disbursed": None}
    assert {row["label"] for row in data["by_institution"]} == {"开发银行", "开发银行江城支行"}
    assert [s["count"] for s in data["funnel"]["steps"]] == [3, 2, 2, 2, 1, 1]
    assert data["funnel"]["declined"] == 0
    # P1 with A, P2 with A1 and A
    assert data["institutions_per_project"]["distribution"] == [
        {"institutions": 1, "projects": 1},
        {"institutions": 2, "projects": 1},
    ]


def test_unit_people_see_their_cases_figures(world):
    # the park's head leads P1 only
    data = statistics(world.org.head.user, year=2026, today=TODAY)

    assert figures(data["totals"]) == P1_FIGURES
    assert figures(data["previous_totals"]) == millions()
    assert [row["key"] for row in data["by_industry"]] == ["new_materials"]
    assert [s["count"] for s in data["funnel"]["steps"]] == [3, 3, 2, 2, 1, 1]


def test_leaders_see_every_figure(world):
    # the other leader answers for neither case's lead unit, and still reads the whole city's financing
    data = statistics(world.org.other_leader.user, year=2026, today=TODAY)

    assert figures(data["totals"]) == millions(needed=(23, 3), intended=(14, 2), approved=(6, 2), disbursed=(4, 1))


@pytest.mark.parametrize("who", ["owner", "no_person"])
def test_roles_without_statistics_are_refused(world, who):
    user = world.no_person if who == "no_person" else world.org.owner.user
    with pytest.raises(PermissionDenied):
        statistics(user, year=2026, today=TODAY)


def test_filters_narrow_every_figure(world):
    data = statistics(world.org.secretariat.user, year=2026, today=TODAY, industry="biotech")
    assert figures(data["totals"]) == P2_FIGURES
    assert data["filters"] == {"industry": "biotech"}

    data = statistics(world.org.secretariat.user, year=2026, today=TODAY, region=world.p1.region_id)
    assert figures(data["totals"]) == P1_FIGURES

    data = statistics(world.org.secretariat.user, year=2026, today=TODAY, stage=Stage.FINANCING)
    assert figures(data["totals"]) == P2_FIGURES

    # bank B docks on N1, N2, N3 (this year) and N4 (last year); none of its dockings got anywhere this year
    data = statistics(world.org.secretariat.user, year=2026, today=TODAY, institution=world.bank_b.pk)
    assert figures(data["totals"]) == millions(needed=(23, 3))
    assert figures(data["previous_totals"]) == millions(
        needed=(3, 1), intended=(2, 1), approved=(2, 1), disbursed=(Decimal("1.5"), 1)
    )
    assert data["funnel"]["declined"] == 2

    assert figures(statistics(world.org.secretariat.user, year=2026, today=TODAY, financing_type="bond")["totals"]) == millions()


def test_an_unknown_filter_is_an_error(world):
    with pytest.raises(TypeError):
        statistics(world.org.secretariat.user, year=2026, today=TODAY, colour="red")


# The workbook, the page and the API


def test_the_workbook_carries_the_same_figures_in_ten_thousand_yuan(world):
    data = statistics(world.org.secretariat.user, year=2026, today=TODAY)
    book = load_workbook(io.BytesIO(statistics_workbook(data)))

    assert book.sheetnames == [
        "Summary", "By month", "By industry", "By institution", "By region", "By stage", "Funnel",
        "Institutions per project",
    ]
    summary = [row for row in book["Summary"].iter_rows(min_row=2, max_row=5, values_only=True)]
    assert summary == [
        ("Needed", 2300, 300, 666.7, 3, 1),
        ("Intended", 1400, 200, 600, 2, 1),
        ("Credit approved", 600, 200, 200, 2, 1),
        ("Disbursed", 400, 150, 166.7, 1, 1),
    ]
    months = {row[0]: row[1:] for row in book["By month"].iter_rows(min_row=2, values_only=True)}
    assert months["2026-03"] == (1300, 2, 600, 1, 0, 0, 0, 0, 300, 0, 0, 0)
    assert months["2026-06"] == (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 150)
    institutions = [row for row in book["By institution"].iter_rows(min_row=2, values_only=True)]
    assert institutions == [("开发银行", 0, 0, 600, 1, 600, 2, 400, 1), ("开发银行江城支行", 0, 0, 800, 1, 0, 0, 0, 0)]
    funnel = [row for row in book["Funnel"].iter_rows(min_row=2, values_only=True)]
    assert funnel[1] == ("Contacted", 4, 66.7, 66.7) and funnel[-1] == ("Declined", 2, None, None)
    spread = [row for row in book["Institutions per project"].iter_rows(min_row=2, values_only=True)]
    assert spread[:2] == [(2, 1), (3, 1)] and spread[-1] == ("average institutions per project", 2.5)


def travel_today():
    return time_machine.travel(at(2026, 6, 15, 12), tick=False)


def test_the_page_shows_the_figures_with_charts_and_data_tables(world):
    client = Client()
    client.force_login(world.org.secretariat.user)
    with travel_today():
        response = client.get(reverse("financing:statistics"), {"year": 2026})

    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("<svg") >= 5
    assert 'data-figure="needed">2,300.00' in page
    assert 'data-growth="needed">+666.7' in page
    assert 'data-chart="by_month"' in page and "<td>1,300.00</td>" in page


def test_the_page_is_refused_to_roles_without_statistics(world):
    client = Client()
    client.force_login(world.org.owner.user)
    assert client.get(reverse("financing:statistics")).status_code == 403


def test_the_page_downloads_the_workbook_with_the_filters(world):
    client = Client()
    client.force_login(world.org.secretariat.user)
    with travel_today():
        response = client.get(reverse("financing:statistics_xlsx"), {"year": 2026, "industry": "biotech"})

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="financing-statistics-2026.xlsx"'
    book = load_workbook(io.BytesIO(response.content))
    assert list(book["Summary"].iter_rows(min_row=2, max_row=2, values_only=True)) == [("Needed", 800, 300, 166.7, 1, 1)]


def test_the_api_gives_the_same_figures(world):
    client = Client()
    client.force_login(world.org.bank.user)
    with travel_today():
        response = client.get("/api/financing/statistics/", {"year": 2026})

    assert response.status_code == 200
    body = response.json()
    assert body["totals"]["needed"] == "18000000.00" and body["totals"]["intended_count"] == 2
    assert body["growth"]["needed"] == "500.0" and body["growth"]["approved"] is None
    assert [row["label"] for row in body["by_month"]][:2] == ["2026-01", "2026-02"]
    assert body["by_month"][0]["approved"] == "1000000.00"
    assert [s["count"] for s in body["funnel"]["steps"]] == [3, 2, 2, 2, 1, 1]
    assert body["institutions_per_project"]["average"] == "1.50"


def test_the_api_gives_the_workbook(world):
    client = Client()
    client.force_login(world.org.head.user)
    with travel_today():
        response = client.get("/api/financing/statistics/xlsx/", {"year": 2026})

    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert list(book["Summary"].iter_rows(min_row=2, max_row=2, values_only=True)) == [("Needed", 1500, 0, None, 2, 0)]


@pytest.mark.parametrize(
    "query", [{"year": "soon"}, {"year": "1999"}, {"industry": "nonsense"}, {"region": "x"}, {"stage": "nowhere"}]
)
def test_the_api_says_which_parameter_is_wrong(world, query):
    client = Client()
    client.force_login(world.org.secretariat.user)
    response = client.get("/api/financing/statistics/", query)
    assert response.status_code == 400
    assert set(response.json()) == set(query)


def test_an_institution_cannot_ask_for_another_institutions_figures(world):
    client = Client()
    client.force_login(world.org.bank.user)

    with travel_today():
        response = client.get("/api/financing/statistics/", {"institution": world.bank_b.pk})
        own_branch = client.get("/api/financing/statistics/", {"institution": world.branch_a1.pk})

    assert response.status_code == 400 and set(response.json()) == {"institution"}
    assert own_branch.status_code == 200 and own_branch.json()["totals"]["intended"] == "8000000.00"


def test_the_api_refuses_roles_without_statistics(world):
    client = Client()
    client.force_login(world.org.owner.user)
    assert client.get("/api/financing/statistics/").status_code == 403
    assert client.get("/api/financing/statistics/xlsx/").status_code == 403


# Query counts


def bulk_world(org, size):
    """``size`` more published needs over two years, with a docking on every fifth."""
    banks = [UnitFactory(kind=UnitKind.INSTITUTION) for _ in range(5)]
    projects = [org.project, org.other_project]
    start = at(2025, 1, 1)
    needs = FinancingNeed.objects.bulk_create(
        FinancingNeed(
            project=projects[index % 2],
            amount=Decimal(1000000 + index),
            financing_type="loan",
            purpose="流动资金",
            term_months=12,
            deadline=datetime.date(2027, 1, 1),
            state=NeedState.PUBLISHED,
            published_at=start + datetime.timedelta(hours=13 * index % (500 * 24)),
        )
        for index in range(size)
    )
    states = ["recommended", "contacted", "intent_signed", "credit_approved", "disbursed", "declined"]
    Docking.objects.bulk_create(
        Docking(
            project=need.project,
            need=need,
            institution=banks[index % 5],
            state=states[index % 6],
            intent_amount=Decimal(500000),
            credit_approved_amount=Decimal(400000),
            disbursed_amount=Decimal(300000),
            disbursed_on=datetime.date(2026, 1 + index % 5, 1),
            last_step_at=need.published_at,
        )
        for index, need in enumerate(needs[::5])
    )


@pytest.mark.parametrize("size", [1000, 20000])
def test_the_statistics_cost_the_same_queries_at_any_size(world, size):
    org = world.org
    before = FinancingNeed.objects.count()
    bulk_world(org, size)
    assert FinancingNeed.objects.count() == before + size
    client = Client()
    client.force_login(org.secretariat.user)
    counts = {}
    with travel_today():
        for name, url in (
            ("page", reverse("financing:statistics")),
            ("xlsx", reverse("financing:statistics_xlsx")),
            ("api", "/api/financing/statistics/"),
        ):
            client.get(url)  # warm the caches a running server has
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            assert response.status_code == 200, name
            counts[name] = len(queries)
        with CaptureQueriesContext(connection) as queries:
            data = statistics(org.secretariat.user)
    assert data["totals"]["needed_count"] > 0
    counts["statistics"] = len(queries)
    assert counts == QUERIES


# Six grouped queries; a request adds six for its session, user and person (the session is saved
# on every request), the page its reader's unread count and the filter form's two lists of units.
QUERIES = {"statistics": 6, "api": 12, "xlsx": 12, "page": 16}
