"""The pipeline in a real browser, in Chinese, on a desktop and on a phone: a park's head proposes a
project idea (谋划) from the reserve pool; the secretariat finds it in the pool, reads why a too small
idea may not enter, and lets the head's idea into the reserve pool."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from cases import services
from cases.models import EntryThreshold, Industry, KeyProject, ProjectType, Stage
from tests.e2e.test_roles_browser import _chinese, check, log_in, zh  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def choose(page, name, value):
    """Pick ``value`` in the Material select ``name`` as a person does: open it, click the option."""
    page.locator(f"vf-field-select[name={name}] .mdc-select__anchor").click()
    page.locator(f"vf-field-select[name={name}] li[data-value='{value}']").click()


def test_a_head_proposes_an_idea_and_the_secretariat_lets_it_into_the_reserve_pool(org, zh, browser, live_server):  # noqa: F811
    page = zh
    # Given the industrial projects' entry threshold of 1 亿元 (the migrations' data, which the flush
    # of an earlier transactional test takes away) and a too small idea of the park in the pipeline
    EntryThreshold.objects.update_or_create(
        project_type=ProjectType.INDUSTRIAL, defaults={"minimum_investment": Decimal("100000000")}
    )
    small = services.project_propose_idea(
        actor=org.head.user,
        data={
            "name": "高新区小型谋划项目",
            "industry": Industry.NEW_MATERIALS,
            "project_type": ProjectType.INDUSTRIAL,
            "region": org.district,
            "total_investment": Decimal("30000000"),
            "land_area_mu": Decimal("10"),
        },
    )

    # When the head opens the reserve pool from the menu and proposes an idea in 万元
    log_in(page, org.head)
    page.goto("/cases/pool/")
    check(page)
    expect(page.get_by_text("高新区小型谋划项目")).to_be_visible()
    page.get_by_role("link", name="提出谋划项目").click()
    page.wait_for_url(re.compile(r"/cases/pool/ideas/add/$"))
    check(page)
    page.locator("input[name=name]").fill("高新区智能传感器谋划项目")
    choose(page, "industry", Industry.NEXT_GEN_IT)
    choose(page, "region", org.district.pk)
    page.locator("input[name=total_investment]").fill("25,000")
    page.locator("input[name=land_area_mu]").fill("120")
    page.locator("input[name=planned_start]").fill("2027-09-01")
    page.get_by_role("button", name="保存").click()

    # Then its case page shows it in 谋划, led by the park
    page.wait_for_url(re.compile(r"/cases/projects/\d+/detail/$"))
    check(page)
    expect(page.locator("[data-stage=idea]")).to_be_visible()
    idea = KeyProject.objects.get(name="高新区智能传感器谋划项目")
    assert idea.stage == Stage.IDEA and idea.lead_unit == org.park and idea.total_investment == Decimal("250000000")

    # When the secretariat filters the pool to the ideas below the threshold
    secretariat = browser.new_context(
        base_url=live_server.url, locale="zh-CN", viewport=page.viewport_size,
        extra_http_headers={"Accept-Language": "zh-hans"},
    ).new_page()
    log_in(secretariat, org.secretariat)
    secretariat.goto("/cases/pool/?stage=idea&threshold=below")
    check(secretariat)
    expect(secretariat.get_by_text("高新区小型谋划项目")).to_be_visible()
    expect(secretariat.get_by_text("高新区智能传感器谋划项目")).to_have_count(0)

    # Then the small idea's page says why it may not enter the pool
    secretariat.goto(f"/cases/projects/{small.pk}/detail/")
    check(secretariat)
    enter = secretariat.locator("li.kp-transition[data-transition=enter_reserve]")
    expect(enter.locator(".kp-reasons")).to_contain_text("低于储备库对产业类项目的入库门槛")

    # and the head's idea enters it
    secretariat.goto(f"/cases/projects/{idea.pk}/detail/")
    secretariat.locator("li.kp-transition[data-transition=enter_reserve]").get_by_role("link", name="纳入储备库").click()
    secretariat.wait_for_url(re.compile(rf"/cases/projects/{idea.pk}/transition/enter_reserve/$"))
    check(secretariat)
    secretariat.get_by_role("button", name="确认").click()
    secretariat.wait_for_url(re.compile(rf"/cases/projects/{idea.pk}/detail/$"))
    expect(secretariat.locator("[data-stage=reserve]")).to_be_visible()
    idea.refresh_from_db()
    assert idea.stage == Stage.RESERVE
    secretariat.context.close()
