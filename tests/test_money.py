"""Money in one unit: every page and form people read shows amounts in 万元, grouped, two places;
none shows a raw yuan figure where 万元 is meant. Stored in yuan (a case of 1,234,567,800 yuan
reads 123,456.78 万元), in English and in Chinese."""

import datetime
import re
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from cases.financing import services as financing_services
from cases.models import AnnualPlan, Stage
from tests.cases.factories import set_stage
from workflow.engine import services as engine_services
from workflow.monthly import services as monthly_services
from workflow.monthly.models import MonthlyReport

TOTAL, GAP, NEED = Decimal("1234567800"), Decimal("987654300"), Decimal("98765400")
# The figures in yuan, as they would show if a page forgot the unit: plain, grouped, with cents.
RAW = [r"1,?234,?567,?800", r"987,?654,?300", r"98,?765,?400"]
WAN = {"total": "123,456.78", "gap": "98,765.43", "need": "9,876.54"}
NOW = timezone.make_aware(datetime.datetime(2026, 11, 2, 9))


@pytest.fixture
def money(org, django_capture_on_commit_callbacks):
    with time_machine.travel(NOW, tick=False):
        project = set_stage(
            org.project, Stage.DOCKING, total_investment=TOTAL, investment_completed_total=Decimal("0"), capital_gap=GAP
        )
        AnnualPlan.objects.update_or_create(project=project, year=2026, defaults={"planned_investment": TOTAL / 4})
        need = financing_services.need_create(
            project=project, actor=org.secretariat.user,
            data={"amount": NEED, "financing_type": "loan", "purpose": "设备购置", "term_months": 60,
                  "deadline": datetime.date(2027, 6, 30), "collateral": "土地使用权抵押"},
        )
        financing_services.need_transition(need=need, transition="submit", actor=org.secretariat.user)
        need = financing_services.need_transition(need=need, transition="publish", actor=org.secretariat.user)
        docking = financing_services.docking_create(need=need, institution=org.bank_unit, actor=org.secretariat.user)
        set_stage(project, Stage.CONSTRUCTION)
        with django_capture_on_commit_callbacks(execute=True):
            monthly_services.reports_open(month=datetime.date(2026, 10, 1))
    report = MonthlyReport.objects.get(project=project)
    return {"project": project, "need": need, "docking": docking, "report": report}


def shown(client, url, language):
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language, follow=True)
    assert response.status_code == 200, url
    body = response.content.decode()
    # What a person reads: the text, and what the inputs hold (not ids in the markup).
    values = " ".join(re.findall(r'<(?:input|vf-field-input)[^>]*\svalue="([^"]*)"', body))
    return re.sub(r"<script.*?</script>|<[^>]+>", " ", body, flags=re.S) + " " + values


def assert_in_wan(text, url, *expected):
    for pattern in RAW:
        found = re.search(rf"(?<![\d,.]){pattern}(?![\d,])", text)
        assert not found, f"{url} shows {pattern} yuan raw: {text[max(found.start() - 80, 0):found.end() + 40]!r}"
    for name in expected:
        assert WAN[name] in text, f"{url} does not show {name} as {WAN[name]} 万元"


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_secretariats_pages_and_forms_show_wan(org, money, as_user, language):
    client = as_user(org.secretariat)
    project, need, report = money["project"], money["need"], money["report"]
    pages = {
        "/cases/projects/": ("total",),
        f"/cases/projects/{project.pk}/detail/": ("total", "gap"),
        f"/cases/projects/{project.pk}/change/": ("total", "gap"),
        f"/financing/needs/{need.pk}/": ("need",),
        "/financing/needs/": ("need",),
        f"/financing/dockings/{money['docking'].pk}/": ("need",),
        f"/workflow/reports/{report.pk}/": (),
        "/workflow/dashboard/": (),
    }
    for url, expected in pages.items():
        assert_in_wan(shown(client, url, language), url, *expected)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_report_form_and_the_banks_pages_show_wan(org, money, as_user, client, language):
    task = money["report"].process.task_set.get(flow_task__endswith="write")
    engine_services.claim_task(task=task, user=org.head.user)
    head = as_user(org.head)
    url = f"/workflow/flows/report/{task.process_id}/write/{task.pk}/execute/"
    assert_in_wan(shown(head, url, language), url, "total")

    bank = as_user(org.bank)
    for url, expected in {
        "/financing/portal/": ("need",),
        "/financing/portal/dockings/": ("need",),
        "/my-work/": ("need",),
    }.items():
        assert_in_wan(shown(bank, url, language), url, *expected)


def test_the_check_sees_a_raw_yuan_figure():
    with pytest.raises(AssertionError, match="yuan raw"):
        assert_in_wan("总投资 1234567800.00 元", "/a/page/")
    with pytest.raises(AssertionError, match="yuan raw"):
        assert_in_wan("Total investment 1,234,567,800.00", "/a/page/")
    assert_in_wan("总投资 123,456.78 万元", "/a/page/", "total")
